from django import template

from ..sage.countries import COUNTRIES
from ..sage.versions import ApiVersion

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    """The translated name of a country code Sage links ("GB" -> "United Kingdom")."""
    country = COUNTRIES.get((code or "").upper())
    return f"{country.flag} {country.name}" if country else code


@register.filter
def api_version_label(value: str) -> str:
    """The short label of a stored API version ("3.1" -> "API v3.1")."""
    try:
        return str(ApiVersion(value).short_label)
    except ValueError:
        return value
