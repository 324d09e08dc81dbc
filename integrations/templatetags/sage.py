from django import template

from integrations.accounting import COUNTRIES, ApiVersion

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    """The translated name of a country code Sage links ("GB" -> "United Kingdom").

    No emoji flag: many systems draw it as two letters or boxes; pages that show a flag
    use the images in static/portal/flags/ (`country_flag`)."""
    country = COUNTRIES.get((code or "").upper())
    return str(country.name) if country else code


@register.filter
def country_flag(code: str) -> str:
    """The static path of a linked country's flag image, or "" for an unknown code."""
    return f"portal/flags/{code.lower()}.svg" if (code or "").upper() in COUNTRIES else ""


@register.filter
def api_version_label(value: str) -> str:
    """The short label of a stored API version ("3.1" -> "API v3.1")."""
    try:
        return str(ApiVersion(value).short_label)
    except ValueError:
        return value
