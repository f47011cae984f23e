"""Production mode refuses to start without secrets and passes Django's deployment checks."""

import base64
import os
import subprocess
import sys

from django.conf import settings

BASE_DIR = settings.BASE_DIR


def _manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-production-secret-key-with-enough-entropy-123456789",
    "FIELD_ENCRYPTION_KEYS": "prod1:" + base64.b64encode(os.urandom(32)).decode(),
    "ALLOWED_HOSTS": "agents.example.com",
    "CLAMD_SOCKET": "/run/clamav/clamd.ctl",  # a complete production set-up scans uploads
}


def test_production_refuses_to_start_without_secrets():
    for missing in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS"):
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
        result = _manage("check", **env)
        assert result.returncode != 0
        assert missing in result.stderr
        assert "DJANGO_ENV=production needs" in result.stderr


def test_check_deploy_reports_nothing_in_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_uploads_are_not_scanned():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CLAMD_SOCKET"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "storage.W001" in result.stderr + result.stdout
