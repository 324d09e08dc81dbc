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
    # Whether Sage's authorize `country` parameter names this country (it lists seven);
    # for the others the customer picks the country on Sage's own sign-in page.
    preselected_at_sage: bool = True


COUNTRIES: dict[str, Country] = {
    "GB": Country("GB", _("United Kingdom"), "🇬🇧"),
    "IE": Country("IE", _("Ireland"), "🇮🇪"),
    "US": Country("US", _("United States"), "🇺🇸"),
    "CA": Country("CA", _("Canada"), "🇨🇦"),
    "DE": Country("DE", _("Germany"), "🇩🇪"),
    "ES": Country("ES", _("Spain"), "🇪🇸"),
    "FR": Country("FR", _("France"), "🇫🇷"),
    "PT": Country("PT", _("Portugal"), "🇵🇹", preselected_at_sage=False),
    "AE": Country("AE", _("United Arab Emirates"), "🇦🇪", preselected_at_sage=False),
}
COUNTRIES_BY_VERSION: dict[ApiVersion, list[str]] = {
    ApiVersion.V31: ["GB", "IE", "US", "CA", "DE", "ES", "PT", "FR", "AE"],
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


def authorize_country(code: str) -> str | None:
    """The value of Sage's authorize `country` parameter for `code`, or None to send none.

    Sage documents the parameter for seven countries (gb, ie, us, ca, de, es, fr); a
    customer in Portugal or the United Arab Emirates goes to Sage's sign-in without one
    and picks the country there.
    """
    country = COUNTRIES.get(code.upper())
    return country.code.lower() if country is not None and country.preselected_at_sage else None
