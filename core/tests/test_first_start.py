"""`make run`'s start (issue 15): one Django start-up prepares the database, the processes wait at a gate.

See config/devserver.py (the start gate) and config/management/commands/prepare_run.py.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from config import bootstrap, devserver

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PASSWORD = "demo-pass-for-tests"
DEMO = ("demo@example.com", "staff@example.com")


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", password=PASSWORD, stdout=out)
    return out.getvalue()


def _rows() -> dict[str, tuple]:
    return {u.email: (u.password, u.updated_at, u.role) for u in User.objects.filter(email__in=DEMO)}


def test_without_a_gate_nothing_waits(monkeypatch):
    monkeypatch.delenv(devserver.GATE_ENV, raising=False)
    assert devserver.gate_wait("migrated", timeout=0) is True
    devserver.gate_open("migrated")  # nowhere to write: nothing happens


def test_a_process_waits_for_its_step_and_ends_when_run_has_ended(tmp_path, monkeypatch):
    gate = tmp_path / "start-1"
    gate.mkdir()
    monkeypatch.setenv(devserver.GATE_ENV, str(gate))
    assert devserver.gate_wait("web", timeout=0.1) is False
    opener = threading.Timer(0.2, devserver.gate_open, ["migrated"])
    opener.start()
    assert devserver.gate_wait("migrated", timeout=10) is True
    opener.join()
    assert (gate / "migrated").exists()
    shutil.rmtree(gate)  # what `run` does when it ends
    with pytest.raises(SystemExit):
        devserver.gate_wait("web")


def test_every_procfile_process_starts_through_the_gate_with_its_own_command(tmp_path):
    procfile = devserver._gated_procfile(tmp_path)
    original = dict(line.split(": ", 1) for line in (BASE_DIR / "Procfile").read_text().splitlines() if line.strip())
    gated = dict(line.split(": ", 1) for line in procfile.read_text().splitlines() if line.strip())
    assert set(gated) == set(original) == {"web", "worker", "maintenance", "beat"}
    assert gated["web"] == f"python -m config.devserver proc web {original['web']}"
    for name in ("worker", "maintenance", "beat"):
        assert gated[name].startswith('g="$CJH_START_GATE"') and gated[name].endswith(f"; exec {original[name]}")


def test_the_background_processes_start_once_the_web_listens(tmp_path):
    """The worker's shell waiter, run as honcho runs it: started when `web` appears, not before."""
    command = devserver._gated_procfile(tmp_path).read_text().split("worker: ", 1)[1].split("\n")[0]
    command = command.rsplit("exec ", 1)[0] + "exec echo started"
    (tmp_path / "migrated").touch()
    waiter = subprocess.Popen(["sh", "-c", command], env={**os.environ, devserver.GATE_ENV: str(tmp_path)},
                              stdout=subprocess.PIPE, text=True)
    with pytest.raises(subprocess.TimeoutExpired):
        waiter.wait(timeout=0.6)
    (tmp_path / "web").touch()
    assert waiter.communicate(timeout=10)[0] == "started\n"


@pytest.mark.django_db
def test_a_second_seed_writes_nothing_to_the_demo_users_and_prints_working_credentials(client):
    _seed()
    before = _rows()
    with CaptureQueriesContext(connection) as queries:
        out = _seed()
    assert _rows() == before
    on_users = [q["sql"] for q in queries if '"users"' in q["sql"].split(" WHERE ")[0]]
    assert len(on_users) == 2, on_users  # both users found in one query; the demo agents' seed reads the staff user
    assert not [sql for sql in on_users if not sql.startswith("SELECT")]
    assert f"demo@example.com     password: {PASSWORD}" in out and f"staff@example.com    password: {PASSWORD}" in out
    assert client.login(email="demo@example.com", password=PASSWORD)


@pytest.mark.django_db
def test_a_seed_after_changes_puts_the_demo_users_back(client):
    _seed()
    demo = User.objects.get(email="demo@example.com")
    demo.set_password("another-password-2026")
    demo.save()
    staff = User.objects.get(email="staff@example.com")
    User.objects.filter(pk=staff.pk).update(role=Role.USER)
    EmailAddress.objects.filter(user=staff).update(verified=False)
    _seed()
    assert client.login(email="demo@example.com", password=PASSWORD)
    assert not client.login(email="demo@example.com", password="another-password-2026")
    assert User.objects.get(pk=staff.pk).role == Role.ADMIN
    assert EmailAddress.objects.get(user=staff).verified


@pytest.mark.slow
def test_prepare_run_migrates_an_empty_database_once_and_opens_the_gate(tmp_path, worker_id):
    name = f"{os.environ.get('TEST_DB_NAME', 'cjh_test')}_{worker_id}_prepare_run"
    plan = bootstrap.plan()
    bootstrap.drop_database(plan, name)
    gate = tmp_path / "start-1"
    gate.mkdir()
    (gate / "services").touch()
    (gate / "web").touch()  # no web here: checks and seeding go on at once
    env = {**os.environ, "DATABASE_NAME": name, "DJANGO_ENV": "test", devserver.GATE_ENV: str(gate)}

    def prepare_run() -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", "prepare_run"], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    try:
        first = prepare_run()
        assert "migrations applied" in first and (gate / "migrated").exists()
        assert "demo@example.com" in first
        (gate / "migrated").unlink()
        second = prepare_run()
        assert "(nothing to apply)" in second and (gate / "migrated").exists()
        assert "Demo data ready" in second
    finally:
        bootstrap.drop_database(plan, name)
