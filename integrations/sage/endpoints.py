"""Where Sage lives, per API version, and which countries each version links.

Every URL comes from settings (read from the environment), so tests and the
sandbox can point the portal at a loopback server.
"""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..models import ApiVersion


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, upper case
    name: str
    flag: str


COUNTRIES = {
    "GB": Country("GB", _("United Kingdom"), "🇬🇧"),
    "IE": Country("IE", _("Ireland"), "🇮🇪"),
    "US": Country("US", _("United States"), "🇺🇸"),
    "CA": Country("CA", _("Canada"), "🇨🇦"),
    "DE": Country("DE", _("Germany"), "🇩🇪"),
    "ES": Country("ES", _("Spain"), "🇪🇸"),
    "FR": Country("FR", _("France"), "🇫🇷"),
}
COUNTRIES_BY_VERSION = {
    ApiVersion.V31: ["GB", "IE", "US", "CA", "DE", "ES", "FR"],
    ApiVersion.V30: ["GB", "IE"],
}
UNSUPPORTED_REGIONS = [
    _("Australia"),
    _("New Zealand"),
    _("South Africa"),
    _("the Asian edition (Hong Kong, Singapore and Malaysia)"),
]


def countries_for(api_version: str) -> list[Country]:
    return [COUNTRIES[code] for code in COUNTRIES_BY_VERSION[ApiVersion(api_version)]]


def callback_url() -> str:
    """The redirect URI to register with Sage: built from PORTAL_BASE_URL, never the Host header."""
    return settings.PORTAL_BASE_URL + reverse("integrations:oauth_callback")


def authorize_url() -> str:
    return settings.SAGE_AUTHORIZE_URL


def token_url(api_version: str) -> str:
    return settings.SAGE_V30_TOKEN_URL if api_version == ApiVersion.V30 else settings.SAGE_TOKEN_URL


def revoke_url() -> str:
    return settings.SAGE_REVOKE_URL


def api_url(api_version: str) -> str:
    base = settings.SAGE_V30_API_URL if api_version == ApiVersion.V30 else settings.SAGE_API_URL
    return base.rstrip("/")
