"""Backups (issue 14): manage.py backup and restore, end to end on the real server.

Back up a database holding a conversation, a health record and a stored file; wipe the files;
restore into a fresh database; compare row counts and file checksums; sign in there and read the
conversation and the health record (the same keys decrypt them). Plus the refusals: a non-empty
database without --force, a damaged backup.
"""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client
from django.urls import reverse

from config import backup, bootstrap
from core.tenancy import tenant
from storage.backends import file_storage
from testutils import factories
from testutils.testing import PASSWORD, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability]

SECRET_NOTE = "allergic to penicillin since 1998"
BLOB = b"backup round trip \x00\x01" * 500


def _use_database(name: str) -> None:
    for alias in ("default", "owner"):
        connections[alias].close()
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": settings.MEDIA_ROOT}}}
    return tmp_path / "media"


@pytest.fixture
def data(media):
    user = make_user("backup@example.com")
    with tenant(user.id):
        conversation = factories.conversation(user)
        factories.message(user, conv=conversation, content="the plan for the garden")
        profile = factories.health_profile(user)
        profile.encrypted_data = SECRET_NOTE
        profile.save()
    name = file_storage().save("users/backup/notes.bin", ContentFile(BLOB))
    return user, conversation, name


def test_backup_wipe_restore_compare_and_read(tmp_path, media, data):
    user, conversation, blob_name = data
    original = settings.DATABASES["default"]["NAME"]
    out = tmp_path / "backup"
    call_command("backup", "--output", str(out), stdout=open("/dev/null", "w"))
    manifest = backup.read_manifest(out)
    assert manifest["tables"]["users"] >= 1 and manifest["tables"]["messages"] == 1
    assert [f["name"] for f in manifest["files"]] == [blob_name]
    assert manifest["files"][0]["sha256"] == hashlib.sha256(BLOB).hexdigest()

    # Encrypted columns stay encrypted in the dump.
    sql_text = subprocess.run([backup._bin("pg_restore"), "-f", "-", str(out / backup.DUMP)], capture_output=True, text=True, check=True).stdout
    assert SECRET_NOTE not in sql_text and "enc:v1:" in sql_text

    # Wipe the files, restore into a fresh database.
    file_storage().delete(blob_name)
    restored = f"{original}_restored"
    plan = bootstrap.plan()
    bootstrap.drop_database(plan, restored)
    try:
        call_command("restore", str(out), "--database", restored, stdout=open("/dev/null", "w"))
        assert backup.table_counts(backup._target(restored)) == manifest["tables"]
        with file_storage().open(blob_name, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == manifest["files"][0]["sha256"]

        _use_database(restored)
        client = Client()
        assert client.login(email=user.email, password=PASSWORD)
        page = client.get(reverse("chats:detail", args=[conversation.id]))
        assert page.status_code == 200 and "the plan for the garden" in page.content.decode()
        from health.models import HealthProfile

        with tenant(user.id):
            assert HealthProfile.objects.get(user=user).encrypted_data == SECRET_NOTE
    finally:
        _use_database(original)
        bootstrap.drop_database(plan, restored)


def test_restore_refuses_a_database_that_is_not_empty(tmp_path, data):
    out = tmp_path / "backup"
    backup.backup(out, progress=lambda *_: None)
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(out))  # the test database itself holds every table


def test_restore_refuses_a_damaged_backup_and_changes_nothing(tmp_path, data):
    out = tmp_path / "backup"
    manifest = backup.backup(out, progress=lambda *_: None)
    damaged = out / backup.FILES / manifest["files"][0]["name"]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"!")
    with pytest.raises(backup.BackupError, match="damaged"):
        backup.restore(out, database="never_created_by_a_damaged_restore", progress=lambda *_: None)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'never_created_by_a_damaged_restore'")
        assert cursor.fetchone() is None


def test_backup_refuses_a_directory_that_is_not_empty(tmp_path, data):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.backup(tmp_path, progress=lambda *_: None)
