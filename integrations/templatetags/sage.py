from django import template

from ..sage.countries import COUNTRIES

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    """The translated name of a country code Sage links ("GB" -> "United Kingdom")."""
    country = COUNTRIES.get((code or "").upper())
    return f"{country.flag} {country.name}" if country else code
