"""Settings shared by every environment, read from the environment (django-environ).

Nothing secret lives here: SECRET_KEY, DATABASE_URL, REDIS_URL and mail settings come from the environment.
`dev`, `test` and `production` import this module and override only what differs.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as static files: no CDN (the CSP and offline hosts)
    # Our apps: shared apps first, then one app per record kind.
    "accounts",
    "core",
    "cmdb",
    "sla",
    "incidents",
    "requests_app",
    "problems",
    "changes",
    "knowledge",
    "integrations",
    "reports",
    "contracts",
    "portal",
    "automation",
]

MIDDLEWARE = [
    # Outermost, so it sees the 500 of a failure anywhere below: a database or Redis outage becomes a 503.
    "core.outage.OutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "itsm.urls"
WSGI_APPLICATION = "itsm.wsgi.application"
ASGI_APPLICATION = "itsm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/itsm")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django's PostgreSQL backend, plus a health check that needs no round trip and prepared statements for
# our own hot queries (core/perf/postgresql/base.py; it moved there from core/postgresql with the rest of
# the fenced performance layer, core/perf/README.md). The suite runs on PostgreSQL only (SPEC section 1).
DATABASES["default"]["ENGINE"] = "core.perf.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "core.perf.redis_cache.SharedClientRedisCache",
        "LOCATION": env("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="itsm"),
        # A stalled Redis costs a request at most one short wait, then core.breaker.CACHE skips the
        # cache for a while (callers read the database instead). Loopback answers in well under 1 ms.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=10)

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Enterprise identity (README "Directory sign-in and single sign-on"; code in accounts/identity/).
# Three ways in, tried in this order: the company directory (LDAP / Active Directory, on when LDAP_SERVER_URI
# is set), local passwords (refused for everyone but SSO_BREAK_GLASS_USERS when SSO_REQUIRED), and OpenID
# Connect single sign-on (on when OIDC_RP_CLIENT_ID is set; its own button on the login page).
AUTHENTICATION_BACKENDS = [
    "accounts.identity.ldap.DirectoryBackend",
    "accounts.identity.backends.LocalPasswordBackend",
    "accounts.identity.oidc.SingleSignOnBackend",
]
LDAP_SERVER_URI = env("LDAP_SERVER_URI", default="")
LDAP_START_TLS = env.bool("LDAP_START_TLS", default=False)
LDAP_BIND_DN = env("LDAP_BIND_DN", default="")
LDAP_BIND_PASSWORD = env("LDAP_BIND_PASSWORD", default="")
LDAP_TIMEOUT = env.int("LDAP_TIMEOUT", default=5)
LDAP_USER_BASE_DN = env("LDAP_USER_BASE_DN", default="")
# `%(user)s` is the name typed on the login page, escaped by django-auth-ldap before it reaches the filter.
# Put "only enabled accounts" in the filter, e.g. for Active Directory:
# (&(objectClass=user)(sAMAccountName=%(user)s)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))
LDAP_USER_FILTER = env("LDAP_USER_FILTER", default="(&(objectClass=inetOrgPerson)(uid=%(user)s))")
LDAP_USERNAME_ATTR = env("LDAP_USERNAME_ATTR", default="uid")
LDAP_USER_ATTR_MAP = env.dict(
    "LDAP_USER_ATTR_MAP",
    default={
        "first_name": "givenName",
        "last_name": "sn",
        "email": "mail",
        "phone": "telephoneNumber",
        "department": "departmentNumber",
    },
)
LDAP_MANAGER_ATTR = env("LDAP_MANAGER_ATTR", default="manager")
LDAP_GROUP_BASE_DN = env("LDAP_GROUP_BASE_DN", default="")
LDAP_GROUP_FILTER = env("LDAP_GROUP_FILTER", default="(objectClass=groupOfNames)")
# groupOfNames, nested_groupOfNames, active_directory, nested_active_directory, posix
LDAP_GROUP_TYPE = env("LDAP_GROUP_TYPE", default="groupOfNames")
# When beat runs the directory sync (accounts.sync_directory), UTC.
DIRECTORY_SYNC_HOUR = env.int("DIRECTORY_SYNC_HOUR", default=2)
DIRECTORY_SYNC_MINUTE = env.int("DIRECTORY_SYNC_MINUTE", default=30)
# Directory groups (LDAP group cn, OIDC `groups` claim values) -> roles and assignment groups, for both.
IDENTITY_ROLE_MAP = env.dict("IDENTITY_ROLE_MAP", default={})
IDENTITY_GROUP_MAP = env.dict("IDENTITY_GROUP_MAP", default={})
SSO_REQUIRED = env.bool("SSO_REQUIRED", default=False)
SSO_BREAK_GLASS_USERS = env.list("SSO_BREAK_GLASS_USERS", default=["admin"])

OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile")
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_END_SESSION_ENDPOINT = env("OIDC_OP_END_SESSION_ENDPOINT", default="")
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
OIDC_USERNAME_CLAIM = env("OIDC_USERNAME_CLAIM", default="preferred_username")
# mozilla-django-oidc's own switches, fixed: PKCE (S256) and a nonce always, the ID token kept in the
# session for the provider's end-session call, our callback route, bounded waits on the provider.
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc-callback"
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
OIDC_VERIFY_SSL = env.bool("OIDC_VERIFY_SSL", default=True)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Front-end packages come from the npm registry (`npm ci` in `make`), served from node_modules: nothing
# third-party is pasted into the repository.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/tabler", NODE_MODULES / "@tabler" / "core" / "dist"),
    ("vendor/tabler-icons", NODE_MODULES / "@tabler" / "icons-webfont" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/cytoscape", NODE_MODULES / "cytoscape" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"

# Attachments: size limit and extension allowlist (core.attachments enforces both).
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_ALLOWED_EXTENSIONS = env.list(
    "ATTACHMENT_ALLOWED_EXTENSIONS",
    default=[
        "txt",
        "log",
        "csv",
        "json",
        "xml",
        "yaml",
        "yml",
        "pdf",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "webp",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "odt",
        "ods",
        "zip",
        "gz",
        "eml",
        "msg",
    ],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.FilterBackend"],
    # JSON only: a form-encoded body has no way to say null or a list of one, so the schema could not tell
    # the truth about it. Uploads (attachments, CMDB import) and the token endpoint declare their parsers.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env("LOGIN_THROTTLE_RATE", default="10/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ITSM suite API",
    "DESCRIPTION": "Service desk and CMDB: incidents, requests, problems, changes, CIs, knowledge.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.allow_empty_query_values",
        "core.api.schema.time_as_clock_text",
    ],
    # Tags and operation ids come from the path after /api/v1 (the ServiceNow subset under /api/now/ names
    # its own tag), as they did before that second prefix existed.
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The native API's operations first, the ServiceNow subset after them (core.api.schema.native_api_first).
    "SORT_OPERATIONS": "core.api.schema.native_api_first",
    # /api/v1/docs/ and /api/v1/redoc/ load their JavaScript from our static files (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None, "persistAuthorization": False},
    # Choice sets shared by several fields get one schema name each.
    "ENUM_NAME_OVERRIDES": {
        "ImpactUrgencyEnum": "incidents.choices.Impact",
        "RiskEnum": "changes.choices.Risk",
        "ChangeTypeEnum": "changes.choices.ChangeType",
        "CIStatusEnum": "cmdb.models.CIStatus",
        "DeliveryStatusEnum": "integrations.models.DeliveryStatus",
        "InboundStatusEnum": "integrations.models.InboundStatus",
    },
}
# JSON request bodies (core.api.parsers): bigger than this is a 413, nested deeper a 400.
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=5 * 1024 * 1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=64)
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)
# The HMAC key of stored API token hashes (accounts.tokens); empty: SECRET_KEY.
API_TOKEN_HASH_KEY = env("API_TOKEN_HASH_KEY", default="")

# Celery, all in one place (README "Faults and recovery"). Redis is the broker; the database is the
# source of truth (outbox rows, SLA next_check_at), so a lost message delays work but never loses it.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
# No result backend: no caller waits on a task's return value, and results would only fill Redis.
CELERY_RESULT_BACKEND = None
# Acknowledge after the task ran, not when received: a worker killed mid-task leaves the message
# unacknowledged, and Redis hands it out again after the visibility timeout. Tasks are idempotent.
CELERY_TASK_ACKS_LATE = True
# ...and also when the worker process dies (SIGKILL, OOM): without this a lost child acks the message.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# ...but a task that raised or hit its time limit is acknowledged (Celery's default, stated): retrying is
# each task's own decision (autoretry_for), and a poison message must not be redelivered forever.
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = True
# When the worker loses the broker its unacknowledged messages will be delivered again, so stop the
# late-acked tasks still running rather than let them finish alongside their redelivered copies
# (Celery 6's default; without it Celery 5 warns at start-up).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Reserve one message per process beyond the one running: a killed worker then strands one message, not
# dozens (eta messages are reserved regardless; see SLA_ETA_HORIZON).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Hard limit kills a runaway task; the soft limit, earlier, lets it raise and roll back cleanly. The
# longest legitimate task is an SLA sweep, which stops claiming after sla.escalations.SWEEP_BUDGET (60 s).
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# SLA checks are published with an eta only this far ahead (seconds); later instants wait for the sweep
# (sla.engine.schedule_check). A worker holds an eta message unacknowledged until it runs.
SLA_ETA_HORIZON = env.int("SLA_ETA_HORIZON", default=120)
# Redis redelivers an unacknowledged message after the visibility timeout. It must exceed the longest a
# message is held: the eta horizon plus the hard time limit plus a margin (480 s); any shorter and a slow
# task would run twice, any longer (it was 3,600 s) and a dead worker's messages stay invisible for that
# long. Work they carried is not waiting on them: the SLA sweep and the outbox sweep find it in the database.
#
# Socket timeouts: a stalled Redis (SIGSTOP, a full network buffer) must cost a request one short wait,
# not hang it: connect 1 s, read/write 1 s (loopback Redis answers in well under 1 ms); after a failed
# publish the enqueue path backs off (core.breaker.BROKER) so later requests skip the broker at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + SLA_ETA_HORIZON + 60,
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
    "socket_keepalive": True,
    "health_check_interval": 10,
}
# Time to establish a broker connection (Celery's default is 4 s).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# Publishing from a web request never retries (the outbox row or next_check_at is retried later instead).
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The worker itself keeps retrying the broker forever on startup and after losing it.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Results are disabled; if a task ever stores one, it expires after a day rather than never.
CELERY_RESULT_EXPIRES = 86400
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}  # each app adds its periodic tasks in itsm/celery.py

INCIDENT_AUTO_CLOSE_DAYS = env.int("INCIDENT_AUTO_CLOSE_DAYS", default=7)
# Correlation (SPEC §7): incidents opened this close in time on CIs sharing an upstream CI this few hops
# away are grouped under one major incident. CORRELATION_ENABLED=false turns the grouping off.
CORRELATION_ENABLED = env.bool("CORRELATION_ENABLED", default=True)
CORRELATION_WINDOW_SECONDS = env.int("CORRELATION_WINDOW_SECONDS", default=900)
CORRELATION_MAX_HOPS = env.int("CORRELATION_MAX_HOPS", default=3)
# A new group needs this many incidents sharing the upstream CI (2: any pair, as SPEC §7 says).
CORRELATION_MIN_INCIDENTS = env.int("CORRELATION_MIN_INCIDENTS", default=2)
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
# How often beat looks for contract notices that are due (contracts.notices; a notice is sent once anyway).
CONTRACT_NOTICE_SWEEP_SECONDS = env.float("CONTRACT_NOTICE_SWEEP_SECONDS", default=3600.0)
SITE_URL = env("SITE_URL", default="http://localhost:8000")

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="servicedesk@localhost")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the <meta> tag, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
