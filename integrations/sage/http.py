"""The one HTTP path to Sage: every session and the transport check every Sage URL passes.

A session built here ignores the environment's proxies (`trust_env=False`: no
proxy sees a token or a secret), never follows a redirect (it would carry them
elsewhere), times out after SAGE_HTTP_TIMEOUT seconds unless told otherwise,
and keeps no cookie from one call to the next.

Sessions are cheap and short-lived (one per call, so no state is shared between
tenants); the connections are not: each thread keeps one bounded pool per Sage
origin (`SAGE_HTTP_POOL_SIZE` connections, kept alive), which every session of
that thread uses for that origin.
"""

import ipaddress
import threading
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth2Session

from integrations.sage.endpoints import URL_SETTINGS

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


_pools = threading.local()


def pool_for(url: str) -> tuple[str, HTTPAdapter]:
    """This thread's connection pool for the origin of `url`, made on first use."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    pools: dict[str, HTTPAdapter] = _pools.__dict__.setdefault("by_origin", {})
    if origin not in pools:
        size = settings.SAGE_HTTP_POOL_SIZE
        # pool_block: a thread never opens more than `size` connections to one origin;
        # max_retries=0: a failed call is reported, never silently sent again.
        pools[origin] = HTTPAdapter(
            pool_connections=1, pool_maxsize=size, pool_block=True, max_retries=0
        )
    return origin, pools[origin]


def _guard(session: requests.Session, url: str | bytes, kwargs: dict[str, Any]) -> None:
    text = url.decode() if isinstance(url, bytes) else url
    check_transport(text)
    session.mount(*pool_for(text))
    # A 3xx comes back as it is, for the caller to refuse. (Not max_redirects=0:
    # requests would raise TooManyRedirects even with allow_redirects=False.)
    kwargs["allow_redirects"] = False
    if kwargs.get("timeout") is None:
        kwargs["timeout"] = settings.SAGE_HTTP_TIMEOUT


def _configure(session: requests.Session) -> None:
    session.trust_env = False
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # accept none


def _close(session: requests.Session) -> None:
    """End a session but keep the thread's pools (and their live connections) open."""
    session.cookies.clear()
    for adapter in session.adapters.values():
        if adapter not in _pools.__dict__.get("by_origin", {}).values():
            adapter.close()


class SageSession(requests.Session):
    """A requests session for Sage's API and revoke endpoint."""

    def __init__(self) -> None:
        super().__init__()
        _configure(self)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        _guard(self, url, kwargs)
        return super().request(method, url, *args, **kwargs)

    def close(self) -> None:
        _close(self)


class SageOAuthSession(OAuth2Session):  # type: ignore[misc]
    """A requests-oauthlib session for Sage's token endpoint."""

    def __init__(self, client_id: str) -> None:
        super().__init__(client_id)
        _configure(self)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        _guard(self, url, kwargs)
        response: requests.Response = super().request(method, url, *args, **kwargs)
        return response

    def close(self) -> None:
        _close(self)
