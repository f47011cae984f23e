"""Run the real production server (gunicorn, threaded workers) against a given database, for
tests and benchmarks that need real sockets and real concurrency."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*, database: str, env: dict | None = None, workers: int = 2, threads: int = 32, log_to: Path | None = None):
    """The server on a free port; yields its URL once /healthz answers. Its log goes to ``log_to``
    (kept) or to a temporary file (deleted at the end)."""
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_NAME": database,
        "PORT": str(port),
        "WEB_WORKERS": str(workers),
        "WEB_THREADS": str(threads),
        **(env or {}),
    }
    # The server's log goes to a file: a pipe nobody reads fills up (64 kB of tracebacks) and then
    # blocks every worker thread that logs.
    log = open(log_to, "wb") if log_to else tempfile.NamedTemporaryFile(prefix="cjh-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115 — closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py", "--access-logfile", "/dev/null"],
        cwd=BASE_DIR, env=environment, stdout=subprocess.DEVNULL, stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # 90 s, not 30: on a loaded 2-core machine gunicorn's preload and warm-up alone took 7.5 s,
        # and the whole start more than 30 (the concurrent-streams tests failed with an empty log).
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start: " + Path(log.name).read_text(errors="replace")[-2000:])
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if not log_to:
            Path(log.name).unlink(missing_ok=True)


def login(url: str, email: str, password: str) -> httpx.Client:
    """An HTTP client signed in through the real login form (CSRF included)."""
    client = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/accounts/login/", data={"csrfmiddlewaretoken": token, "login": email, "password": password},
        headers={"Referer": f"{url}/accounts/login/"},
    )
    if response.status_code != 302:
        raise RuntimeError(f"login failed: {response.status_code}")
    return client
