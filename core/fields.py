"""Model fields whose foreign keys carry their ``ON DELETE`` rule in the database."""

from __future__ import annotations

from django.db import models

RULES = {"CASCADE", "SET NULL", "RESTRICT", "NO ACTION"}


class _DatabaseRuleMixin:
    def __init__(self, *args, db_on_delete: str, on_delete=None, **kwargs):
        if db_on_delete not in RULES:
            raise ValueError(f"db_on_delete must be one of {sorted(RULES)}")
        if db_on_delete == "SET NULL" and not kwargs.get("null"):
            raise ValueError("db_on_delete='SET NULL' needs null=True")
        self.db_on_delete = db_on_delete
        # The database applies the rule; Django must not emulate it (it would run as the app's
        # role, under RLS, and miss rows).
        super().__init__(*args, on_delete=models.DO_NOTHING, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("on_delete", None)
        kwargs["db_on_delete"] = self.db_on_delete
        return name, path, args, kwargs


class ForeignKey(_DatabaseRuleMixin, models.ForeignKey):
    pass


class OneToOneField(_DatabaseRuleMixin, models.OneToOneField):
    pass
