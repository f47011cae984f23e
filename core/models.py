"""Model mixins shared by the domain apps."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Now


class UUIDModel(models.Model):
    """Primary key ``id uuid``, generated in Python (so encryption can bind to it before INSERT)
    and defaulting to ``gen_random_uuid()`` in the database for rows written by SQL."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, db_default=models.Func(function="gen_random_uuid"))

    class Meta:
        abstract = True


class CreatedAtModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())

    class Meta:
        abstract = True
