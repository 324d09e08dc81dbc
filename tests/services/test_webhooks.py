"""Webhook deliveries against a real receiver on loopback, verified with `standardwebhooks`."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from integrations.api.serializers import CompanySerializer
from integrations.companies.services import company_create
from integrations.models import Company, HistoryEvent
from integrations.webhooks.delivery import webhook_attempt, webhooks_sweep
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.webhooks.services import (
    webhook_emit,
    webhook_resend,
    webhook_secret_rotate,
    webhook_send_test,
)

pytestmark = pytest.mark.django_db

State = WebhookDelivery.State


def verified(received, secret):
    """The payload of a received request, verified with the library receivers use."""
    return Webhook(secret).verify(received.body, received.headers)


def make_due(delivery):
    """Time passes: the delivery's next attempt is due now."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_company_created_is_delivered_signed_after_commit(
    org_a, make_endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    _endpoint, secret = make_endpoint(org_a, webhook_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        company = company_create(organization=org_a, name="Acme Bakery", actor=None)
        company.external_id = None

    assert len(webhook_receiver.requests) == 1
    received = webhook_receiver.requests[0]
    payload = verified(received, secret)
    assert payload["type"] == "company.created"
    described = payload["data"]["company"]
    assert {k: described[k] for k in ("id", "external_id", "name", "connection_status")} == {
        "id": company.pk,
        "external_id": None,
        "name": "Acme Bakery",
        "connection_status": None,
    }
    # The REST API describes the company the same way (and gives its link URL and its
    # connection's state word besides; an event about a connection carries the state in
    # data.connection.state).
    rest = dict(CompanySerializer(Company.objects.get(pk=company.pk)).data)
    assert rest.pop("link_url")
    assert rest.pop("state") == "not_linked"
    assert described == rest
    assert payload["sequence"] == 1
    assert received.headers["webhook-id"].startswith("msg_")
    assert received.headers["Content-Type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert delivery.message_id == received.headers["webhook-id"]
    assert (delivery.state, delivery.attempts, delivery.last_status) == (State.DELIVERED, 1, 200)
    assert delivery.last_duration_ms is not None


def test_a_wrong_secret_or_a_changed_body_fails_verification(
    org_a, make_endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint(org_a, webhook_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_send_test(endpoint=endpoint)
    received = webhook_receiver.requests[0]
    assert verified(received, secret)["type"] == "webhook.test"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(received.body, received.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(received.body.replace(b"true", b"false"), received.headers)


def test_rotated_secret_signs_the_next_events(
    org_a, make_endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint, old = make_endpoint(org_a, webhook_receiver.url)
    new = webhook_secret_rotate(endpoint=endpoint, actor=None)
    assert new != old
    assert new.startswith("whsec_")
    with django_capture_on_commit_callbacks(execute=True):
        webhook_send_test(endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk))
    received = webhook_receiver.requests[0]
    assert verified(received, new)
    with pytest.raises(WebhookVerificationError):
        verified(received, old)


def test_no_delivery_for_a_rolled_back_transaction(
    org_a, make_endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    make_endpoint(org_a, webhook_receiver.url)

    def create_then_fail():
        with transaction.atomic():
            company_create(organization=org_a, name="Never", actor=None)
            raise RuntimeError("the caller's change fails after the event")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        create_then_fail()
    assert callbacks == []
    assert webhook_receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_only_subscribed_enabled_endpoints_of_the_organization_get_the_event(
    org_a, org_b, make_endpoint, webhook_receiver, make_company, django_capture_on_commit_callbacks
):
    wants, _ = make_endpoint(org_a, webhook_receiver.url, events=["company.created"])
    make_endpoint(org_a, webhook_receiver.url + "/other", events=["connection.unlinked"])
    make_endpoint(org_a, webhook_receiver.url + "/off", enabled=False)
    make_endpoint(org_b, webhook_receiver.url + "/b")
    with django_capture_on_commit_callbacks(execute=True):
        company_create(organization=org_a, name="Acme", actor=None)
    assert [r.path for r in webhook_receiver.requests] == ["/hooks"]
    assert WebhookDelivery.objects.get().endpoint == wants


def test_retries_on_500_with_the_same_message_id(
    org_a, make_endpoint, webhook_receiver, make_company
):
    _endpoint, secret = make_endpoint(org_a, webhook_receiver.url)
    webhook_receiver.answer(500)
    webhook_receiver.answer(503)
    (delivery,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))

    before = timezone.now()
    assert webhook_attempt(delivery_id=delivery.pk) == State.PENDING
    delivery.refresh_from_db()
    assert delivery.last_status == 500
    # The first retry waits 5 s; meanwhile the delivery is not due.
    assert before + timedelta(seconds=4) < delivery.next_attempt_at < before + timedelta(seconds=7)
    assert webhook_attempt(delivery_id=delivery.pk) is None
    make_due(delivery)
    assert webhook_attempt(delivery_id=delivery.pk) == State.PENDING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=4)  # then 5 min
    make_due(delivery)
    assert webhooks_sweep() == 1  # the sweep enqueues what is due (immediate backend: runs it)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (State.DELIVERED, 3, 200)
    ids = {r.headers["webhook-id"] for r in webhook_receiver.requests}
    assert ids == {delivery.message_id}
    assert all(verified(r, secret) for r in webhook_receiver.requests)
    assert WebhookEndpoint.objects.get().failing_since is None


def test_retries_on_timeout_with_the_same_message_id(
    org_a, make_endpoint, webhook_receiver, make_company, settings
):
    settings.WEBHOOKS_TIMEOUT = 0.5
    make_endpoint(org_a, webhook_receiver.url)
    webhook_receiver.answer(200, delay=1.5)
    (delivery,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))

    assert webhook_attempt(delivery_id=delivery.pk) == State.PENDING
    delivery.refresh_from_db()
    assert (delivery.last_status, delivery.last_error) == (None, "timeout")
    assert delivery.last_duration_ms < 1400
    make_due(delivery)
    assert webhook_attempt(delivery_id=delivery.pk) == State.DELIVERED
    assert [r.headers["webhook-id"] for r in webhook_receiver.requests] == [delivery.message_id] * 2


def test_connection_refused_is_retried(org_a, make_endpoint, webhook_receiver, make_company):
    make_endpoint(org_a, webhook_receiver.url.replace("/hooks", ""))
    port = webhook_receiver.server.server_address[1]
    webhook_receiver.server.shutdown()
    webhook_receiver.server.server_close()
    (delivery,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))
    assert webhook_attempt(delivery_id=delivery.pk) == State.PENDING
    delivery.refresh_from_db()
    assert delivery.last_error == "connection_error", port


@pytest.mark.parametrize("status", [400, 401, 404, 410, 302])
def test_no_retry_on_other_4xx_or_a_redirect(
    status, org_a, make_endpoint, webhook_receiver, make_company
):
    make_endpoint(org_a, webhook_receiver.url)
    webhook_receiver.answer(status, headers={"Location": "http://10.0.0.1/"})
    (delivery,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))
    assert webhook_attempt(delivery_id=delivery.pk) == State.FAILED
    delivery.refresh_from_db()
    assert (delivery.last_status, delivery.next_attempt_at) == (status, None)
    assert len(webhook_receiver.requests) == 1


def test_429_is_retried(org_a, make_endpoint, webhook_receiver, make_company):
    make_endpoint(org_a, webhook_receiver.url)
    webhook_receiver.answer(429)
    (delivery,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))
    assert webhook_attempt(delivery_id=delivery.pk) == State.PENDING


def test_gives_up_after_the_last_retry_of_the_schedule(
    org_a, make_endpoint, webhook_receiver, make_company, settings
):
    settings.WEBHOOKS_RETRY_DELAYS = [5, 300]
    make_endpoint(org_a, webhook_receiver.url)
    for _ in range(3):
        webhook_receiver.answer(500)
    (delivery,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))
    states = []
    for _ in range(3):
        states.append(webhook_attempt(delivery_id=delivery.pk))
        make_due(delivery)
    assert states == [State.PENDING, State.PENDING, State.FAILED]
    assert len(webhook_receiver.requests) == 3


def test_resend_keeps_the_message_id(
    org_a, make_endpoint, webhook_receiver, make_company, django_capture_on_commit_callbacks
):
    make_endpoint(org_a, webhook_receiver.url)
    webhook_receiver.answer(404)
    (delivery,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))
    assert webhook_attempt(delivery_id=delivery.pk) == State.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_resend(delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.DELIVERED, 2)
    assert [r.headers["webhook-id"] for r in webhook_receiver.requests] == [delivery.message_id] * 2
    assert not webhook_resend(
        delivery=WebhookDelivery.objects.create(
            endpoint=delivery.endpoint,
            event_type="webhook.test",
            payload={},
            next_attempt_at=timezone.now(),
        )
    )  # a pending one is already on its way


def test_an_endpoint_failing_for_five_days_is_disabled_and_admins_mailed(
    org_a, make_endpoint, webhook_receiver, make_company
):
    endpoint, secret = make_endpoint(org_a, webhook_receiver.url)
    webhook_receiver.answer(500)
    webhook_receiver.answer(500)
    (first,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))
    webhook_attempt(delivery_id=first.pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    assert endpoint.enabled
    assert mail.outbox == []

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1)
    )
    make_due(first)
    webhook_attempt(delivery_id=first.pk)
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_at is not None
    (message,) = mail.outbox
    assert message.to == [org_a.admin.email]
    assert webhook_receiver.url in message.subject
    assert secret not in message.body
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.WEBHOOK_ENDPOINT_DISABLED).exists()
    # Its pending delivery is not sent any more.
    make_due(first)
    assert webhook_attempt(delivery_id=first.pk) == State.FAILED
    assert len(webhook_receiver.requests) == 2


def test_payloads_carry_no_token_or_secret(
    org_a,
    make_endpoint,
    webhook_receiver,
    link_connection,
    sage_sandbox,
    django_capture_on_commit_callbacks,
):
    from integrations.connections.lifecycle import connection_unlink

    _endpoint, secret = make_endpoint(org_a, webhook_receiver.url)
    connection = link_connection(sage_sandbox, org_a)
    tokens = [connection.access_token, connection.refresh_token]
    with django_capture_on_commit_callbacks(execute=True):
        connection_unlink(connection=connection, actor=None)
    (received,) = webhook_receiver.requests
    payload = verified(received, secret)
    assert payload["type"] == "connection.unlinked"
    assert payload["data"]["connection"]["status"] == "Unlinked"
    assert payload["data"]["connection"]["id"] == str(connection.pk)
    body = received.body.decode()
    assert all(token and token not in body for token in tokens)
    assert secret not in body
    assert "token" not in json.dumps(payload["data"]["connection"])


def test_a_retry_is_deferred_to_its_time_on_a_backend_that_can(
    org_a, make_endpoint, webhook_receiver, make_company
):
    from django.tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    task_backends["default"] = DatabaseBackend(
        alias="default", params={"BACKEND": "django_tasks_db.DatabaseBackend"}
    )
    try:
        make_endpoint(org_a, webhook_receiver.url)
        webhook_receiver.answer(500)
        (delivery,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))
        webhook_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        (queued,) = DBTaskResult.objects.filter(task_path__endswith=".deliver_webhook")
        assert queued.args_kwargs["args"] == [str(delivery.pk)]
        assert queued.run_after == delivery.next_attempt_at
    finally:
        del task_backends["default"]  # built again from settings on next use


def test_an_unreadable_secret_fails_the_delivery_without_sending(
    org_a, make_endpoint, webhook_receiver, make_company, settings, caplog
):
    from integrations import crypto

    make_endpoint(org_a, webhook_receiver.url)
    (delivery,) = webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=make_company(org_a))
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key()]  # a key that encrypted nothing

    assert webhook_attempt(delivery_id=delivery.pk) == State.FAILED
    delivery.refresh_from_db()
    assert (delivery.last_error, delivery.next_attempt_at) == ("secret_unreadable", None)
    assert webhook_receiver.requests == []
    assert "cannot be read with the current encryption keys" in caplog.text
