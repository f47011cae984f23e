"""Field encryption at rest: AES-256-GCM with a key ring and associated data.

``FIELD_ENCRYPTION_KEYS`` is ``id:base64key,id:base64key,...``; the first key encrypts, every key
decrypts. A text ciphertext reads ``enc:v1:<key id>:<base64(nonce | ciphertext+tag)>``; a JSON
one is the envelope ``{"enc": "v1", "kid": ..., "data": ...}`` so JSONB columns keep their type.
The associated data binds each ciphertext to ``table|column|row id``: copied to another row or
column it no longer decrypts.

Model fields keep the ciphertext as loaded and decrypt on first attribute access, when the row id
is known; ``pre_save`` encrypts with the row's id. They refuse to be used in filters or
``QuerySet.update()`` with a plain value, which would store or compare plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models.query_utils import DeferredAttribute

TEXT_PREFIX = "enc:v1:"
ENVELOPE_VERSION = "v1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A ciphertext that no key in the ring opens for this table, column and row."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    primary_id: str

    @classmethod
    def parse(cls, spec: str) -> "KeyRing":
        keys: dict[str, bytes] = {}
        primary = ""
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            key_id, sep, encoded = item.partition(":")
            if not sep or not key_id or ":" in key_id:
                raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS entries look like id:base64key")
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS key {key_id!r} is not base64") from exc
            if len(raw) != 32:
                raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS key {key_id!r} must be 32 bytes (AES-256)")
            if key_id in keys:
                raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS repeats key id {key_id!r}")
            keys[key_id] = raw
            primary = primary or key_id
        if not keys:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds no key")
        return cls(keys=keys, primary_id=primary)


@lru_cache(maxsize=1)
def keyring() -> KeyRing:
    return KeyRing.parse(settings.FIELD_ENCRYPTION_KEYS)


def _reset_keyring(*, setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        keyring.cache_clear()


setting_changed.connect(_reset_keyring)


def token_digest(value: str) -> str:
    """SHA-256 hex digest of a secret token: what a table keeps instead of the token itself.

    Session keys, invitation tokens and email-verification keys are stored this way, so a database
    read hands out no usable secret; a lookup digests the presented token and compares.
    """
    return hashlib.sha256(value.encode()).hexdigest()


def associated_data(table: str, column: str, row_id: Any) -> bytes:
    return f"{table}|{column}|{row_id}".encode()


def _seal(plaintext: bytes, aad: bytes) -> tuple[str, str]:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.primary_id]).encrypt(nonce, plaintext, aad)
    return ring.primary_id, base64.b64encode(nonce + sealed).decode()


def _open(key_id: str, data: str, aad: bytes) -> bytes:
    key = keyring().keys.get(key_id)
    if key is None:
        raise DecryptionError(f"unknown encryption key id {key_id!r}")
    try:
        blob = base64.b64decode(data, validate=True)
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptionError("ciphertext does not open for this table, column and row") from exc


def encrypt_text(plaintext: str, aad: bytes) -> str:
    key_id, data = _seal(plaintext.encode(), aad)
    return f"{TEXT_PREFIX}{key_id}:{data}"


def decrypt_text(token: str, aad: bytes) -> str:
    if not token.startswith(TEXT_PREFIX):
        raise DecryptionError("not an encrypted value")
    key_id, sep, data = token[len(TEXT_PREFIX):].partition(":")
    if not sep:
        raise DecryptionError("malformed encrypted value")
    return _open(key_id, data, aad).decode()


def text_key_id(token: str) -> str | None:
    if not token.startswith(TEXT_PREFIX):
        return None
    return token[len(TEXT_PREFIX):].partition(":")[0]


def encrypt_json(value: Any, aad: bytes) -> dict:
    key_id, data = _seal(json.dumps(value, separators=(",", ":"), sort_keys=True).encode(), aad)
    return {"enc": ENVELOPE_VERSION, "kid": key_id, "data": data}


def decrypt_json(envelope: Any, aad: bytes) -> Any:
    if not isinstance(envelope, dict) or envelope.get("enc") != ENVELOPE_VERSION:
        raise DecryptionError("not an encrypted envelope")
    return json.loads(_open(str(envelope.get("kid")), str(envelope.get("data")), aad))


class Sealed:
    """A ciphertext as stored in the database; never shown, never compared."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any):
        self.raw = raw

    def __repr__(self) -> str:
        return "<encrypted>"

    __str__ = __repr__


class EncryptedAttribute(DeferredAttribute):
    """Decrypts on first read, when the instance (and so its row id) is known.

    A data descriptor (it defines ``__set__``), so reads always pass through ``__get__`` even
    though the value lives in the instance's ``__dict__``.
    """

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        if instance is not None and isinstance(value, Sealed):
            value = self.field.open(instance, value)
            instance.__dict__[self.field.attname] = value
        return value


class _EncryptedMixin:
    descriptor_class = EncryptedAttribute

    def aad(self, instance) -> bytes:
        if instance.pk is None:
            raise ValueError(f"{type(instance).__name__} needs its primary key before {self.name} is encrypted")
        return associated_data(instance._meta.db_table, self.column, instance.pk)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value is None:
            return None
        return self.seal(model_instance, value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if not isinstance(value, Sealed):
            raise ValueError(
                f"{self.model.__name__}.{self.name} is encrypted: assign it and save(); it cannot be "
                "filtered on or written with QuerySet.update() in clear"
            )
        return self._raw_db_value(value.raw, connection)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return Sealed(self._load_raw(value, expression, connection))

    def value_to_string(self, obj):
        return "<encrypted>"


class EncryptedTextField(_EncryptedMixin, models.TextField):
    def seal(self, instance, plaintext: str) -> Sealed:
        return Sealed(encrypt_text(str(plaintext), self.aad(instance)))

    def open(self, instance, sealed: Sealed) -> str:
        return decrypt_text(sealed.raw, self.aad(instance))

    def key_id(self, raw: str) -> str | None:
        return text_key_id(raw)

    def _raw_db_value(self, raw, connection):
        return raw

    def _load_raw(self, value, expression, connection):
        return value


class EncryptedJSONField(_EncryptedMixin, models.JSONField):
    def seal(self, instance, value: Any) -> Sealed:
        return Sealed(encrypt_json(value, self.aad(instance)))

    def open(self, instance, sealed: Sealed) -> Any:
        return decrypt_json(sealed.raw, self.aad(instance))

    def key_id(self, raw: dict) -> str | None:
        return raw.get("kid") if isinstance(raw, dict) else None

    def _raw_db_value(self, raw, connection):
        return models.JSONField.get_db_prep_value(self, raw, connection, prepared=False)

    def _load_raw(self, value, expression, connection):
        return models.JSONField.from_db_value(self, value, expression, connection)


def encrypted_fields(model) -> list[_EncryptedMixin]:
    return [f for f in model._meta.concrete_fields if isinstance(f, _EncryptedMixin)]
