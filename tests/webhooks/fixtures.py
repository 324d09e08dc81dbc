"""Webhook test fixtures: a real HTTP receiver on loopback, endpoints, a test-controlled resolver.

- `webhook_receiver`: an HTTP server thread on 127.0.0.1 that records every request
  (`.requests`: path, headers, body) and answers as told (`.answer(status, delay=...,
  headers=...)`, one queued answer per request, then 200). WEBHOOKS_ALLOW_LOOPBACK_HTTP
  is on while it runs; `.url` is its endpoint URL.
- `make_endpoint(org, url, events=...)`: an endpoint made through the service; returns
  `(endpoint, secret)`.
- `resolver`: `resolver.names["hooks.example"] = ["127.0.0.1"]` makes socket.getaddrinfo
  answer those addresses for that name (other names resolve as usual).
"""

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.webhooks.models import WebhookEvent
from integrations.webhooks.services import webhook_endpoint_create


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    answers: list[tuple[int, float, dict[str, str]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def answer(self, status: int, *, delay: float = 0, headers: dict | None = None) -> None:
        self.answers.append((status, delay, headers or {}))


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            status, delay, headers = receiver.answers.pop(0) if receiver.answers else (200, 0, {})
            time.sleep(delay)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the portal gave up waiting (a timeout test)
                pass

        def log_message(self, format, *args):
            pass

    return Handler


@pytest.fixture
def webhook_receiver(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True
    receiver = Receiver(server=None)  # type: ignore[arg-type]
    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.server.daemon_threads = True
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def make_endpoint(db):
    def make(org, url: str, *, events=tuple(WebhookEvent.values), enabled: bool = True):
        return webhook_endpoint_create(
            organization=org, url=url, events=list(events), enabled=enabled, actor=None
        )

    return make


class Resolver:
    def __init__(self, real):
        self.real = real
        self.names: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.asked.append(host)
        if host in self.names:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in self.names[host]
            ]
        return self.real(host, port, *args, **kwargs)


@pytest.fixture
def resolver(monkeypatch):
    resolver = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver
