"""Session store on the ERD's ``auth_sessions`` table.

The cookie carries a random key; the table keeps only its SHA-256 (``session_token``), so a
database read does not hand out live sessions. Each row records its user, IP, user agent and last
activity for the Sessions page; deleting the row signs that browser out.
"""

from __future__ import annotations

from datetime import timedelta

from allauth.core.internal.httpkit import clean_client_ip
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import IntegrityError, router, transaction
from django.utils import timezone

from core.crypto import token_digest


def client_ip(request) -> str | None:
    """The visitor's address: REMOTE_ADDR, or what the n-th trusted proxy saw (TRUSTED_PROXY_COUNT).

    The one reader of the client address: sessions, audit rows and allauth's rate limits (through
    the account adapter) all call it, so they agree behind a proxy. A forged or malformed value
    gives None rather than a string the ``inet`` column would refuse.
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    candidate = request.META.get("REMOTE_ADDR") or ""
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
    return clean_client_ip(candidate) if candidate else None


class SessionStore(SessionBase):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self.client_ip: str | None = None
        self.user_agent: str = ""
        self.last_activity = None

    @classmethod
    def get_model_class(cls):
        from accounts.models import AuthSession

        return AuthSession

    @property
    def model(self):
        return self.get_model_class()

    def _db(self) -> str:
        return router.db_for_write(self.model)

    def load(self):
        row = (
            self.model.objects.using(self._db())
            .filter(session_token=token_digest(self.session_key), expires__gt=timezone.now())
            .only("session_data", "last_activity")
            .first()
            if self.session_key
            else None
        )
        if row is None:
            self._session_key = None
            return {}
        self.last_activity = row.last_activity
        return self.decode(row.session_data)

    def exists(self, session_key):
        return self.model.objects.using(self._db()).filter(session_token=token_digest(session_key)).exists()

    def create(self):
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    def _row_values(self, data: dict) -> dict:
        values = {
            "session_data": self.encode(data),
            "expires": self.get_expiry_date(),
            "user_id": data.get(SESSION_KEY) or None,
            "last_activity": timezone.now(),
        }
        if self.client_ip:
            values["ip_address"] = self.client_ip
        if self.user_agent:
            values["user_agent"] = self.user_agent[:300]
        return values

    def save(self, must_create=False):
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        values = self._row_values(data)
        digest = token_digest(self._get_or_create_session_key())
        manager = self.model.objects.using(self._db())
        if must_create:
            try:
                with transaction.atomic(using=self._db()):
                    manager.create(session_token=digest, **values)
            except IntegrityError as exc:
                raise CreateError from exc
            return
        # A revoked session must not come back: update only, never re-create.
        if not manager.filter(session_token=digest).update(**values):
            raise UpdateError

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self.model.objects.using(self._db()).filter(session_token=token_digest(session_key)).delete()

    @classmethod
    def clear_expired(cls):
        cls.get_model_class().objects.filter(expires__lt=timezone.now()).delete()

    def needs_activity_refresh(self) -> bool:
        interval = timedelta(seconds=getattr(settings, "SESSION_ACTIVITY_INTERVAL", 300))
        return self.last_activity is not None and timezone.now() - self.last_activity > interval


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's middleware, telling the store where the request came from."""

    def process_request(self, request):
        super().process_request(request)
        request.session.client_ip = client_ip(request)
        request.session.user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if isinstance(session, SessionStore) and session.accessed and session.needs_activity_refresh():
            session.modified = True
        return super().process_response(request, response)
