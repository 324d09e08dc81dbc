"""Settings for the integrations portal, read from the environment (django-environ).

One module for every environment. Development values come from a local `.env`
(written once by `make run`); production reads the real environment. Required
production secrets have no default: a bad deploy stops at start with a one-line
message that names the missing variable (only the source-only commands, such as
`makemigrations`, run without them).
"""

import sys
from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# DJANGO_ENV_FILE="" reads no file (the tests use that).
_env_file = Path(environ.Env().str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")))
if str(_env_file) not in ("", ".") and _env_file.is_file():
    env.read_env(str(_env_file), overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Commands that only read the models or the source, and never serve a page nor touch a
# secret, run in any clean checkout without the production secrets (CI's
# `manage.py makemigrations --check`, the translation commands).
SOURCE_ONLY_COMMANDS = {"makemigrations", "makemessages", "compilemessages", "translate"}
# (`manage.py`, `django-admin` and `python -m django` alike: the command comes first.)
SECRETS_NEEDED = not (len(sys.argv) > 1 and sys.argv[1] in SOURCE_ONLY_COMMANDS)


def _required(name: str) -> str:
    """Read a variable that must be set when debug is off (and secrets are needed)."""
    value = env.str(name, default="").strip()
    if not value and not DEBUG and SECRETS_NEEDED:
        # One line, naming the variable: a bad deploy stops here.
        raise SystemExit(f"ImproperlyConfigured: {name} must be set when DJANGO_DEBUG is off.")
    return value


SECRET_KEY = _required("DJANGO_SECRET_KEY") or "insecure-development-key-only-for-debug"
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in _required("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()
]

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks_db",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal.organizations",
    "integrations",
]

MIDDLEWARE = [
    # First: every answer, even one refused by a later middleware, carries its id.
    "portal.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.timezones.ReaderTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.organizations.middleware.CurrentOrganizationMiddleware",
    "portal.organizations.middleware.TwoFactorRequiredMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.organization",
                "integrations.context_processors.navigation",
            ],
            # The page shell's template tags live in the project package, which is no app.
            "libraries": {
                "dates": "portal.templatetags.dates",
                "tables": "portal.templatetags.tables",
            },
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (the dev server, the sandbox, tests) share one file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The login rate limits count in this cache, so production needs one that all
# workers share (Redis on this machine: CACHE_URL=rediscache://127.0.0.1:6379/1);
# `check --deploy` warns about a per-process cache (portal.W001).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: login by email and password; sign-up only through an invitation.
ACCOUNT_ADAPTER = "portal.organizations.adapters.InvitationOnlyAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
# The admin login goes through allauth (portal/urls.py), so these cover it too.
# Wrong passwords: 5 for one account from one address in LOGIN_LOCKOUT_SECONDS (the
# key is the account and the address: portal.adapters), so that someone else's guesses
# never lock the real user out; 10 a minute from one address; and, against guesses
# spread over many addresses, 30 for one account from anywhere in the same window.
# The sign-in page says how long, and links to password reset.
LOGIN_LOCKOUT_SECONDS = 300
ACCOUNT_FORMS = {"login": "portal.organizations.adapters.LoginForm"}
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"10/m/ip,5/{LOGIN_LOCKOUT_SECONDS}s/key",
    "login_failed_account": f"30/{LOGIN_LOCKOUT_SECONDS}s/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    # The customer's link flow: starts of one link URL (key) and from one address (ip).
    "link_start": env.str("LINK_START_RATE_LIMIT", default="10/10m/key,30/10m/ip"),
}
# Behind N reverse proxies, the client's IP is the Nth from the right in
# X-Forwarded-For; 0 (the default) uses REMOTE_ADDR.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
# Two-factor sign-in (allauth.mfa): an authenticator app, with recovery codes, and
# security keys (WebAuthn: allauth's script files, allowed by the CSP's 'self').
# portal.organizations.middleware.TwoFactorRequiredMiddleware sends admins of organizations that
# require it, and support staff at /admin/, to set it up first.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_ADAPTER = "portal.organizations.adapters.EncryptingMFAAdapter"  # secrets encrypted at rest
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Integrations portal")
# One 30-second step either side for a phone's clock drift (RFC 6238 §6); a code is
# still refused a second time within the window.
MFA_TOTP_TOLERANCE = 1
# Invitations to join an organization: their link works once, until then.
INVITATION_LIFETIME_DAYS = env.int("INVITATION_LIFETIME_DAYS", default=7)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Email (password reset): the console in development, SMTP in production.
MAILERS = {
    "default": {
        "BACKEND": env.str(
            "EMAIL_BACKEND",
            default="django.core.mail.backends.console.EmailBackend"
            if DEBUG
            else "django.core.mail.backends.smtp.EmailBackend",
        ),
        "OPTIONS": {
            k: v
            for k, v in {
                "host": env.str("EMAIL_HOST", default=""),
                "port": env.int("EMAIL_PORT", default=0),
                "username": env.str("EMAIL_HOST_USER", default=""),
                "password": env.str("EMAIL_HOST_PASSWORD", default=""),
            }.items()
            if v
        },
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
# Who hears about failures an operator must act on (e.g. Sage tokens that could not
# be saved), and Django's 500 reports: comma separated addresses.
ADMINS = env.list("DJANGO_ADMINS", default=[])
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
# Dates as "30 Nov 2026, 17:14" / « 30 nov. 2026, 17:14 »: a 24-hour clock in both languages,
# in the reader's time zone when the browser told it (portal.timezones), else in TIME_ZONE.
FORMAT_MODULE_PATH = ["portal.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files the portal keeps (organizations' logos, re-encoded by the portal itself). They
# are served by the portal's own views, never from a MEDIA_URL: no MEDIA_URL is set.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security defaults (strict with debug off; see README "Production").
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # Strict would drop the session on the way back from Sage.
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere (the admin included): scripts are files,
# loaded with the request's nonce. form-action: the link flow's country page adds
# Sage's authorize origin (integrations/linking/views.py), no other page needs it.
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "frame-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# Error reports (500 emails, logged tracebacks) never show a secret: variables
# named like secrets, the callback's query string and secret-shaped text are hidden.
DEFAULT_EXCEPTION_REPORTER = "portal.logging.RedactingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.logging.RedactingExceptionReporterFilter"

# Sage Accounting endpoints: Sage's production URLs by default; tests and the
# sandbox point them at a loopback server. Tenants cannot change them.
SAGE_SANDBOX = env.bool("SAGE_SANDBOX", default=False)
SAGE_SANDBOX_ALLOW_WITHOUT_DEBUG = env.bool("SAGE_SANDBOX_ALLOW_WITHOUT_DEBUG", default=False)
if SAGE_SANDBOX and not DEBUG and not SAGE_SANDBOX_ALLOW_WITHOUT_DEBUG:
    raise SystemExit(
        "ImproperlyConfigured: SAGE_SANDBOX is on while DJANGO_DEBUG is off; "
        "set SAGE_SANDBOX_ALLOW_WITHOUT_DEBUG=1 to run the Sage stand-in anyway."
    )
SAGE_SANDBOX_PREFIX = "/sage-sandbox"
_sandbox = f"{PORTAL_BASE_URL}{SAGE_SANDBOX_PREFIX}"


def _sage_url(name: str, production: str, sandbox_path: str) -> str:
    """A Sage URL from the environment; else the sandbox's when it is on, else Sage's own."""
    return env.str(name, default=f"{_sandbox}{sandbox_path}" if SAGE_SANDBOX else production)


SAGE_AUTHORIZE_URL = _sage_url(
    "SAGE_AUTHORIZE_URL", "https://www.sageone.com/oauth2/auth/central", "/oauth2/auth/central"
)
SAGE_TOKEN_URL = _sage_url("SAGE_TOKEN_URL", "https://oauth.accounting.sage.com/token", "/token")
SAGE_REVOKE_URL = _sage_url(
    "SAGE_REVOKE_URL", "https://oauth.accounting.sage.com/revoke", "/revoke"
)
SAGE_API_URL = _sage_url("SAGE_API_URL", "https://api.accounting.sage.com/v3.1", "/v3.1")
SAGE_V30_TOKEN_URL = _sage_url(
    "SAGE_V30_TOKEN_URL", "https://app.sageone.com/oauth2/token", "/v30/token"
)
SAGE_V30_API_URL = _sage_url(
    "SAGE_V30_API_URL",
    "https://api.columbus.sage.com/uki/sageone/accounts/v3",
    "/v30/accounts/v3",
)
SAGE_DEVELOPER_PORTAL_URL = "https://developerselfservice.sageone.com/session/new"
SAGE_HTTP_TIMEOUT = env.float("SAGE_HTTP_TIMEOUT", default=10.0)
# Connections kept open to each Sage host, per thread (see integrations/sage/http.py).
SAGE_HTTP_POOL_SIZE = env.int("SAGE_HTTP_POOL_SIZE", default=2)
# A company page's live data is read again after this many seconds; the last good read
# is kept this long to be shown (marked as such) while Sage is down.
LIVE_DATA_CACHE_SECONDS = env.int("LIVE_DATA_CACHE_SECONDS", default=60)
LIVE_DATA_LAST_SECONDS = env.int("LIVE_DATA_LAST_SECONDS", default=24 * 3600)
# A 429 from Sage's API is retried this many times in all, waiting Retry-After
# (capped at SAGE_RETRY_WAIT_CAP seconds) between tries.
SAGE_API_MAX_ATTEMPTS = env.int("SAGE_API_MAX_ATTEMPTS", default=4)
SAGE_RETRY_WAIT_CAP = env.float("SAGE_RETRY_WAIT_CAP", default=10.0)
# A page's calls to Sage's API, 429 waits included, end within this many seconds
# (background jobs have no such budget: they wait as SAGE_API_MAX_ATTEMPTS allows).
SAGE_PAGE_BUDGET = env.float("SAGE_PAGE_BUDGET", default=5.0)
# The longest wait (s) for a connection's row lock before a refresh: a page then says
# "busy, try again" and the keep-alive tries on its next pass (PostgreSQL lock_timeout).
REFRESH_LOCK_TIMEOUT = env.float("REFRESH_LOCK_TIMEOUT", default=3.0)

# A ceiling on the requests in flight to Sage (integrations/sage/concurrency.py), shared
# by every worker and machine through Redis: per Sage app (Sage allows 150 at once) and
# per linked business, so one busy customer cannot take every slot. Over it the API
# answers 429 with Retry-After, and nothing queues. Without Redis: per process.
SAGE_CONCURRENCY_PER_APP = env.int("SAGE_CONCURRENCY_PER_APP", default=150)
SAGE_CONCURRENCY_PER_BUSINESS = env.int("SAGE_CONCURRENCY_PER_BUSINESS", default=20)
_cache_redis = (
    CACHES["default"].get("LOCATION", "")
    if CACHES["default"].get("BACKEND", "").endswith("RedisCache")
    else ""
)
SAGE_CONCURRENCY_REDIS_URL = env.str(
    "SAGE_CONCURRENCY_REDIS_URL", default=_cache_redis if isinstance(_cache_redis, str) else ""
)
# The API's pass-through to Sage (/api/v1/companies/{id}/sage/{resource}): the Sage
# resources it reads (the first segment of the path; not the user's own record `user`
# nor the list of all the user's `businesses`), and the largest answer it passes on.
SAGE_PROXY_RESOURCES = env.list(
    "SAGE_PROXY_RESOURCES",
    default=[
        "addresses", "address_types", "analysis_types", "attachments", "bank_accounts",
        "bank_deposits", "bank_reconciliations", "bank_transfers", "business_exchange_rates",
        "business_settings", "catalog_item_types", "contact_allocations",
        "contact_opening_balances", "contact_payments", "contact_persons",
        "contact_person_types", "contact_types", "contacts", "countries", "currencies",
        "financial_settings", "invoice_settings", "journal_codes", "journals",
        "ledger_account_classifications", "ledger_account_opening_balances",
        "ledger_account_types", "ledger_accounts", "ledger_entries", "opening_balance_journals",
        "other_payments", "payment_methods", "products", "product_sales_price_types",
        "purchase_corrective_invoices", "purchase_credit_notes", "purchase_invoices",
        "purchase_quick_entries", "sales_corrective_invoices", "sales_credit_notes",
        "sales_estimates", "sales_invoices", "sales_quick_entries", "sales_quotes", "services",
        "service_rate_types", "stock_items", "stock_movements", "tax_profiles", "tax_rates",
        "tax_return_frequencies", "tax_schemes", "transaction_types", "transactions",
        "unallocated_artefacts",
    ],
)  # fmt: skip
SAGE_PROXY_MAX_BYTES = env.int("SAGE_PROXY_MAX_BYTES", default=10 * 1024 * 1024)

# The way back (integrations/redirect_urls.py): a platform's redirect URL after a link
# is https; plain http to a loopback host only under DEBUG or with this (tests, demos).
REDIRECT_URLS_ALLOW_LOOPBACK_HTTP = env.bool("REDIRECT_URLS_ALLOW_LOOPBACK_HTTP", default=False)

# The platform's REST API (integrations/api): Django REST framework, keys of one
# organization each (`Authorization: Api-Key <key>`), throttled per key in the
# default cache (shared by every worker in production: CACHE_URL).
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
# Wrong API keys: past this many in a window (seconds) from one address, or for one key
# prefix, both are refused (429) until the window ends (integrations/api/authentication.py).
API_AUTH_FAILURE_LIMIT = env.int("API_AUTH_FAILURE_LIMIT", default=20)
API_AUTH_FAILURE_WINDOW = env.int("API_AUTH_FAILURE_WINDOW", default=300)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["integrations.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["integrations.api.authentication.HasOrganizationKey"],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.ApiKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["integrations.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "integrations.api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "integrations.api.schema.PortalAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Integrations portal API",
    "DESCRIPTION": (
        "Create companies and their link URLs, read their Sage connection, and read their "
        "Sage data through the proxy.\n\n"
        "**Errors** are RFC 9457 problem details (`application/problem+json`) with a stable "
        "`code` to branch on (see the `code` enum of the Problem schema); `detail` is for "
        "people. Every answer carries an `X-Request-ID` (yours when you send a sane one): "
        "quote it to support.\n\n"
        "**Input** is strict: a field an operation does not take is a 400 naming it, text "
        "fields take strings only, bodies are at most 2.5 MB (413) and JSON.\n\n"
        "**Limits**: each key may send API_THROTTLE_RATE requests (600 a minute by "
        "default); every answer says where it stands in `RateLimit-Limit`, "
        "`RateLimit-Remaining` and `RateLimit-Reset` (seconds), and a 429 says when to "
        "retry in `Retry-After`. Wrong keys from one address, or for one key prefix, are "
        "refused with a 429 `too_many_failed_attempts` after 20 in 5 minutes.\n\n"
        "**Retries**: send an `Idempotency-Key` with a POST to retry it safely.\n\n"
        "**Times** are ISO 8601 in UTC (`2026-12-01T09:30:00Z`). Lists are cursor-paginated: "
        "follow `next`. Answers are never cached (`Cache-Control: no-store`)."
    ),
    "VERSION": "1.1.0",
    # The portal's own origin (PORTAL_BASE_URL), where its API is served.
    "SERVERS": [{"url": PORTAL_BASE_URL, "description": "This portal"}],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ConnectionStatus": "integrations.models.Connection.Status",
        "ConnectionState": "integrations.connections.states.State",
        "WebhookDeliveryState": "integrations.webhooks.models.WebhookDelivery.State",
        "WebhookEventType": "integrations.webhooks.models.WebhookEvent",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.api.schema.refuse_unknown_fields",
    ],
}

# Webhooks (integrations/webhooks/delivery.py, docs/webhooks.md). Endpoint URLs
# must be https and resolve to public addresses; WEBHOOKS_ALLOW_LOOPBACK_HTTP also lets
# them be http on loopback (127.0.0.1, ::1): on by default with debug (`make run`), and
# turned on by the tests that run a receiver. Never in production.
WEBHOOKS_ALLOW_LOOPBACK_HTTP = env.bool("WEBHOOKS_ALLOW_LOOPBACK_HTTP", default=DEBUG)
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=10.0)
# After a timeout, a connection error, 429 or 5xx: the waits (s) before each retry.
WEBHOOKS_RETRY_DELAYS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600]
WEBHOOKS_DISABLE_AFTER_DAYS = env.int("WEBHOOKS_DISABLE_AFTER_DAYS", default=5)
# How long the events feed (GET /api/v1/events) keeps an event; the daily purge drops older.
EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=30)
# The sweep that enqueues due deliveries (lost ones, or all retries when the task
# backend cannot defer) runs this often.
WEBHOOKS_SWEEP_INTERVAL_MINUTES = env.float("WEBHOOKS_SWEEP_INTERVAL_MINUTES", default=5.0)
# A CA bundle for endpoint certificates instead of the system's (tests only).
WEBHOOKS_CA_CERTS = env.str("WEBHOOKS_CA_CERTS", default="")

# Synced Sage data (integrations/sync, docs/sync.md). A page holds SYNC_PAGE_SIZE records
# (Sage's most); a worker fetches up to SYNC_PAGE_CONCURRENCY pages of a type at once; an
# incremental sync asks from its last cursor minus SYNC_OVERLAP_SECONDS; a worker holds a
# run for SYNC_LEASE_SECONDS past its last page (then another takes it over); a sync Sage
# keeps answering 429 goes on SYNC_RATE_LIMITED_DELAY seconds later; the sweep that queues
# scheduled syncs runs every SYNC_SWEEP_INTERVAL_MINUTES; retention deletes in batches.
SYNC_PAGE_SIZE = env.int("SYNC_PAGE_SIZE", default=200)
SYNC_PAGE_CONCURRENCY = env.int("SYNC_PAGE_CONCURRENCY", default=4)
SYNC_OVERLAP_SECONDS = env.float("SYNC_OVERLAP_SECONDS", default=300.0)
SYNC_LEASE_SECONDS = env.float("SYNC_LEASE_SECONDS", default=120.0)
SYNC_RATE_LIMITED_DELAY = env.float("SYNC_RATE_LIMITED_DELAY", default=60.0)
SYNC_SWEEP_INTERVAL_MINUTES = env.float("SYNC_SWEEP_INTERVAL_MINUTES", default=5.0)
SYNC_PURGE_BATCH = env.int("SYNC_PURGE_BATCH", default=5000)

LINK_URL_LIFETIME_DAYS = env.int("LINK_URL_LIFETIME_DAYS", default=7)
KEEPALIVE_REFRESH_WITHIN_DAYS = env.int("KEEPALIVE_REFRESH_WITHIN_DAYS", default=7)
KEEPALIVE_INTERVAL_HOURS = env.float("KEEPALIVE_INTERVAL_HOURS", default=6)
HOUSEKEEPING_INTERVAL_HOURS = env.float("HOUSEKEEPING_INTERVAL_HOURS", default=24.0)

# The task queue: rows in the database by default (`manage.py db_worker`), or Redis
# through RQ with TASKS_BACKEND=django_tasks_rq.RQBackend (`manage.py rqworker`), at
# RQ_REDIS_URL. See docs/worker.md.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}
RQ_QUEUES = {"default": {"URL": env.str("RQ_REDIS_URL", default="redis://127.0.0.1:6379/0")}}
# RQ's workers must build django-tasks-rq's jobs: `rqworker` then needs no --job-class.
RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
# The support admin shows no task queue (portal/urls.py hides the database's too),
# and so serves none of django-rq's dashboard or statistics URLs.
RQ_SHOW_ADMIN_LINK = False
if TASKS_BACKEND == "django_tasks_rq.RQBackend":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]  # rqworker, and the backend's checks

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "portal.logging.RedactSecretsFilter"},
        "request_id": {"()": "portal.request_ids.RequestIdFilter"},
    },
    # Each line names the request it belongs to (the X-Request-ID of its answer).
    "formatters": {
        "request": {"format": "%(levelname)s %(name)s [request %(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": sys.stderr,
            "filters": ["redact_secrets", "request_id"],
            "formatter": "request",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Pinned, whatever LOG_LEVEL says: at DEBUG these log request and token bodies
    # (the redaction filter would still mask them, but they are not worth the risk).
    "loggers": {
        "oauthlib": {"level": "WARNING"},
        "requests_oauthlib": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
