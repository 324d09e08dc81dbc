"""The way back: the platform's redirect URL after a link, validated once and filled in.

An integration (and a company, through the API) may name a URL the customer is sent
to after linking, cancelling or failing, instead of the portal's own result page.
`{companyId}`, `{externalId}` and `{status}` are filled in, URL-encoded. One validator
serves the settings form, the API and the admin (it is the model fields' validator).
"""

import ipaddress
import re
from enum import StrEnum
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

MAX_LENGTH = 2000
PLACEHOLDERS = ("companyId", "externalId", "status")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LOOPBACK_NAMES = {"localhost"}


def url_origin(url: str) -> str:
    """`scheme://host[:port]` of a URL, or "" for none: what a CSP source names."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class WayBackStatus(StrEnum):
    """How the customer's trip ended, as the platform reads it in `{status}`."""

    LINKED = "linked"
    CANCELLED = "cancelled"
    FAILED = "failed"


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_http_allowed() -> bool:
    """Plain http to a loopback host is for development and tests only."""
    return settings.DEBUG or settings.REDIRECT_URLS_ALLOW_LOOPBACK_HTTP


def validate_redirect_url(value: str) -> None:
    """Refuse anything but an absolute https URL with only our placeholders in it."""
    if not value:
        return
    if len(value) > MAX_LENGTH:
        raise ValidationError(
            gettext("Use at most %(max)d characters.") % {"max": MAX_LENGTH}, code="max_length"
        )
    if not value.isascii() or not value.isprintable() or any(ch.isspace() for ch in value):
        raise ValidationError(
            gettext("A URL has no spaces and only ASCII characters (encode the others)."),
            code="characters",
        )
    unknown = [name for name in _PLACEHOLDER.findall(value) if name not in PLACEHOLDERS]
    if unknown:
        raise ValidationError(
            gettext("Unknown placeholder {%(name)s}: use {companyId}, {externalId} or {status}.")
            % {"name": unknown[0]},
            code="placeholder",
        )
    bare = _PLACEHOLDER.sub("x", value)
    if "{" in bare or "}" in bare:
        raise ValidationError(
            gettext("A brace is not closed: use {companyId}, {externalId} or {status}."),
            code="brace",
        )
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        host = ""
    if parts.scheme not in ("https", "http") or not host or "{" in parts.netloc:
        raise ValidationError(
            gettext("Enter an absolute URL such as https://app.example.com/sage/{status}."),
            code="invalid",
        )
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            gettext("A redirect URL holds no user name or password."), code="auth"
        )
    if parts.scheme == "http" and not (_is_loopback(host) and loopback_http_allowed()):
        raise ValidationError(gettext("The redirect URL must start with https://."), code="https")


def redirect_url_fill(template: str, *, company_id: int, external_id: str, status: str) -> str:
    """The template with its placeholders replaced by URL-encoded values."""
    values = {"companyId": str(company_id), "externalId": external_id, "status": status}
    return _PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe=""), template)
