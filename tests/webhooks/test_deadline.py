"""One deadline for a whole delivery attempt: a receiver that drips its answer is cut there.

The receiver is real, on loopback: it reads the request, then sends one byte of its
answer at a time (the status line and headers, or a TLS record) and never finishes.
Before, each read had its own timeout, so an attempt could last as long as the
receiver liked; the claim's lease must outlive the deadline so that no other worker
sends the same attempt meanwhile.
"""

import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integrations.webhooks.delivery import LEASE_MARGIN, webhook_attempt
from integrations.webhooks.http import Failure, Target, post_signed
from integrations.webhooks.models import WebhookDelivery
from integrations.webhooks.services import webhook_send_test

DEADLINE = 2.0
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
# A TLS handshake record announcing 16 kB that never come.
TLS_RECORD = b"\x16\x03\x03\x40\x00" + b"\x02" * 64


class Dripper:
    """Accepts connections on 127.0.0.1 and answers each one byte every `interval` s."""

    def __init__(self, data: bytes, interval: float, *, wait_for_request: bool = True):
        self.data, self.interval, self.wait_for_request = data, interval, wait_for_request
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self.closed_by_client = threading.Event()
        self.on_request: Callable[[], None] | None = None
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(10)
        try:
            client, _ = self.sock.accept()
        except OSError:
            return
        with client:
            client.settimeout(1)
            if self.wait_for_request:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += client.recv(4096)
            if self.on_request is not None:
                self.on_request()
            for byte in self.data:
                if self.stop.wait(self.interval):
                    return
                try:
                    client.sendall(bytes([byte]))
                except OSError:  # the portal hung up: the deadline passed
                    self.closed_by_client.set()
                    return
                self.sent += 1

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def dripper():
    drippers: list[Dripper] = []

    def make(data: bytes = ANSWER, interval: float = 0.5, **kwargs) -> Dripper:
        drippers.append(Dripper(data, interval, **kwargs))
        return drippers[-1]

    yield make
    for d in drippers:
        d.close()


def _post(target: Target) -> tuple[float, object]:
    started = time.monotonic()
    answer = post_signed(
        target,
        secret="whsec_" + "A" * 43 + "=",
        message_id="msg_1",
        body="{}",
        timeout=DEADLINE,
    )
    return time.monotonic() - started, answer


def test_an_answer_dripped_byte_by_byte_is_cut_at_the_deadline(dripper):
    drip = dripper(interval=0.4)  # the whole answer would take 30 s
    elapsed, answer = _post(Target("http", "127.0.0.1", drip.port, "/in", "127.0.0.1"))

    assert answer.failure == Failure.TIMEOUT
    assert answer.status is None
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + 1
    assert 0 < drip.sent < len(ANSWER)  # it was reading, byte after byte, when cut


def test_a_tls_handshake_dripped_byte_by_byte_is_cut_at_the_deadline(dripper):
    drip = dripper(TLS_RECORD, interval=0.4, wait_for_request=False)
    elapsed, answer = _post(Target("https", "hooks.example", drip.port, "/in", "127.0.0.1"))

    assert answer.failure == Failure.TIMEOUT
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + 1


def test_a_quick_answer_is_not_cut(dripper):
    drip = dripper(interval=0.001)
    elapsed, answer = _post(Target("http", "127.0.0.1", drip.port, "/in", "127.0.0.1"))

    assert (answer.status, answer.failure) == (200, None)
    assert elapsed < DEADLINE


@pytest.mark.django_db(transaction=True)
def test_the_claim_outlives_the_deadline_so_the_attempt_is_made_once(
    dripper, org_a, make_endpoint, settings
):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True
    settings.WEBHOOKS_TIMEOUT = DEADLINE
    drip = dripper(interval=0.4)
    endpoint, _ = make_endpoint(org_a, f"http://127.0.0.1:{drip.port}/in")
    seen: dict[str, object] = {}

    def meanwhile() -> None:
        # Another worker, while the attempt waits on the receiver: nothing to claim.
        try:
            (pk,) = WebhookDelivery.objects.values_list("pk", flat=True)
            seen["second"] = webhook_attempt(delivery_id=pk)
            seen["lease"] = WebhookDelivery.objects.get(pk=pk).next_attempt_at
            seen["now"] = timezone.now()
        finally:
            connection.close()

    drip.on_request = meanwhile
    started = time.monotonic()
    # Committed at once (no test transaction): the task backend of the tests runs the
    # attempt right away, in this thread.
    delivery = webhook_send_test(endpoint=endpoint)
    elapsed = time.monotonic() - started

    assert elapsed < DEADLINE + 1
    assert seen["second"] is None
    assert seen["lease"] - seen["now"] > timedelta(seconds=DEADLINE) + LEASE_MARGIN / 2
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING  # a timeout is retried later
    assert (delivery.attempts, delivery.last_error) == (1, "timeout")
    assert delivery.last_duration_ms < (DEADLINE + 1) * 1000
