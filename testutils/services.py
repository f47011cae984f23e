"""Private services for the fault tests: a redis-server that can be stopped mid-test, and a real
Celery worker process (prefork) on it that can be killed.

Never the embedded Redis everyone shares: stopping that would break other tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import redis

from config import devserver

BASE_DIR = Path(__file__).resolve().parent.parent


class PrivateRedis:
    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="cjh-redis-", dir="/tmp"))
        self.socket = self.directory / "r.sock"
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"unix://{self.socket}?db={db}"

    def broker_url(self, db: int = 1) -> str:
        return f"redis+socket://{self.socket}?virtual_host={db}"

    def client(self, db: int = 1) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), db=db)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(devserver._redis_binary()), "--port", "0", "--unixsocket", str(self.socket), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                if redis.Redis(unix_socket_path=str(self.socket)).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.socket.unlink(missing_ok=True)


@contextmanager
def celery_worker(*, database: str, broker_url: str, redis_url: str, env: dict | None = None, queues: str = "celery"):
    """A real ``celery worker`` (prefork, one child) against ``database`` and ``broker_url``; yields
    the Popen of its main process. Its log is kept in a temp file (``worker.log_path``)."""
    log = tempfile.NamedTemporaryFile(prefix="cjh-worker-", suffix=".log", delete=False)
    environment = {
        **os.environ, "DJANGO_ENV": "test", "DATABASE_NAME": database, "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": broker_url, "REDIS_URL": redis_url, **(env or {}),
    }
    environment.pop("REDIS_TEST_DB", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "--concurrency", "1",
         "--queues", queues, "--loglevel", "INFO", "--without-mingle", "--without-gossip", "--hostname", f"fault-{os.getpid()}@%h"],
        cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )
    process.log_path = log.name
    try:
        deadline = time.monotonic() + 60
        while "ready." not in Path(log.name).read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start:\n" + Path(log.name).read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def child_pids(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
