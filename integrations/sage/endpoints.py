"""Where Sage lives, per API version.

Every URL comes from settings (read from the environment), so tests and the
sandbox can point the portal at a loopback server.
"""

from django.conf import settings

from integrations.sage.versions import ApiVersion

# The settings that hold a Sage URL.
URL_SETTINGS = (
    "SAGE_AUTHORIZE_URL",
    "SAGE_TOKEN_URL",
    "SAGE_REVOKE_URL",
    "SAGE_API_URL",
    "SAGE_V30_TOKEN_URL",
    "SAGE_V30_API_URL",
)


def authorize_url() -> str:
    return str(settings.SAGE_AUTHORIZE_URL)


def token_url(api_version: str) -> str:
    if api_version == ApiVersion.V30:
        return str(settings.SAGE_V30_TOKEN_URL)
    return str(settings.SAGE_TOKEN_URL)


def revoke_url() -> str:
    return str(settings.SAGE_REVOKE_URL)


def api_url(api_version: str) -> str:
    base = settings.SAGE_V30_API_URL if api_version == ApiVersion.V30 else settings.SAGE_API_URL
    return str(base).rstrip("/")


def v30_core_url() -> str:
    """API v3.0's "core" API (businesses), beside its "accounts" API: `.../core/v3`."""
    base = api_url(ApiVersion.V30)
    head, found, tail = base.rpartition("/accounts/v3")
    return f"{head}/core/v3{tail}" if found else base
