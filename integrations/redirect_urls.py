"""The way back: the platform's redirect URL after a link, validated once and filled in.

An integration (and a company, through the API) may name a URL the customer is sent
to after linking, cancelling or failing, instead of the portal's own result page.
`{companyId}`, `{externalId}` and `{status}` are filled in, URL-encoded. One validator
serves the settings form, the API and the admin (it is the model fields' validator).
An organization may list the origins its redirect URLs may use (Settings › Branding):
the settings form and the API then refuse a URL outside them.
"""

import ipaddress
import re
from collections.abc import Sequence
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


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of `url`, lower case, without the scheme's default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port and port != default else "")


def validate_origin(value: str) -> str:
    """An origin an organization allows (`https://app.example.com`), normalised; or refused."""
    try:
        parts = urlsplit(value)
        valid = bool(parts.hostname) and parts.scheme in ("https", "http")
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        valid = False
    if (
        not valid
        or not value.isascii()
        or any(ch.isspace() for ch in value)
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValidationError(
            gettext("%(value)s is not an origin: write https://app.example.com, nothing after it.")
            % {"value": value[:100]},
            code="origin_invalid",
        )
    if parts.scheme == "http" and not (
        _is_loopback(parts.hostname or "") and loopback_http_allowed()
    ):
        raise ValidationError(gettext("An origin must start with https://."), code="origin_https")
    return origin_of(value)


def validate_redirect_url(value: str, *, allowed_origins: Sequence[str] = ()) -> None:
    """Refuse anything but an absolute https URL with only our placeholders in it, and,
    when the organization lists `allowed_origins`, one outside them."""
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
    if allowed_origins and origin_of(value) not in allowed_origins:
        raise ValidationError(
            gettext(
                "The redirect URL must start with one of your organization's allowed "
                "origins: %(origins)s (Settings › Branding)."
            )
            % {"origins": ", ".join(allowed_origins)},
            code="origin",
        )


def redirect_url_fill(template: str, *, company_id: int, external_id: str, status: str) -> str:
    """The template with its placeholders replaced by URL-encoded values."""
    values = {"companyId": str(company_id), "externalId": external_id, "status": status}
    return _PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe=""), template)
