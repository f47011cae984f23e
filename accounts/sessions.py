"""Session store on the ERD's ``auth_sessions`` table.

The cookie carries a random key; the table keeps only its SHA-256 (``session_token``), so a
database read does not hand out live sessions. Each row records its user, IP, user agent and last
activity for the Sessions page; deleting the row signs that browser out.

The session's row and its user's row come in one query (``SessionStore.load``): the middleware
hands the user to ``request.user`` (``session_user``), which then needs no query of its own.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache, partial

from allauth.core.internal.httpkit import clean_client_ip
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

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


@cache
def _load_plan(alias: str):
    """The written-out query of ``SessionStore.load`` for one database alias: the live row by its
    digest, its user's columns alongside (LEFT JOIN: an anonymous session has none), and how to
    turn a result row into a ``User`` (the same instance the ORM would build, converters included).

    Written out because the ORM took 0.6 + 0.4 ms to compile the two one-row queries it replaces.
    """
    from accounts.models import AuthSession, User

    connection = connections[alias]
    fields = User._meta.concrete_fields
    quote = connection.ops.quote_name
    sql = (
        "SELECT s.session_data, s.last_activity, s.user_id, "
        + ", ".join(f"u.{quote(f.column)}" for f in fields)
        + f" FROM {quote(AuthSession._meta.db_table)} s LEFT JOIN {quote(User._meta.db_table)} u"
        f" ON u.{quote(User._meta.pk.column)} = s.user_id"
        " WHERE s.session_token = %s AND s.expires > %s LIMIT 1"
    )
    converters = [
        (index, connection.ops.get_db_converters(f.get_col("u")) + f.get_db_converters(connection))
        for index, f in enumerate(fields)
    ]
    converters = [(index, found) for index, found in converters if found]
    return sql, [f.attname for f in fields], converters


class SessionStore(SessionBase):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self.client_ip: str | None = None
        self.user_agent: str = ""
        self.last_activity = None
        self.loaded_user = None  # the row's user, as load() found it (None: no row, no user or not loaded)

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
        self.loaded_user = None
        row = self._load_row() if self.session_key else None
        if row is None:
            self._session_key = None
            return {}
        session_data, self.last_activity, user_id, *user_values = row
        if user_id is not None and user_values[0] is not None:
            self.loaded_user = self._user_from(user_values)
        return self.decode(session_data)

    def _load_row(self):
        alias = self._db()
        sql, _names, _converters = _load_plan(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [token_digest(self.session_key), timezone.now()])
            return cursor.fetchone()

    def _user_from(self, values: list):
        from accounts.models import User

        alias = self._db()
        _sql, names, converters = _load_plan(alias)
        connection = connections[alias]
        for index, found in converters:
            for converter in found:
                values[index] = converter(values[index], None, connection)
        return User.from_db(alias, names, values)

    def flush(self):
        self.loaded_user = None
        super().flush()

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


def _verified(request, user):
    """Django's check that the session was made for this password (``auth.get_user``): a session
    hash from a fallback secret is renewed, a wrong or missing one flushes the session."""
    if not hasattr(user, "get_session_auth_hash"):
        return user
    session_hash = request.session.get(HASH_SESSION_KEY)
    session_auth_hash = user.get_session_auth_hash() if session_hash else None
    if session_hash and constant_time_compare(session_hash, session_auth_hash):
        return user
    if session_hash and any(
        constant_time_compare(session_hash, fallback) for fallback in user.get_session_auth_fallback_hash()
    ):
        request.session.cycle_key()
        request.session[HASH_SESSION_KEY] = session_auth_hash
        return user
    request.session.flush()
    return None


def session_user(request):
    """``request.user``: what ``django.contrib.auth.get_user`` returns, with the user row that came
    with the session's (``SessionStore.load``) in place of the backend's query for it.

    Only for a backend whose ``get_user`` is ``ModelBackend``'s (the row by its primary key, kept
    when ``user_can_authenticate``: a soft-deleted user is anonymous); any other case is Django's
    own ``get_user``.
    """
    from django.contrib import auth
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser

    session = request.session
    if not isinstance(session, SessionStore):
        return auth.get_user(request)
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    backend = load_backend(backend_path)
    user = session.loaded_user
    if user is None or user.pk != user_id or type(backend).get_user is not ModelBackend.get_user:
        return auth.get_user(request)
    user = user if backend.user_can_authenticate(user) else None
    return (_verified(request, user) if user is not None else None) or AnonymousUser()


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's middleware, telling the store where the request came from.

    It also prepares ``request.user`` before ``AuthenticationMiddleware`` runs: that middleware
    takes a user already on the request (``request._cached_user``) instead of asking
    ``auth.get_user``, so ``session_user`` answers, lazily as Django would.
    """

    def process_request(self, request):
        super().process_request(request)
        request.session.client_ip = client_ip(request)
        request.session.user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
        request._cached_user = SimpleLazyObject(partial(session_user, request))

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if isinstance(session, SessionStore) and session.accessed and session.needs_activity_refresh():
            session.modified = True
        return super().process_response(request, response)
