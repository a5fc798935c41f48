"""destreg settings: one file, every deploy-time value from the environment.

With no variables set the app runs embedded: SQLite in var/, media in
var/media, e-mail printed to the console. See README.md for the variables.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from destreg.lib.env import env_bool, env_int, env_json_object, env_list, env_str
from destreg.lib.release import release
from destreg.lib.replica import replica_database

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DESTREG_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=False)
# The embedded default key is only good for a laptop; production sets SECRET_KEY.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Where absolute links in e-mails and the agreement PDF (its QR code) point. Production sets
# it: `manage.py check --deploy` refuses it unset while DEBUG is off (agreements.E001). Unset,
# a page in development builds its links from the request's host, and work without a request
# (background tasks) falls back to the development server's address.
SITE_URL_SET = bool(env_str("SITE_URL"))
SITE_URL = env_str("SITE_URL").rstrip("/") or "http://127.0.0.1:8000"

# Keys protecting 身份证号 at rest: one encrypts, the other makes the lookup digest.
# Both fall back to values derived from SECRET_KEY for the embedded default.
PII_ENCRYPTION_KEY = env_str("PII_ENCRYPTION_KEY")
PII_DIGEST_KEY = env_str("PII_DIGEST_KEY")

# The graduating class the system currently registers (毕业年份 of "current graduates").
GRADUATION_YEAR = env_int("GRADUATION_YEAR", 0) or None

# How long each process may show a code, region, school, college or major after another
# process changed it (destreg/reference/cache.py).
REFERENCE_CACHE_SECONDS = env_int("REFERENCE_CACHE_SECONDS", 60, minimum=0)

# The largest 学籍 import file accepted (bytes), checked before the file is read.
REGISTRY_IMPORT_MAX_BYTES = env_int("REGISTRY_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# Rows a unit may upload in batch invitations per 24 hours: a batch file must not become a
# way to test identities at scale (agreements/batches/services.py).
INVITATION_BATCH_ROWS_PER_DAY = env_int("INVITATION_BATCH_ROWS_PER_DAY", 4000, minimum=1)

INSTALLED_APPS = [
    "destreg.accounts.admin_site.VerifiedAdminConfig",  # django.contrib.admin + second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_fsm",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    "destreg",  # destreg/apps.py: the cache invalidation rules
    "destreg.accounts",
    "destreg.reference",
    "destreg.audit",
    "destreg.demo",
    "students",
    "employers",
    "agreements",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "destreg.lib.middleware.RejectNulMiddleware",
    "destreg.lib.replica.ReadYourWritesMiddleware",  # with a replica: reads after a write
    "django.contrib.sessions.middleware.SessionMiddleware",
    "destreg.lib.middleware.LanguageCookieMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "destreg.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "destreg.urls"
WSGI_APPLICATION = "destreg.wsgi.application"

TEMPLATES = [
    {
        # Pages, e-mails and the agreement PDF in templates/; the admin (with its overrides
        # in the apps' templates/admin/) and crispy's layouts from the apps. With DEBUG off,
        # Django wraps the loaders in its cached loader: each template is parsed once.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "libraries": {"destreg": "destreg.lib.template_tags"},
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "destreg.audit.context_processors.unread_notifications",
                "students.sso.login_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Bind parameters on the server and prepare statements a connection repeats,
        # so PostgreSQL plans each page's queries once per connection, not per request
        # (the student home page went from 18 to 6 ms). Behind PgBouncer in transaction
        # mode this needs PgBouncer >= 1.21 with max_prepared_statements set, or
        # DATABASE_PREPARE_THRESHOLD=0 to turn preparing off.
        threshold = env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {
                "server_side_binding": True,
                # psycopg reads 0 as "prepare at once" and None as "never": 0 here means never.
                "prepare_threshold": threshold or None,
            }
        )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "destreg.sqlite3"),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue
                # instead of failing with "database is locked" half-way through.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
# A PostgreSQL streaming replica for long reads: statistics, exports, the annual report and
# the 核查 flags read from it inside destreg.lib.replica.reads_from_replica(); everything else,
# every write and lock, and the requests of a browser that wrote within
# REPLICA_READ_YOUR_WRITES_SECONDS use the primary, as does every read while the replica lags
# more than REPLICA_MAX_LAG_SECONDS (keep it below destreg.lib.cache.FORGOTTEN_SECONDS).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
REPLICA_READ_YOUR_WRITES_SECONDS = env_int("REPLICA_READ_YOUR_WRITES_SECONDS", 30, minimum=1)
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 5, minimum=0)
if DATABASE_REPLICA_URL:
    if not DATABASE_URL:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL (the primary)")
    if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL primary")
    DATABASES["replica"] = replica_database(
        DATABASES["default"],
        dj_database_url.parse(
            DATABASE_REPLICA_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
        ),
    )
    DATABASE_ROUTERS = ["destreg.lib.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# School single sign-on (统一身份认证, OpenID Connect): each school's provider is set up in the
# admin (students.SchoolSignOn); this switch turns all of them off at once.
SSO_ENABLED = env_bool("SSO_ENABLED", default=True)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # The seam for a future national SSO backend: add it here.
    *env_list("EXTRA_AUTHENTICATION_BACKENDS"),
    "destreg.accounts.backends.UserAndProfileBackend",
    # Answers only the SSO callback (students/sso.py). Last, so that the backend of a
    # session made without one (force_login) stays the cached one above.
    *(["students.sso.SchoolOIDCBackend"] if SSO_ENABLED else []),
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600, minimum=300)  # seconds
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_COOKIE_HTTPONLY = True

# The client's address: the N-th X-Forwarded-For entry from the right when N reverse proxies
# (nginx: 1) stand in front; 0 ignores the header (destreg/lib/clients.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# Login throttling (django-axes): lock a username+address pair after repeated failures, so a
# stranger elsewhere cannot lock the owner out; and refuse a client that failed on
# LOGIN_CLIENT_ACCOUNT_LIMIT different accounts (password spraying, accounts/throttling.py).
AXES_CLIENT_IP_CALLABLE = "destreg.lib.clients.client_ip"
LOGIN_CLIENT_ACCOUNT_LIMIT = env_int("LOGIN_CLIENT_ACCOUNT_LIMIT", 30, minimum=2)
# Per client address and hour: student sign-ups, and first-login codes sent (students/).
# A campus behind one NAT address shares them: set them for its busiest hour.
SIGNUPS_PER_CLIENT_PER_HOUR = env_int("SIGNUPS_PER_CLIENT_PER_HOUR", 60, minimum=1)
CODE_SENDS_PER_CLIENT_PER_HOUR = env_int("CODE_SENDS_PER_CLIENT_PER_HOUR", 60, minimum=1)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_VERBOSE = False
AXES_WHITELIST_CALLABLE = "students.sso.is_sso_callback"  # not a password guess

# Second factor (django-otp, destreg/accounts/second_factor.py): TOTP apps plus one-time
# recovery codes. Required for school reviewers, platform admins and anybody with admin
# access; college reviewers and employers may opt in. A wrong code makes the device wait
# 1, 2, 4, 8 … seconds times the factor before it checks another one.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "destreg")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# The seed_demo staff sign in with the password alone, but only while DEBUG is on.
SECOND_FACTOR_DEMO_USERNAMES = ["school1", "school2", "admin", "province1", "ministry1"]

# --- i18n -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# Media (uploads, agreement PDFs): MEDIA_ROOT on local or shared disk by default. Another
# backend, e.g. an object store through django-storages, is named by MEDIA_STORAGE_BACKEND
# with its options as a JSON object in MEDIA_STORAGE_OPTIONS (docs/deploy.md).
STORAGES = {
    "default": {
        "BACKEND": env_str("MEDIA_STORAGE_BACKEND", "destreg.lib.storage.MediaStorage"),
        "OPTIONS": env_json_object("MEDIA_STORAGE_OPTIONS"),
    },
    # Served by WhiteNoise from STATIC_ROOT (`make run` collects them), compressed and hashed.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: uploads go through permission-checked views
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Cache -------------------------------------------------------------------
# Embedded default: per-process memory. Several app servers: CACHE_URL=redis://…
CACHE_URL = env_str("CACHE_URL")
# Every cache key carries the release, so a deploy never reads what older code wrote there
# (pickled rows, changed shapes). Unset: a digest of the running code (destreg/lib/release.py).
RELEASE = release(env_str("RELEASE"), BASE_DIR)
CACHE_KEY_PREFIX = f"destreg-{RELEASE}"
# The shared cache (django-redis). Everything cached can be recomputed or is also in the
# database, so while Redis is unreachable the cache misses instead of failing: reads answer
# the default, writes are skipped, incr answers None (a rate limit lets the request through).
REDIS_CACHE = {
    "BACKEND": "django_redis.cache.RedisCache",
    "KEY_PREFIX": CACHE_KEY_PREFIX,
    "OPTIONS": {
        "SOCKET_CONNECT_TIMEOUT": 1,  # an unreachable Redis costs a request a second, not a hang
        "SOCKET_TIMEOUT": 1,
        "IGNORE_EXCEPTIONS": True,
    },
}
CACHES = {
    "default": (
        {**REDIS_CACHE, "LOCATION": CACHE_URL}
        if CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    ),
}
# Each operation skipped while Redis is unreachable is logged (logger django_redis.cache).
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# With a shared cache, sessions are read from it and written through to the database.
if CACHE_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- The REST API for units' HR systems (agreements/api/, docs/api.md) ------
# Calls a key may make per minute; counted in the cache above (shared with CACHE_URL).
API_RATE_PER_MINUTE = env_int("API_RATE_PER_MINUTE", 60, minimum=1)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["agreements.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["agreements.api.permissions.KeyScope"],
    "DEFAULT_THROTTLE_CLASSES": ["agreements.api.throttling.PerKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["agreements.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# The schema is served by the app itself (no Swagger UI from a CDN: the CSP forbids it);
# /api/docs/ is its server-rendered page.
SPECTACULAR_SETTINGS = {
    "TITLE": "destreg HR API",
    "DESCRIPTION": "Signing invitations and agreements for units' HR systems (docs/api.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Background tasks (django-tasks) ---------------------------------------
# Embedded default: tasks run in-process right after the request's transaction
# commits. Production: TASKS_BACKEND=django_tasks_db.DatabaseBackend plus
# `manage.py db_worker` processes.
# Webhooks may go to plain http://127.0.0.1 (a receiver on this machine): development and
# tests only; otherwise https:// to public addresses alone (agreements/webhooks/sending.py).
WEBHOOK_ALLOW_HTTP_LOCALHOST = env_bool("WEBHOOK_ALLOW_HTTP_LOCALHOST", default=DEBUG)

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
    }
}

# --- Agreement PDFs -------------------------------------------------------
# PAdES signing key and certificate (PEM). Unset: a self-signed development
# pair is generated under var/signing/ on first use.
PDF_SIGNING_KEY = env_str("PDF_SIGNING_KEY")
PDF_SIGNING_CERT = env_str("PDF_SIGNING_CERT")

# --- E-mail ---------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "destreg <noreply@destreg.local>")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)  # seconds; a hung server fails the task

# --- Text messages ----------------------------------------------------------
# The first-login check's one-time codes (destreg/lib/sms.py): a class with
# send_messages(messages); the default prints them to the console.
SMS_BACKEND = env_str("SMS_BACKEND", "destreg.lib.sms.ConsoleBackend")

# --- Security -------------------------------------------------------------
# Production turns these on (see docs/deploy.md and `make prod-check`).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers check over plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A strict Content-Security-Policy: no inline scripts or styles anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
    }
}
# Tracebacks and error e-mails must never show a 身份证号 or password.
DEFAULT_EXCEPTION_REPORTER_FILTER = "destreg.lib.pii.PiiSafeExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "destreg.lib.pii.PiiSafeExceptionReporter"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"  # the document views that reviewers preview in an iframe relax it

# Every log line passes the ID-number mask (destreg/lib/pii.py): the root handler, Django's
# request log and runserver's request lines (which Django's defaults send to handlers of their
# own); gunicorn's access and error logs go through the same filter (destreg/gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"pii": {"()": "destreg.lib.pii.PiiLogFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["pii"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["pii"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # pypdf warns about every flaw it works around in an uploaded PDF: noise, not news.
        "pypdf": {"level": "ERROR"},
    },
}
