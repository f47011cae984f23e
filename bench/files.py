"""Files: upload and download speed and memory through the real server, and a big folder's list.

    .venv/bin/python bench/files.py [--megabytes 200] [--files 1000]

1. A 200 MB file uploaded to /files/upload/ and downloaded from /files/<id>/download/ through
   gunicorn (one worker, so its memory is the server's), next to a plain ``cp`` of the same file
   in the same run; the worker's peak resident memory (VmHWM) before and after.
(cp and the download: the median of three runs.)
2. 1,000 files in one folder: the folder page's time (median of 7 requests, first page of 50).
Aims: peak RSS grows by less than 50 MB; download at least 0.5x cp.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _setup import scratch_database

CHUNK = 1024 * 1024


def _worker_pid(master: int) -> int:
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return int(children[0]) if children else master


def _memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            values[key] = int(value.split()[0]) * 1024
    return values["VmRSS"], values["VmHWM"]


def _gunicorn_master(port: int) -> int:
    output = subprocess.run(["pgrep", "-f", "gunicorn config.wsgi"], capture_output=True, text=True).stdout.split()
    for pid in output:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if f"PORT={port}".encode() in environ:
            return int(pid)
    raise RuntimeError("gunicorn master not found")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()

    plan, database = scratch_database("files_bench")
    from core.tenancy import tenant
    from storage import services
    from storage.models import StorageFile
    from testutils.liveserver import gunicorn, login
    from testutils.testing import PASSWORD, make_user

    user = make_user("files-bench@example.com", tier="ENTERPRISE")
    work = Path(tempfile.mkdtemp(prefix="files-bench-"))
    media = work / "media"
    media.mkdir()
    source = work / "big.bin"
    with source.open("wb") as handle:
        for _ in range(args.megabytes):
            handle.write(os.urandom(CHUNK))
    size = source.stat().st_size
    cp_runs = []
    for _ in range(3):  # the machine may be shared: the median of three
        started = time.monotonic()
        subprocess.run(["cp", str(source), str(work / "copy.bin")], check=True)
        subprocess.run(["sync"], check=True)
        cp_runs.append(time.monotonic() - started)
        (work / "copy.bin").unlink()
    cp_seconds = statistics.median(cp_runs)
    megabytes = size / CHUNK
    print(f"cp of {megabytes:.0f} MB: {cp_seconds:.2f} s = {megabytes / cp_seconds:.0f} MB/s")

    env = {"MEDIA_ROOT": str(media), "FILES_MAX_UPLOAD_BYTES": str(size * 2)}
    with gunicorn(database=database, env=env, workers=1, threads=4) as url:
        port = int(url.rsplit(":", 1)[1])
        worker = _worker_pid(_gunicorn_master(port))
        client = login(url, user.email, PASSWORD)
        client.timeout = 600
        page = client.get("/files/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        rss_before, hwm_before = _memory(worker)

        started = time.monotonic()
        with source.open("rb") as handle:
            response = client.post("/files/upload/", data={"csrfmiddlewaretoken": token}, files={"files": ("big.bin", handle)},
                                   headers={"Accept": "application/json", "Referer": f"{url}/files/"})
        upload_seconds = time.monotonic() - started
        if response.status_code != 200:
            raise SystemExit(f"upload failed: {response.status_code} {response.text[:300]}")
        file_id = response.json()["files"][0]["id"]
        _, hwm_upload = _memory(worker)

        download_runs = []
        for _ in range(3):
            started = time.monotonic()
            received = 0
            with client.stream("GET", f"/files/{file_id}/download/") as download:
                for piece in download.iter_bytes(CHUNK):
                    received += len(piece)
            download_runs.append(time.monotonic() - started)
        download_seconds = statistics.median(download_runs)
        curl_seconds = None
        if shutil.which("curl"):  # a client in C: what the server can send, without Python's client loop
            cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
            curl_runs = []
            for _ in range(3):
                started = time.monotonic()
                subprocess.run(["curl", "-sf", "-o", "/dev/null", "-H", f"Cookie: {cookies}",
                                f"{url}/files/{file_id}/download/"], check=True)
                curl_runs.append(time.monotonic() - started)
            curl_seconds = statistics.median(curl_runs)
        _, hwm_download = _memory(worker)
        assert received == size, (received, size)

        print(f"upload   {megabytes:.0f} MB: {upload_seconds:.2f} s = {megabytes / upload_seconds:.0f} MB/s "
              f"({cp_seconds / upload_seconds:.2f}x cp)")
        print(f"download {megabytes:.0f} MB: {download_seconds:.2f} s = {megabytes / download_seconds:.0f} MB/s "
              f"({cp_seconds / download_seconds:.2f}x cp)   aim >= 0.5x cp")
        if curl_seconds:
            print(f"download {megabytes:.0f} MB with curl: {curl_seconds:.2f} s = {megabytes / curl_seconds:.0f} MB/s "
                  f"({cp_seconds / curl_seconds:.2f}x cp)")
        print(f"server worker RSS before {rss_before / CHUNK:.0f} MB; peak after upload {hwm_upload / CHUNK:.0f} MB, "
              f"after download {hwm_download / CHUNK:.0f} MB; growth {(hwm_download - max(hwm_before, rss_before)) / CHUNK:.1f} MB"
              f"   aim < 50 MB")

        folder = services.folder_create(user=user, name="Big folder")
        with tenant(user.id):
            StorageFile.objects.bulk_create([
                StorageFile(user=user, folder=folder, filename=f"file-{n:05}.txt", original_name=f"file-{n:05}.txt",
                            storage_path=f"general/{user.id}/{n}", size=n + 1, checksum=f"{n:064x}")
                for n in range(args.files)
            ])
        timings = []
        for _ in range(8):
            started = time.monotonic()
            listing = client.get(f"/files/folders/{folder.pk}/")
            timings.append(time.monotonic() - started)
            assert listing.status_code == 200 and f"{args.files:,} files".replace(",", "") in listing.text.replace(",", "")
        print(f"folder of {args.files} files, first page: median {statistics.median(timings[1:]) * 1000:.1f} ms "
              f"(first request {timings[0] * 1000:.1f} ms)")
    subprocess.run(["rm", "-rf", str(work)], check=True)
    from config import bootstrap

    bootstrap.drop_database(plan, database)


if __name__ == "__main__":
    main()
