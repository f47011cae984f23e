"""Backups: a consistent dump of the database and a copy of every blob, with a manifest.

A backup is a directory::

    manifest.json     what is in it: sizes and SHA-256 of every part, row counts per table,
                      the migrations applied, the ids (never the keys) of the encryption keys used
    database.dump     pg_dump --format=custom of the whole database (one snapshot)
    files/<name>      every blob of the file storage (local or S3), under its storage name

Order matters: the database first, then the blobs, so every blob the dump names is copied (a blob
written after the snapshot is an unreferenced extra, harmless; the trash purge is the only deleter).
Encrypted columns are dumped as stored, ciphertext: the backup is only readable with the same
``FIELD_ENCRYPTION_KEYS``.

Row-level security is forced on the tenant tables, so dump, restore and the row counts connect as a
role that bypasses it: the embedded server's superuser, or ``BACKUP_DATABASE_URL`` (a superuser or
BYPASSRLS role) on a server of your own. pg_dump and pg_restore come from the embedded server's
binaries unless ``BACKUP_PG_BIN_DIR`` names others (they must be at least the server's version).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.files.base import File
from django.db import connections
from django.utils.translation import gettext as _
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from config import bootstrap
from core.crypto import keyring
from core.errors import UserFacingError
from storage.backends import backend_name, file_storage

MANIFEST = "manifest.json"
DUMP = "database.dump"
FILES = "files"
FORMAT = 1
_CHUNK = 1024 * 1024


class BackupError(UserFacingError):
    pass


@dataclass(frozen=True)
class Target:
    conninfo: str  # bypasses row-level security; dbname is the app's database
    database: str
    owner_role: str


def _target(database: str | None = None) -> Target:
    name = database or settings.DATABASES["owner"]["NAME"]
    url = getattr(settings, "BACKUP_DATABASE_URL", "") or ""
    plan = bootstrap.plan()
    base = url or plan.admin_conninfo
    return Target(conninfo=make_conninfo(base, dbname=name), database=name, owner_role=plan.owner_role)


def _bin(name: str) -> str:
    directory = getattr(settings, "BACKUP_PG_BIN_DIR", "") or ""
    if not directory:
        try:
            import pgserver

            directory = str(Path(pgserver.__file__).parent / "pginstall" / "bin")
        except ImportError:
            directory = ""
    candidate = Path(directory) / name if directory else None
    if candidate and candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(_("%(tool)s was not found: set BACKUP_PG_BIN_DIR to the PostgreSQL client binaries.") % {"tool": name})
    return found


def _pg_env(conninfo: str) -> tuple[list[str], dict]:
    """The connection as libpq arguments (no password on the command line)."""
    params = conninfo_to_dict(conninfo)
    env = {**os.environ}
    if params.get("password"):
        env["PGPASSWORD"] = str(params.pop("password"))
    return ["--dbname", make_conninfo(**params)], env


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for piece in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(piece)
    return digest.hexdigest()


def _connect(target: Target) -> psycopg.Connection:
    try:
        return psycopg.connect(target.conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise BackupError(_("Could not connect to the database %(name)s: %(error)s") % {"name": target.database, "error": exc}) from exc


def table_counts(target: Target) -> dict[str, int]:
    with _connect(target) as conn, conn.cursor() as cur:
        cur.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        if not cur.fetchone()[0]:
            raise BackupError(_("The backup connection must bypass row-level security (a superuser or a BYPASSRLS role): set BACKUP_DATABASE_URL."))
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        counts = {}
        for (table,) in cur.fetchall():
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cur.fetchone()[0]
        return counts


def _applied_migrations(target: Target) -> dict[str, str]:
    with _connect(target) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('public.django_migrations') IS NOT NULL")
        if not cur.fetchone()[0]:
            return {}
        cur.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        return dict(cur.fetchall())


def _walk(storage, directory: str = ""):
    try:
        folders, files = storage.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{directory}/{name}" if directory else name
    for folder in folders:
        yield from _walk(storage, f"{directory}/{folder}" if directory else folder)


def backup(output: Path, *, progress=print) -> dict:
    """Write a backup into ``output`` (a new or empty directory); returns the manifest."""
    output = Path(output)
    if output.exists() and any(output.iterdir()):
        raise BackupError(_("%(path)s is not empty: a backup goes into a new directory.") % {"path": output})
    target = _target()
    counts = table_counts(target)  # also checks the role bypasses row-level security
    output.mkdir(parents=True, exist_ok=True)
    dump = output / DUMP
    args, env = _pg_env(target.conninfo)
    progress(f"dumping database {target.database}")
    result = subprocess.run([_bin("pg_dump"), "--format=custom", "--file", str(dump), *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(_("pg_dump failed: %(error)s") % {"error": result.stderr.strip()[-500:]})
    storage = file_storage()
    files = []
    for name in _walk(storage):
        destination = output / FILES / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with storage.open(name, "rb") as source, destination.open("wb") as sink:
            for piece in iter(lambda: source.read(_CHUNK), b""):
                digest.update(piece)
                sink.write(piece)
        files.append({"name": name, "bytes": destination.stat().st_size, "sha256": digest.hexdigest()})
    progress(f"copied {len(files)} files from the {backend_name()} storage")
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "database": {"file": DUMP, "name": target.database, "owner_role": target.owner_role,
                     "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
        "migrations": _applied_migrations(target),
        "tables": counts,
        "files": files,
        "storage_backend": backend_name(),
        "encryption_key_ids": sorted(keyring().keys),
    }
    (output / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def read_manifest(source: Path) -> dict:
    """The manifest, after checking every part it lists against its size and checksum."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(_("%(path)s holds no readable backup manifest.") % {"path": source}) from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(_("This backup's format is not one this version can restore."))
    parts = [(source / manifest["database"]["file"], manifest["database"])]
    parts += [(source / FILES / item["name"], item) for item in manifest["files"]]
    for path, expected in parts:
        if not path.is_file() or path.stat().st_size != expected["bytes"] or _sha256(path) != expected["sha256"]:
            raise BackupError(_("The backup is damaged: %(part)s does not match its checksum.") % {"part": path.name})
    missing = sorted(set(manifest.get("encryption_key_ids", [])) - set(keyring().keys))
    if missing:
        raise BackupError(_("The encrypted columns of this backup need the keys %(ids)s in FIELD_ENCRYPTION_KEYS.") % {"ids": ", ".join(missing)})
    return manifest


def _is_empty(target: Target) -> bool:
    with _connect(target) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        return cur.fetchone()[0] == 0


def restore(source: Path, *, database: str | None = None, force: bool = False, progress=print) -> dict:
    """Bring the backup in ``source`` into ``database`` (default: the app's) and the file storage.

    Refuses a database that holds tables unless ``force`` (then it is dropped and created again).
    The dump is restored in one transaction: it lands whole or not at all.
    """
    manifest = read_manifest(source)
    target = _target(database)
    if manifest["database"]["owner_role"] != target.owner_role:
        raise BackupError(_("The backup's tables belong to the role %(backup)s; this instance's owner role is %(here)s.")
                          % {"backup": manifest["database"]["owner_role"], "here": target.owner_role})
    plan = bootstrap.plan()
    bootstrap.ensure_roles(plan)
    bootstrap.ensure_database(plan, target.database)
    if not _is_empty(target):
        if not force:
            raise BackupError(_("The database %(name)s is not empty: restore refuses to overwrite it (use --force to replace it).") % {"name": target.database})
        for alias in connections:  # our own connections would hold the database open
            connections[alias].close()
        bootstrap.ensure_database(plan, target.database, recreate=True)
    args, env = _pg_env(target.conninfo)
    progress(f"restoring database {target.database}")
    result = subprocess.run(
        [_bin("pg_restore"), "--single-transaction", "--exit-on-error", *args, str(Path(source) / DUMP)],
        env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise BackupError(_("pg_restore failed: %(error)s") % {"error": result.stderr.strip()[-500:]})
    storage = file_storage()
    for item in manifest["files"]:
        name = item["name"]
        if storage.exists(name):
            storage.delete(name)
        with (Path(source) / FILES / name).open("rb") as handle:
            saved = storage.save(name, File(handle, name=name))
        if saved != name:
            raise BackupError(_("The file storage renamed %(name)s while restoring it.") % {"name": name})
    progress(f"restored {len(manifest['files'])} files")
    counts = table_counts(target)
    differing = sorted(t for t, n in manifest["tables"].items() if counts.get(t) != n)
    if differing:
        raise BackupError(_("Restored row counts differ from the backup's in: %(tables)s") % {"tables": ", ".join(differing)})
    return manifest


def default_output() -> Path:
    root = Path(settings.BACKUP_DIR)
    return root / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
