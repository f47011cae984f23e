"""PostgreSQL restarts under load (issue 14): the app recovers by itself.

A private PostgreSQL (pgserver, its own data directory: the shared test server is never touched)
is prepared and migrated, gunicorn serves the app on it, clients keep requesting pages, and the
server is restarted in the middle. Requests in flight may fail, but cleanly (an error status, no
hang); once the server is back, every request succeeds without restarting any app process
(CONN_HEALTH_CHECKS drops the dead connections, a new one is opened).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from testutils.liveserver import gunicorn

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PAGES = ("/healthz", "/accounts/login/", "/accounts/signup/")


@pytest.fixture
def private_postgres():
    import pgserver

    directory = Path(tempfile.mkdtemp(prefix="cjh-pg-", dir="/tmp"))
    server = pgserver.get_server(directory, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    url = f"postgresql://postgres@/cjh_restart?host={socket_dir}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_ENV": "test"}
    env.pop("TEST_DB_NAME", None)
    subprocess.run([sys.executable, "-m", "config.devserver", "prepare"], cwd=BASE_DIR, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    try:
        yield server, directory, url
    finally:
        # Stopped here, not left to pgserver's exit hook (which, after a restart by pg_ctl, leaves
        # the server running past the test session).
        from pgserver._commands import pg_ctl

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)
        except Exception:  # already stopped
            pass
        shutil.rmtree(directory, ignore_errors=True)


def _restart(server) -> None:
    from pgserver._commands import pg_ctl

    # As pgserver runs it: as its system user when the tests run as root (postgres refuses root).
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60)


def test_the_app_recovers_from_a_database_restart_without_restarting_itself(private_postgres):
    server, _directory, url = private_postgres
    with gunicorn(database="cjh_restart", env={"DATABASE_URL": url}, workers=2, threads=8) as base:
        outcomes: list[tuple[float, int]] = []  # (time, status; 0 = no answer)
        stop = threading.Event()

        def load():
            with httpx.Client(base_url=base, timeout=15) as client:
                while not stop.is_set():
                    for page in PAGES:
                        try:
                            outcomes.append((time.monotonic(), client.get(page).status_code))
                        except httpx.HTTPError:
                            outcomes.append((time.monotonic(), 0))

        threads = [threading.Thread(target=load, daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        assert outcomes and all(status == 200 for _, status in outcomes), "not healthy before the restart"
        _restart(server)
        back = time.monotonic()
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
            assert not thread.is_alive(), "a request hung"
        # While it restarted: 503 with Retry-After ("back in a moment"), never a hang.
        during = {status for at, status in outcomes if at <= back}
        assert during <= {200, 503}, during
        # After the restart (and the few requests already in flight when it ended), all succeed.
        after = [status for at, status in outcomes if at > back + 1]
        assert len(after) > 20 and all(status == 200 for status in after), sorted(set(after))
        # And the same processes answer: a fresh round on every page is fine too.
        with httpx.Client(base_url=base, timeout=15) as client:
            assert all(client.get(page).status_code == 200 for page in PAGES for _ in range(5))
