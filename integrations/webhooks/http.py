"""Webhook HTTP: where an endpoint URL may point (no SSRF), and one signed POST to it.

Knows no model. An endpoint's host is resolved once per check and every address it
resolves to must be a public one (or loopback, when the setting allows it for tests
and `make run`); the POST then connects to the very address that was checked, with
the URL's host name in the Host header and, for https, as the TLS server name that
the certificate must match. No redirect is followed, no proxy is used.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlsplit

import urllib3
from standardwebhooks.webhooks import Webhook

USER_AGENT = "IntegrationsPortal-Webhooks/1"
type Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refusal(StrEnum):
    NOT_HTTPS = "not_https"
    NO_HOST = "no_host"
    CREDENTIALS = "credentials"
    UNRESOLVABLE = "unresolvable"
    FORBIDDEN_ADDRESS = "forbidden_address"


class UnsafeUrl(Exception):
    """The URL may not be called: not https, or its host resolves to a forbidden address."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to say (`host`, `path`)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def address_allowed(address: Address, *, allow_loopback: bool) -> bool:
    """A public unicast address; or loopback, if allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if allow_loopback and address.is_loopback:
        return True
    # is_global is False for loopback, private, link-local, shared (100.64/10), reserved,
    # documentation and unspecified addresses; multicast ones are global but no endpoint.
    return address.is_global and not address.is_multicast


def resolve(url: str, *, allow_loopback_http: bool) -> Target:
    """Check `url` and resolve its host; raise UnsafeUrl when it may not be called."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeUrl(Refusal.NOT_HTTPS)
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl(Refusal.CREDENTIALS)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port out of range or not a number
        raise UnsafeUrl(Refusal.NO_HOST) from None
    if not host:
        raise UnsafeUrl(Refusal.NO_HOST)
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    except (OSError, UnicodeError, ValueError):
        raise UnsafeUrl(Refusal.UNRESOLVABLE) from None
    if not addresses:
        raise UnsafeUrl(Refusal.UNRESOLVABLE)
    # Every address the name has must be allowed: the connection uses the first.
    if not all(address_allowed(a, allow_loopback=allow_loopback_http) for a in addresses):
        raise UnsafeUrl(Refusal.FORBIDDEN_ADDRESS)
    if scheme == "http" and not (allow_loopback_http and all(a.is_loopback for a in addresses)):
        raise UnsafeUrl(Refusal.NOT_HTTPS)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, host, port, path, str(addresses[0]))


class Failure(StrEnum):
    TIMEOUT = "timeout"
    CONNECTION = "connection_error"


@dataclass(frozen=True)
class Answer:
    """How one POST went: the status (None when there was no answer) and how long it took."""

    status: int | None
    duration_ms: int
    failure: Failure | None = None


def signed_headers(*, secret: str, message_id: str, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of `body`, signed now with the endpoint's secret."""
    now = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


def post_signed(
    target: Target,
    *,
    secret: str,
    message_id: str,
    body: str,
    timeout: float,
    ca_certs: str | None = None,
) -> Answer:
    """POST `body` to the checked address of `target`, signed; follow nothing."""
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(secret=secret, message_id=message_id, body=body),
    }
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            target.address, target.port, timeout=urllib3.Timeout(total=timeout), retries=False
        )
    started = time.monotonic()
    status: int | None = None
    failure = None
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body.encode(),
            headers=headers,
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
        )
        status = response.status
        response.close()  # the answer's body is not read: only its status counts
    except urllib3.exceptions.NewConnectionError:  # a subclass of the timeout error
        failure = Failure.CONNECTION
    except urllib3.exceptions.TimeoutError:
        failure = Failure.TIMEOUT
    except urllib3.exceptions.HTTPError:
        failure = Failure.CONNECTION
    finally:
        pool.close()
    return Answer(status, round((time.monotonic() - started) * 1000), failure)
