"""Django settings, all read from the environment (see .env.example for every variable).

DJANGO_ENV selects the mode: ``development`` (default), ``test`` or ``production``. Production
refuses to start without real secrets; development and tests generate theirs under var/.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from redis.backoff import NoBackoff
from redis.retry import Retry

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Under pytest the default is "test", so a bare `pytest` run is isolated like `make test`.
DJANGO_ENV = env.str("DJANGO_ENV", default="test" if "pytest" in sys.modules else "development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"
TESTING = DJANGO_ENV == "test"

if PRODUCTION:
    _missing = [name for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS") if not env.str(name, default="")]
    if _missing:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs these environment variables: " + ", ".join(_missing)
        )
    _dev_secrets: dict[str, str] = {}
else:
    _dev_secrets = embedded.ensure_dev_secrets()

SECRET_KEY = env.str("SECRET_KEY", default=_dev_secrets.get("SECRET_KEY", ""))
FIELD_ENCRYPTION_KEYS = env.str("FIELD_ENCRYPTION_KEYS", default=_dev_secrets.get("FIELD_ENCRYPTION_KEYS", ""))
# Off unless asked for (`make dev` or DEBUG=1): `make run` is for using the app, and Django's debug
# pages list every URL pattern and setting to whoever mistypes an address.
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# allauth reads the client address for its rate limits itself: it must count the same proxies, or
# behind a proxy every visitor shares one address and ten failed logins lock everybody out.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")

# --- applications -------------------------------------------------------------------------------

DOMAIN_APPS = [
    "accounts",
    "agents",
    "chats",
    "artifacts",
    "rag",
    "integrations",
    "storage",
    "health",
    "finance",
    "metrics",
    "support",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.github",
    "allauth.mfa",
    "csp",
    "core",
    *DOMAIN_APPS,
    "config",  # operator commands that span every app (backup, restore): config/management/
]

MIDDLEWARE = [
    # Security headers, frame denial and CSP wrap WhiteNoise, so static files carry them too.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accounts.sessions.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.tenancy.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.AdminGuardMiddleware",  # admin: second factor for staff, no control characters
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
                "metrics.context_processors.usage_banner",
            ],
        },
    }
]

# --- database: an owner role for migrations, a runtime role for the app --------------------------

_DB_OPTIONS = {"connect_timeout": 5}


def _database(url: str | None) -> dict:
    config = env.db_url_config(url)
    config["ENGINE"] = "core.db"
    config.setdefault("OPTIONS", {}).update(_DB_OPTIONS)
    return config


DATABASE_APP_USER = env.str("DATABASE_APP_USER", default=embedded.DEFAULT_APP_ROLE)
DATABASE_APP_PASSWORD = env.str("DATABASE_APP_PASSWORD", default="")

if env.str("DATABASE_URL", default=""):
    _owner = _database(env.str("DATABASE_URL"))
    _app_url = env.str("DATABASE_APP_URL", default="")
    if _app_url:
        _app = _database(_app_url)
    else:
        _app = {**_owner, "OPTIONS": dict(_owner["OPTIONS"]), "USER": DATABASE_APP_USER, "PASSWORD": DATABASE_APP_PASSWORD}
    EMBEDDED_POSTGRES = False
else:
    _owner = {
        "ENGINE": "core.db",
        "NAME": embedded.EMBEDDED_DB_NAME,
        "USER": embedded.EMBEDDED_OWNER,
        "PASSWORD": "",
        "HOST": str(embedded.pg_socket_dir()),
        "PORT": "",
        "OPTIONS": dict(_DB_OPTIONS),
    }
    _app = {**_owner, "OPTIONS": dict(_owner["OPTIONS"]), "USER": DATABASE_APP_USER, "PASSWORD": ""}
    EMBEDDED_POSTGRES = True

# DATABASE_NAME points both roles at another database of the same server (benchmarks, a second
# instance); unset, the name comes from DATABASE_URL or the embedded default.
if env.str("DATABASE_NAME", default=""):
    _owner["NAME"] = _app["NAME"] = env.str("DATABASE_NAME")

_conn_max_age = env.int("CONN_MAX_AGE", default=60)
for _db in (_owner, _app):
    _db["CONN_MAX_AGE"] = _conn_max_age
    _db["CONN_HEALTH_CHECKS"] = True
    # TEST_DB_NAME lets several test runs share one server (each drops and recreates its own).
    _db["TEST"] = {"NAME": env.str("TEST_DB_NAME", default=f"{_owner['NAME']}_test")}
# The owner alias exists only for migrations and test set-up; the app never queries through it.
_owner["CONN_MAX_AGE"] = 0
DATABASES = {"default": _app, "owner": _owner}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: cache, rate limits, Celery broker -----------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="") or embedded.embedded_redis_url(db=0)
EMBEDDED_REDIS = not env.str("REDIS_URL", default="")


def _with_redis_db(url: str, db: int) -> str:
    if url.startswith("unix://"):  # urlunsplit would drop the empty authority of unix:///path
        path, _, query = url.partition("?")
        params = [(k, v) for k, v in parse_qsl(query) if k != "db"] + [("db", str(db))]
        return f"{path}?{urlencode(params)}"
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


if TESTING:
    # Tests flush their Redis database: never the one a running app uses.
    REDIS_URL = _with_redis_db(REDIS_URL, env.int("REDIS_TEST_DB", default=15))

# core.cache.ResilientRedisCache: Django's Redis cache that fails open, fast, while Redis is down
# (login and share-password throttling fail closed instead; see core/cache.py). One retry at once,
# not redis-py's three with backoff; a socket timeout above the chat streams' 5 s blocking read.
CACHES = {
    "default": {
        "BACKEND": "core.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cjh-test" if TESTING else "cjh",
        "TIMEOUT": 300,
        "OPTIONS": {
            "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
            "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=10.0),
            "retry": Retry(NoBackoff(), 1),
        },
    }
}


def _broker_url(redis_url: str) -> str:
    """kombu spells a unix-socket Redis ``redis+socket://``; redis-py spells it ``unix://``."""
    if redis_url.startswith("unix://"):
        path, _, query = redis_url[len("unix://"):].partition("?")
        vhost = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("db", "0")
        return f"redis+socket://{path}?virtual_host={vhost}"
    return redis_url


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_broker_url(REDIS_URL))
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker process dies (SIGKILL, out of memory) goes back to the queue and runs again;
# each task's effect is idempotent (docs/decisions.md, "Reliability").
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A message taken by a worker that then vanished whole is delivered again after this many seconds
# (Redis transport): above the longest task's hard limit, so a running task is never delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900)}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
# Slow background upkeep runs on its own queue and worker (Procfile "maintenance").
CELERY_TASK_ROUTES = {"rag.compact_vectors": {"queue": "maintenance"}}
CELERY_BEAT_SCHEDULE: dict = {
    "accounts-clear-expired": {"task": "accounts.clear_expired", "schedule": 3600.0},
    "accounts-purge-deleted": {"task": "accounts.purge_deleted", "schedule": 24 * 3600.0},
    "rag-compact-vectors": {"task": "rag.compact_vectors", "schedule": 300.0},
    "rag-fail-stuck-documents": {"task": "rag.fail_stuck_documents", "schedule": 600.0},
    "rag-requeue-queued-documents": {"task": "rag.requeue_queued_documents", "schedule": 120.0},
    # One audited bypass per run finds expired files across users (24 audit rows a day).
    "storage-purge-expired": {"task": "storage.purge_expired", "schedule": 3600.0},
    "storage-purge-trash": {"task": "storage.purge_trash", "schedule": 24 * 3600.0},
    # Every minute: due dose reminders, missed doses, appointment reminders (expires: never two ticks queued).
    "health-send-reminders": {"task": "health.send_reminders", "schedule": 60.0, "options": {"expires": 55}},
    # Each run: one audited bypass to find the due rows, then each row in its owner's tenant.
    "finance-run-recurring": {"task": "finance.run_recurring", "schedule": 3600.0},
    "support-escalate": {"task": "support.escalate", "schedule": 300.0},
    "support-triage-pending": {"task": "support.triage_pending", "schedule": 600.0},
}

# --- auth ---------------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if TESTING:  # fast hashing keeps the suite quick; production keeps Django's defaults
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[cjhirashi-agents] "
ACCOUNT_RATE_LIMITS = {
    # Failed logins per IP and per account; allauth keeps the counters in the (Redis) cache.
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="10/m/ip,5/5m/key"),
    "signup": "20/m/ip",
    # "Resend the e-mail" on the verify page; allauth's own confirm_email limit (one per 3 min per
    # address) applies on top.
    "resend_verification": "5/h/ip",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Staff must have TOTP before any admin page: on in production unless set false (an empty value
# keeps the default), off elsewhere so `make run` works with seed_demo's staff user.
STAFF_REQUIRE_MFA = env.bool("STAFF_REQUIRE_MFA", default=PRODUCTION) if env.str("STAFF_REQUIRE_MFA", default="").strip() else PRODUCTION
MFA_TOTP_ISSUER = "cjhirashi-agents"
MFA_TOTP_TOLERANCE = 1  # accept the previous and next 30-second code: phones drift
SOCIALACCOUNT_STORE_TOKENS = False  # tokens are mirrored, encrypted, into the ERD's `accounts` table
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_PROVIDERS: dict = {}
for _provider, _scope in (("google", ["profile", "email"]), ("github", ["user:email"])):
    _client_id = env.str(f"{_provider.upper()}_CLIENT_ID", default="")
    _secret = env.str(f"{_provider.upper()}_CLIENT_SECRET", default="")
    if _client_id and _secret:
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [{"client_id": _client_id, "secret": _secret, "key": ""}],
            "SCOPE": _scope,
        }

INVITE_ONLY = env.bool("INVITE_ONLY", default=False)
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)
ACCOUNT_DELETION_GRACE_DAYS = env.int("ACCOUNT_DELETION_GRACE_DAYS", default=30)

# --- sessions: stored in the ERD's auth_sessions table -------------------------------------------

SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_ACTIVITY_INTERVAL = 300  # seconds between last-activity refreshes of a session row

# --- crypto -------------------------------------------------------------------------------------

if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty; see .env.example")

# --- i18n ---------------------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True

# --- static and media ---------------------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(embedded.VAR_DIR / "staticfiles")) if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION  # development serves straight from static/
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(embedded.VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- email --------------------------------------------------------------------------------------

if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cjhirashi-agents <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security -----------------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"] + (["https://accounts.google.com", "https://github.com"] if SOCIALACCOUNT_PROVIDERS else []),
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- model providers (agents/providers/) ------------------------------------------------------------

OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")  # any OpenAI-compatible server (Ollama, vLLM, ...)
ANTHROPIC_API_KEY = env.str("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env.str("ANTHROPIC_BASE_URL", default="")
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=60.0)
OFFLINE_STREAM_DELAY = env.float("OFFLINE_STREAM_DELAY", default=0.0 if TESTING else 0.02)
MODEL_REGISTRY_PATH = env.str("MODEL_REGISTRY_PATH", default="")

# --- chat and metering -------------------------------------------------------------------------

MAX_MESSAGE_CHARS = env.int("MAX_MESSAGE_CHARS", default=16000)
CHAT_SESSION_IDLE_HOURS = env.int("CHAT_SESSION_IDLE_HOURS", default=4)  # a new chat session after this idle time
# While an answer streams, its text goes out at most this often (the first words at once), each
# time with the whole answer so far rendered as sanitised Markdown unless snapshots are off.
CHAT_STREAM_INTERVAL_MS = env.int("CHAT_STREAM_INTERVAL_MS", default=100)
CHAT_STREAM_SNAPSHOTS = env.bool("CHAT_STREAM_SNAPSHOTS", default=True)
# Monthly limits per subscription tier; None means unlimited.
TIER_LIMITS = {
    "FREE": {"messages": env.int("LIMIT_FREE_MESSAGES", default=300), "tokens": env.int("LIMIT_FREE_TOKENS", default=300_000)},
    "PRO": {"messages": env.int("LIMIT_PRO_MESSAGES", default=5_000), "tokens": env.int("LIMIT_PRO_TOKENS", default=5_000_000)},
    "ENTERPRISE": {"messages": env.int("LIMIT_ENTERPRISE_MESSAGES", default=100_000), "tokens": env.int("LIMIT_ENTERPRISE_TOKENS", default=100_000_000)},
}
USAGE_ALERT_THRESHOLDS = (80, 90, 100)

# --- RAG (rag/) -----------------------------------------------------------------------------------

EMBEDDER = env.str("EMBEDDER", default="static")  # static | openai | sentence-transformers ("offline" was retired: rag.E002)
OPENAI_EMBEDDING_MODEL = env.str("OPENAI_EMBEDDING_MODEL", default="text-embedding-3-small")
SENTENCE_TRANSFORMERS_MODEL = env.str("SENTENCE_TRANSFORMERS_MODEL", default="")
VECTOR_STORE = env.str("VECTOR_STORE", default="pgvector")  # pgvector | pinecone
PINECONE_API_KEY = env.str("PINECONE_API_KEY", default="")
PINECONE_INDEX_HOST = env.str("PINECONE_INDEX_HOST", default="")
RAG_CHUNK_SIZE = env.int("RAG_CHUNK_SIZE", default=800)  # characters
RAG_CHUNK_OVERLAP = env.int("RAG_CHUNK_OVERLAP", default=120)
RAG_MAX_UPLOAD_BYTES = env.int("RAG_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
URL_FETCH_MAX_BYTES = env.int("URL_FETCH_MAX_BYTES", default=5 * 1024 * 1024)
URL_FETCH_TIMEOUT = env.float("URL_FETCH_TIMEOUT", default=15.0)
# Indexing bombs: caps applied while extracting, before the work they would cost is done.
RAG_MAX_UNPACKED_BYTES = env.int("RAG_MAX_UNPACKED_BYTES", default=3 * RAG_MAX_UPLOAD_BYTES)  # zip members / PDF content streams, in total
RAG_MAX_COMPRESSION_RATIO = env.int("RAG_MAX_COMPRESSION_RATIO", default=100)  # unpacked / packed, per zip member over 1 MB
RAG_MAX_PDF_PAGES = env.int("RAG_MAX_PDF_PAGES", default=2000)
RAG_MAX_DOCUMENT_CHARS = env.int("RAG_MAX_DOCUMENT_CHARS", default=5_000_000)  # extracted characters of one document
RAG_EXTRACTION_TIME_LIMIT = env.float("RAG_EXTRACTION_TIME_LIMIT", default=120.0)  # seconds of reading one document
RAG_INDEX_SOFT_TIME_LIMIT = env.int("RAG_INDEX_SOFT_TIME_LIMIT", default=600)  # seconds; the document then fails
RAG_INDEX_TIME_LIMIT = env.int("RAG_INDEX_TIME_LIMIT", default=660)  # seconds; the worker process is then killed
# A document still "Queued" this long (its task never reached the broker) is sent again (beat: rag.requeue_queued_documents).
RAG_REQUEUE_AFTER_SECONDS = env.int("RAG_REQUEUE_AFTER_SECONDS", default=600)
RAG_REINDEX_MAX_PER_HOUR = env.int("RAG_REINDEX_MAX_PER_HOUR", default=30)  # re-index requests per user
# Indexed text a user may keep, per subscription tier: characters and passages over all their documents.
RAG_TIER_LIMITS = {
    "FREE": {"characters": env.int("RAG_LIMIT_FREE_CHARACTERS", default=10_000_000), "chunks": env.int("RAG_LIMIT_FREE_CHUNKS", default=20_000)},
    "PRO": {"characters": env.int("RAG_LIMIT_PRO_CHARACTERS", default=100_000_000), "chunks": env.int("RAG_LIMIT_PRO_CHUNKS", default=200_000)},
    "ENTERPRISE": {"characters": env.int("RAG_LIMIT_ENTERPRISE_CHARACTERS", default=1_000_000_000), "chunks": env.int("RAG_LIMIT_ENTERPRISE_CHUNKS", default=2_000_000)},
}
# A constant fusion text weight per embedder, instead of rag/fusion.py's measured FUSION weights
# (which follow the question's word match), as "static=0.5,sentence-transformers=0.35" (empty: the
# measured weights).
RAG_FUSION_TEXT_WEIGHTS = {
    name.strip(): float(weight)
    for name, _, weight in (item.partition("=") for item in env.str("RAG_FUSION_TEXT_WEIGHTS", default="").split(","))
    if name.strip()
}
# A real model rewrites a follow-up question into a standalone search query (metered like any call).
RAG_FOLLOWUP_REWRITE = env.bool("RAG_FOLLOWUP_REWRITE", default=False)
RAG_HNSW_EF_SEARCH = env.int("RAG_HNSW_EF_SEARCH", default=800)  # pgvector HNSW search breadth: recall vs speed

# --- files (storage/) ---------------------------------------------------------------------------
# Where blobs live: "local" (MEDIA_ROOT under var/) or "s3" (django-storages, settings below).
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
STORAGE_S3_BUCKET = env.str("STORAGE_S3_BUCKET", default="")
STORAGE_S3_ENDPOINT_URL = env.str("STORAGE_S3_ENDPOINT_URL", default="")  # empty: AWS itself
STORAGE_S3_REGION = env.str("STORAGE_S3_REGION", default="")
STORAGE_S3_ACCESS_KEY_ID = env.str("STORAGE_S3_ACCESS_KEY_ID", default="")
STORAGE_S3_SECRET_ACCESS_KEY = env.str("STORAGE_S3_SECRET_ACCESS_KEY", default="")
STORAGE_S3_PREFIX = env.str("STORAGE_S3_PREFIX", default="")  # a key prefix inside the bucket
# Virus scanning through clamd (INSTREAM); neither set: files are stored unscanned (check storage.W001 in production).
CLAMD_SOCKET = env.str("CLAMD_SOCKET", default="")  # e.g. /run/clamav/clamd.ctl
CLAMD_HOST = env.str("CLAMD_HOST", default="")
CLAMD_PORT = env.int("CLAMD_PORT", default=3310)
CLAMD_TIMEOUT = env.float("CLAMD_TIMEOUT", default=60.0)  # seconds per file
# Storage limits per subscription tier (bytes, bytes, files); storage_quotas follows the user's tier.
STORAGE_TIER_LIMITS = {
    "FREE": {"max_storage": env.int("STORAGE_FREE_MAX_BYTES", default=1024 ** 3), "max_file_size": env.int("STORAGE_FREE_MAX_FILE_BYTES", default=100 * 1024 ** 2), "max_files": env.int("STORAGE_FREE_MAX_FILES", default=1000)},
    "PRO": {"max_storage": env.int("STORAGE_PRO_MAX_BYTES", default=20 * 1024 ** 3), "max_file_size": env.int("STORAGE_PRO_MAX_FILE_BYTES", default=1024 ** 3), "max_files": env.int("STORAGE_PRO_MAX_FILES", default=20_000)},
    "ENTERPRISE": {"max_storage": env.int("STORAGE_ENTERPRISE_MAX_BYTES", default=200 * 1024 ** 3), "max_file_size": env.int("STORAGE_ENTERPRISE_MAX_FILE_BYTES", default=5 * 1024 ** 3), "max_files": env.int("STORAGE_ENTERPRISE_MAX_FILES", default=200_000)},
}
FILES_MAX_UPLOAD_BYTES = env.int("FILES_MAX_UPLOAD_BYTES", default=2 * 1024 ** 3)  # one upload request, all its files
# Share links (/s/<token>/): default and longest life, password rules, wrong-password throttle.
SHARE_DEFAULT_DAYS = env.int("SHARE_DEFAULT_DAYS", default=7)
SHARE_MAX_DAYS = env.int("SHARE_MAX_DAYS", default=90)
SHARE_MAX_DOWNLOADS = env.int("SHARE_MAX_DOWNLOADS", default=100_000)  # the largest download limit one may set
SHARE_PASSWORD_MIN_LENGTH = env.int("SHARE_PASSWORD_MIN_LENGTH", default=8)
SHARE_PASSWORD_FREE_ATTEMPTS = env.int("SHARE_PASSWORD_FREE_ATTEMPTS", default=5)  # per link, then a wait
SHARE_PASSWORD_FREE_ATTEMPTS_PER_IP = env.int("SHARE_PASSWORD_FREE_ATTEMPTS_PER_IP", default=20)  # per address, all links
SHARE_PASSWORD_BASE_DELAY = env.float("SHARE_PASSWORD_BASE_DELAY", default=2.0)  # seconds, doubled per failure past the free ones
SHARE_PASSWORD_MAX_DELAY = env.float("SHARE_PASSWORD_MAX_DELAY", default=900.0)
# The trash: files deleted longer ago than this are purged for good (beat: storage.purge_trash, daily).
STORAGE_TRASH_RETENTION_DAYS = env.int("STORAGE_TRASH_RETENTION_DAYS", default=30)

# --- artifacts (/artifacts/, /a/, artifacts/conf.py) --------------------------------------------------
ARTIFACTS_CAPTURE = env.bool("ARTIFACTS_CAPTURE", default=True)  # keep answers' blocks as artifacts; off: chat as before
# Size floor: an unnamed block under MIN_CHARS characters and MIN_LINES lines stays in the message only.
ARTIFACTS_MIN_CHARS = env.int("ARTIFACTS_MIN_CHARS", default=80)
ARTIFACTS_MIN_LINES = env.int("ARTIFACTS_MIN_LINES", default=3)
ARTIFACTS_MARKDOWN_MIN_CHARS = env.int("ARTIFACTS_MARKDOWN_MIN_CHARS", default=400)  # an unnamed Markdown block, from this size
# Content above this goes to the file storage (usage ARTIFACT); the row keeps a preview.
ARTIFACTS_INLINE_MAX_BYTES = env.int("ARTIFACTS_INLINE_MAX_BYTES", default=1024 * 1024)
ARTIFACTS_MAX_BYTES = env.int("ARTIFACTS_MAX_BYTES", default=10 * 1024 * 1024)  # the largest artifact accepted
ARTIFACTS_IMAGE_MAX_BYTES = env.int("ARTIFACTS_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)  # a decoded data-URL image or SVG
ARTIFACTS_PAGE_SIZE = env.int("ARTIFACTS_PAGE_SIZE", default=30)

# --- finance (/finance/, finance/conf.py) -------------------------------------------------------------
FINANCE_IMPORT_MAX_BYTES = env.int("FINANCE_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)  # CSV/OFX/prices/rates file; refused unread past it
FINANCE_IMPORT_MAX_ROWS = env.int("FINANCE_IMPORT_MAX_ROWS", default=50_000)  # rows one import may hold
FINANCE_TRANSACTIONS_PAGE_SIZE = env.int("FINANCE_TRANSACTIONS_PAGE_SIZE", default=50)

# --- health (/health/, health/conf.py) ---------------------------------------------------------------
# After a dose's time, a confirmation still counts as on time; past it, late, and an unrecorded dose is missed.
HEALTH_DOSE_GRACE_MINUTES = env.int("HEALTH_DOSE_GRACE_MINUTES", default=60)
# A dose reminder not sent within this many minutes is dropped, never sent late (beat: health.send_reminders).
HEALTH_REMINDER_MAX_DELAY_MINUTES = env.int("HEALTH_REMINDER_MAX_DELAY_MINUTES", default=30)
HEALTH_APPOINTMENT_REMINDER_HOURS = env.int("HEALTH_APPOINTMENT_REMINDER_HOURS", default=24)
HEALTH_REMINDER_FROM_EMAIL = env.str("HEALTH_REMINDER_FROM_EMAIL", default="")  # empty: DEFAULT_FROM_EMAIL
# Dotted path of the reminder channel (a class with send(reminder)); empty: health.reminders.EmailChannel.
HEALTH_REMINDER_CHANNEL = env.str("HEALTH_REMINDER_CHANNEL", default="")
HEALTH_MEASUREMENTS_PAGE_SIZE = env.int("HEALTH_MEASUREMENTS_PAGE_SIZE", default=50)  # rows of the measurements table per page

# --- support (/support/ and the admin, support/conf.py) ----------------------------------------------
SUPPORT_REOPEN_DAYS = env.int("SUPPORT_REOPEN_DAYS", default=7)  # after resolving/closing, the user may reopen
# First-response and resolution targets per priority, in business hours (keys merged over these).
SUPPORT_RESPONSE_HOURS = {"URGENT": 1, "HIGH": 4, "MEDIUM": 8, "LOW": 24}
SUPPORT_RESOLUTION_HOURS = {"URGENT": 8, "HIGH": 24, "MEDIUM": 40, "LOW": 80}
SUPPORT_WORKING_DAYS = tuple(env.list("SUPPORT_WORKING_DAYS", cast=int, default=[1, 2, 3, 4, 5]))  # ISO, Monday = 1
SUPPORT_WORKING_HOURS = tuple(env.list("SUPPORT_WORKING_HOURS", cast=int, default=[8, 18]))  # opening, closing hour
SUPPORT_TIMEZONE = env.str("SUPPORT_TIMEZONE", default="")  # empty: TIME_ZONE
SUPPORT_HOLIDAYS = tuple(env.list("SUPPORT_HOLIDAYS", default=[]))  # ISO dates not worked
# Who hears of new URGENT tickets and escalations when nobody is assigned; empty: every active support/admin staff.
SUPPORT_STAFF_EMAILS = tuple(env.list("SUPPORT_STAFF_EMAILS", default=[]))
SUPPORT_TRIAGE_MODEL = env.str("SUPPORT_TRIAGE_MODEL", default="offline")  # a registry model; offline: rules only
SUPPORT_MAX_ATTACHMENT_BYTES = env.int("SUPPORT_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
SUPPORT_MAX_ATTACHMENTS = env.int("SUPPORT_MAX_ATTACHMENTS", default=5)
SUPPORT_POLL_SECONDS = env.int("SUPPORT_POLL_SECONDS", default=10)  # how often a ticket page asks for replies

# --- per-person rate limits (core/ratelimit.py): "<count>/<seconds>"; 0/<seconds> turns one off ---
RATE_LIMITS = {
    "messages": env.str("RATE_LIMIT_MESSAGES", default="30/60"),  # chat questions per person
    "uploads": env.str("RATE_LIMIT_UPLOADS", default="60/600"),  # file uploads and documents added
    "url_fetches": env.str("RATE_LIMIT_URL_FETCHES", default="20/600"),  # documents fetched from an address
    "share_downloads": env.str("RATE_LIMIT_SHARE_DOWNLOADS", default="60/600"),  # per share link and address
}

# --- backups (manage.py backup / restore, config/backup.py) ----------------------------------------
# A role that bypasses row-level security (superuser or BYPASSRLS); empty: the embedded server's superuser.
BACKUP_DATABASE_URL = env.str("BACKUP_DATABASE_URL", default="")
# pg_dump / pg_restore; empty: the embedded server's binaries, else those on PATH.
BACKUP_PG_BIN_DIR = env.str("BACKUP_PG_BIN_DIR", default="")
# Where `manage.py backup` writes when no --output is given (one directory per run, named by UTC time).
BACKUP_DIR = env.str("BACKUP_DIR", default="") or str(embedded.VAR_DIR / "backups")

# --- logging ------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The SDKs' HTTP clients log every request at INFO; keep their warnings only.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}
