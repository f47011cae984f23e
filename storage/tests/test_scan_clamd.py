"""Virus scanning against a real clamd (Debian's clamav-daemon) started by the test on a unix
socket, with a signature database written here holding only the EICAR test file's signature (no
download). Skipped, with the reason printed, when clamd is not installed or does not start."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.tenancy import tenant
from storage import scanning, services
from storage.errors import ScanFailed
from storage.models import StorageFile, StorageQuota

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
START_TIMEOUT = 60.0  # seconds; a one-signature database loads in well under that


def _clamd_binary() -> str | None:
    return shutil.which("clamd") or next((p for p in ("/usr/sbin/clamd", "/usr/bin/clamd") if Path(p).exists()), None)


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    binary = _clamd_binary()
    if binary is None:
        pytest.skip("clamd tests skipped: clamd is not installed (apt-get install -y clamav-daemon)")
    root = tmp_path_factory.mktemp("clamd")
    database = root / "db"
    database.mkdir()
    (database / "eicar.hdb").write_text(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature\n")
    socket_path = root / "clamd.sock"
    config = root / "clamd.conf"
    config.write_text("\n".join([
        f"LocalSocket {socket_path}", f"DatabaseDirectory {database}", "Foreground yes",
        f"LogFile {root / 'clamd.log'}", f"PidFile {root / 'clamd.pid'}", "Bytecode no",
        "StreamMaxLength 50M", "OfficialDatabaseOnly no",
    ]) + "\n")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None and not socket_path.exists():
        time.sleep(0.1)
    if process.poll() is not None or not socket_path.exists():
        process.kill()
        log = (root / "clamd.log").read_text() if (root / "clamd.log").exists() else ""
        pytest.skip(f"clamd tests skipped: clamd did not start ({(process.stderr.read() or b'').decode()[:300]} {log[-300:]})")
    yield socket_path
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def scanned(settings, clamd, tmp_path):
    settings.CLAMD_SOCKET = str(clamd)
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def blobs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_clamd_answers_and_tells_clean_from_infected(scanned):
    assert scanning.clamd_ping()
    assert scanning.scan_bytes(b"hello").clean
    verdict = scanning.scan_bytes(EICAR)
    assert not verdict.clean and verdict.signature.startswith("Eicar-Test-Signature")


@pytest.mark.django_db
def test_eicar_is_refused_with_the_reason_and_nothing_is_stored(scanned, owner, owner_client, caplog):
    response = owner_client.post(reverse("storage:upload"), {"files": [SimpleUploadedFile("invoice.pdf", EICAR)]},
                                 HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error.startswith("This file was refused: the virus scanner found “Eicar-Test-Signature")
    assert error.endswith("Nothing was saved.")
    with tenant(owner.id):
        assert not StorageFile.objects.exists()
        assert StorageQuota.objects.get(user=owner).file_count == 0
    assert blobs(scanned) == []
    assert any("infected" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_a_clean_file_is_stored_as_scanned(scanned, owner, owner_client):
    response = owner_client.post(reverse("storage:upload"), {"files": [SimpleUploadedFile("ok.txt", b"clean words")]},
                                 HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    with tenant(owner.id):
        assert StorageFile.objects.get().is_processed is True
    html = owner_client.get(reverse("storage:list")).content.decode()
    assert "ok.txt" in html and "Not scanned" not in html


@pytest.mark.django_db
def test_no_scanner_reachable_means_nothing_is_stored(settings, owner, tmp_path):
    settings.CLAMD_SOCKET = str(tmp_path / "missing.sock")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with pytest.raises(ScanFailed):
        services.file_store(user=owner, content=b"anything", name="a.txt")
    with tenant(owner.id):
        assert not StorageFile.objects.exists()


@pytest.mark.django_db
def test_without_the_setting_files_are_unscanned_and_production_warns(settings, owner, tmp_path):
    from storage.checks import virus_scanning_check

    settings.MEDIA_ROOT = str(tmp_path)
    stored = services.file_store(user=owner, content=b"plain", name="a.txt")
    assert stored.is_processed is False
    settings.PRODUCTION = True
    assert [w.id for w in virus_scanning_check()] == ["storage.W001"]
    settings.CLAMD_SOCKET = "/run/clamav/clamd.ctl"
    assert virus_scanning_check() == []
