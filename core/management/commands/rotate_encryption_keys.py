"""Re-encrypt every encrypted field with the primary key of FIELD_ENCRYPTION_KEYS.

Put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy, run this
command; once it reports nothing left, the old keys can be removed. It works in batches, each its
own transaction, and picks only rows not yet on the primary key, so an interrupted run resumes
where it stopped. Tenant tables are visited inside each owner's RLS context (health data never goes
through a bypass); tables without RLS are visited once.
"""

from __future__ import annotations

import time

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core import crypto
from core.tenancy import tenant


def _rls_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relrowsecurity"
        )
        return {row[0] for row in cursor.fetchall()}


def _stale_filter(field) -> tuple[str, list]:
    """SQL selecting rows whose ciphertext is not under the primary key."""
    primary = crypto.keyring().primary_id
    column = connection.ops.quote_name(field.column)
    if isinstance(field, crypto.EncryptedJSONField):
        return f"{column} IS NOT NULL AND ({column} ->> 'kid') IS DISTINCT FROM %s", [primary]
    return f"{column} IS NOT NULL AND {column} NOT LIKE %s", [f"{crypto.TEXT_PREFIX}{primary}:%"]


def rotate_model(model, *, batch_size: int, owner_id=None) -> int:
    """Re-encrypt the rows of ``model`` (those of ``owner_id`` for a tenant table), one
    transaction per batch. Returns the number of rows rewritten."""
    fields = crypto.encrypted_fields(model)
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    conditions, params = zip(*(_stale_filter(f) for f in fields))
    where = " OR ".join(f"({c})" for c in conditions)
    flat_params = [p for group in params for p in group]
    done = 0
    while True:
        with tenant(owner_id) if owner_id else transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {pk_column} FROM {table} WHERE {where} ORDER BY {pk_column} LIMIT %s FOR UPDATE SKIP LOCKED",
                    [*flat_params, batch_size],
                )
                ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return done
            for instance in model._base_manager.filter(pk__in=ids).only("pk", *[f.attname for f in fields]):
                updates = {}
                for field in fields:
                    value = getattr(instance, field.attname)  # decrypts with whichever key made it
                    updates[field.attname] = None if value is None else field.seal(instance, value)
                model._base_manager.filter(pk=instance.pk).update(**updates)
            done += len(ids)


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the first (primary) key of FIELD_ENCRYPTION_KEYS. Resumable."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        started = time.monotonic()
        ring = crypto.keyring()
        self.stdout.write(f"primary key: {ring.primary_id} (ring: {', '.join(ring.keys)})")
        models = [m for m in apps.get_models() if crypto.encrypted_fields(m)]
        rls = _rls_tables()
        tenant_models = [m for m in models if m._meta.db_table in rls]
        plain_models = [m for m in models if m._meta.db_table not in rls]
        total = 0
        for model in plain_models:
            count = rotate_model(model, batch_size=batch_size)
            total += count
            self.stdout.write(f"  {model._meta.db_table}: {count} row(s)")
        if tenant_models:
            user_model = apps.get_model("accounts", "User")
            user_ids = list(user_model._base_manager.order_by("pk").values_list("pk", flat=True))
            per_table = {m._meta.db_table: 0 for m in tenant_models}
            for index, user_id in enumerate(user_ids, start=1):
                for model in tenant_models:
                    per_table[model._meta.db_table] += rotate_model(model, batch_size=batch_size, owner_id=user_id)
                if index % 100 == 0 or index == len(user_ids):
                    self.stdout.write(f"  users {index}/{len(user_ids)}")
            for table, count in per_table.items():
                total += count
                self.stdout.write(f"  {table}: {count} row(s)")
        self.stdout.write(self.style.SUCCESS(f"re-encrypted {total} row(s) in {time.monotonic() - started:.1f}s"))
