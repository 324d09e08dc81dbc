"""Webhook HTTP: where an endpoint URL may point (no SSRF), and one signed POST to it.

Knows no model. An endpoint's host is resolved once per check and every address it
resolves to must be a public one (or loopback, when the setting allows it for tests
and `make run`); the POST then connects to the very address that was checked, with
the URL's host name in the Host header and, for https, as the TLS server name that
the certificate must match. No redirect is followed, no proxy is used.

An IPv6 address that carries an IPv4 one (IPv4-mapped or -compatible, NAT64's
64:ff9b::/96, 6to4, Teredo) is allowed only when that IPv4 address is too: a NAT64
gateway would connect `[64:ff9b::7f00:1]` to 127.0.0.1. The local-use NAT64 prefix
64:ff9b:1::/48 is refused whole (where its IPv4 sits is each network's choice).

A POST has one deadline for the whole exchange (connect, TLS, send, the answer's
status and headers): a watchdog shuts the socket down when it passes, so a receiver
that drips its answer byte by byte is cut there, not after a timeout per read.
"""

import contextlib
import ipaddress
import socket
import threading
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


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local use
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # ::a.b.c.d (deprecated, RFC 4291)


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (empty when it carries none)."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        server, client = address.teredo
        return [server, client]
    # ::/96 holds :: and ::1 too: those are IPv6's own, not IPv4-compatible addresses.
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def _one_allowed(address: Address, *, allow_loopback: bool) -> bool:
    if allow_loopback and address.is_loopback:
        return True
    # is_global is False for loopback, private, link-local, shared (100.64/10), reserved,
    # documentation and unspecified addresses; multicast ones are global but no endpoint.
    return address.is_global and not address.is_multicast


def address_allowed(address: Address, *, allow_loopback: bool) -> bool:
    """A public unicast address; or loopback, if allowed. An IPv4 address carried inside
    an IPv6 one is checked as itself, and the IPv6 address must pass as well."""
    if isinstance(address, ipaddress.IPv4Address):
        return _one_allowed(address, allow_loopback=allow_loopback)
    if address in NAT64_LOCAL:
        return False
    if address.ipv4_mapped is not None:
        # ::ffff:a.b.c.d is a.b.c.d on this host's own IPv4 stack: it stands for it alone.
        return _one_allowed(address.ipv4_mapped, allow_loopback=allow_loopback)
    return _one_allowed(address, allow_loopback=allow_loopback) and all(
        _one_allowed(v4, allow_loopback=False) for v4 in embedded_ipv4(address)
    )


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


class Deadline:
    """Shuts a connection's socket down when `seconds` have passed since `start()`.

    It keeps a duplicate of the socket's descriptor, so the shutdown reaches the socket
    whoever holds it (the TLS layer included) and never another one that reused a
    closed descriptor; `stop()` cancels it and closes the duplicate.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.passed = False
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socket = sock.dup()
            if self.passed:
                self._shut()

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            self._shut()

    def _shut(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):  # already closed by the other side
                self._socket.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


class _Watched:
    """A connection whose socket is handed to its Deadline as soon as it is made."""

    deadline: Deadline

    def __init__(self, *args: object, deadline: Deadline, **kwargs: object) -> None:
        self.deadline = deadline
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        self.deadline.watch(sock)
        return sock


class _WatchedHTTP(_Watched, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPS(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTP


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


def post_signed(
    target: Target,
    *,
    secret: str,
    message_id: str,
    body: str,
    timeout: float,
    ca_certs: str | None = None,
) -> Answer:
    """POST `body` to the checked address of `target`, signed; follow nothing.

    `timeout` bounds the whole exchange, from connecting to the answer's headers.
    """
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(secret=secret, message_id=message_id, body=body),
    }
    deadline = Deadline(timeout)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = _HTTPSPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
            deadline=deadline,
        )
    else:
        pool = _HTTPPool(
            target.address,
            target.port,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
            deadline=deadline,
        )
    started = time.monotonic()
    status: int | None = None
    failure = None
    deadline.start()
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
        deadline.stop()
        pool.close()
    if deadline.passed and status is None:
        failure = Failure.TIMEOUT  # cut by the deadline, whatever the socket said then
    return Answer(status, round((time.monotonic() - started) * 1000), failure)
