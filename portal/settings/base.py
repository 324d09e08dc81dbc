"""The project: apps, middleware, templates, database, cache, email, languages, files, logs."""

import sys
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from .environment import BASE_DIR, DEBUG, env

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

# The login rate limits count in this cache, so production needs one that all
# workers share (Redis on this machine: CACHE_URL=rediscache://127.0.0.1:6379/1);
# `check --deploy` warns about a per-process cache (portal.W001).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

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
