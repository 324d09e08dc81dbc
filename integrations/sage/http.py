"""The one HTTP path to Sage: every session and the transport check every Sage URL passes.

A session built here ignores the environment's proxies (`trust_env=False`: no
proxy sees a token or a secret), never follows a redirect (it would carry them
elsewhere), times out after SAGE_HTTP_TIMEOUT seconds unless told otherwise,
and keeps no cookie from one call to the next.
"""

import ipaddress
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests_oauthlib import OAuth2Session

from .endpoints import URL_SETTINGS

LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in LOOPBACK_NAMES


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or ""), port


def check_transport(url: str) -> None:
    """Allow https anywhere; plain http only on loopback, or to the portal's own origin
    with SAGE_SANDBOX on (the sandbox is mounted there)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    host = parts.hostname or ""
    sandbox = settings.SAGE_SANDBOX and _origin(url) == _origin(settings.PORTAL_BASE_URL)
    if parts.scheme != "http" or not (_is_loopback(host) or sandbox):
        raise ImproperlyConfigured(f"Sage URLs must use https: {parts.scheme}://{host}")


def plain_http_configured() -> bool:
    """Whether Sage is reached over plain http: the sandbox, or a configured loopback URL."""
    if settings.SAGE_SANDBOX:
        return True
    for name in URL_SETTINGS:
        parts = urlsplit(str(getattr(settings, name)))
        if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
            return True
    return False


def _guard(url: str | bytes, kwargs: dict[str, Any]) -> None:
    check_transport(url.decode() if isinstance(url, bytes) else url)
    # A 3xx comes back as it is, for the caller to refuse. (Not max_redirects=0:
    # requests would raise TooManyRedirects even with allow_redirects=False.)
    kwargs["allow_redirects"] = False
    if kwargs.get("timeout") is None:
        kwargs["timeout"] = settings.SAGE_HTTP_TIMEOUT


def _configure(session: requests.Session) -> None:
    session.trust_env = False
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # accept none


class SageSession(requests.Session):
    """A requests session for Sage's API and revoke endpoint."""

    def __init__(self) -> None:
        super().__init__()
        _configure(self)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        _guard(url, kwargs)
        return super().request(method, url, *args, **kwargs)


class SageOAuthSession(OAuth2Session):  # type: ignore[misc]
    """A requests-oauthlib session for Sage's token endpoint."""

    def __init__(self, client_id: str) -> None:
        super().__init__(client_id)
        _configure(self)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        _guard(url, kwargs)
        response: requests.Response = super().request(method, url, *args, **kwargs)
        return response
