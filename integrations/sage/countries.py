"""The countries each API version links, and the regions Sage Accounting does not cover."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from integrations.sage.versions import ApiVersion

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, upper case
    name: "StrPromise"
    flag: str


COUNTRIES: dict[str, Country] = {
    "GB": Country("GB", _("United Kingdom"), "🇬🇧"),
    "IE": Country("IE", _("Ireland"), "🇮🇪"),
    "US": Country("US", _("United States"), "🇺🇸"),
    "CA": Country("CA", _("Canada"), "🇨🇦"),
    "DE": Country("DE", _("Germany"), "🇩🇪"),
    "ES": Country("ES", _("Spain"), "🇪🇸"),
    "FR": Country("FR", _("France"), "🇫🇷"),
}
COUNTRIES_BY_VERSION: dict[ApiVersion, list[str]] = {
    ApiVersion.V31: ["GB", "IE", "US", "CA", "DE", "ES", "FR"],
    ApiVersion.V30: ["GB", "IE"],
}
UNSUPPORTED_REGIONS: list["StrPromise"] = [
    _("Australia"),
    _("New Zealand"),
    _("South Africa"),
    _("the Asian edition (Hong Kong, Singapore and Malaysia)"),
]


def countries_for(api_version: str) -> list[Country]:
    return [COUNTRIES[code] for code in COUNTRIES_BY_VERSION[ApiVersion(api_version)]]
