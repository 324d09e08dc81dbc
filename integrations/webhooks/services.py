"""Webhooks: the organization's endpoints (add, change, rotate, delete) and the events sent.

`webhook_emit` is called by the services where an event happens, inside their
transaction: it numbers the event in its company's sequence, keeps it for the events
feed (PlatformEvent) and writes one delivery per subscribed endpoint; the deliveries
are enqueued only once that transaction commits (a rolled-back change sends nothing).
Payloads hold names, ids and statuses, never a token or a secret; a company is
described as the REST API describes it (companies/representation.py).
"""

from typing import Any

from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations.audit.history import Actor, history_record
from integrations.companies.representation import company_data
from integrations.models import Company, Connection, HistoryEvent
from integrations.webhooks.delivery import webhook_enqueue_after_commit
from integrations.webhooks.models import (
    TEST_EVENT,
    EventSequence,
    PlatformEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    new_signing_secret,
)
from portal.organizations.models import Organization


def _record(
    endpoint: WebhookEndpoint, kind: HistoryEvent.Kind, actor: Actor, **details: Any
) -> None:
    history_record(
        organization=endpoint.organization,
        actor=actor,
        kind=kind,
        details={"url": endpoint.url, **details},
    )


@sensitive_variables("secret")
@transaction.atomic
def webhook_endpoint_create(
    *, organization: Organization, url: str, events: list[str], enabled: bool, actor: Actor
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; return it with its signing secret (shown once, stored encrypted)."""
    secret = new_signing_secret()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=url,
        events=sorted(events),
        enabled=enabled,
        signing_secret=secret,
    )
    _record(endpoint, HistoryEvent.Kind.WEBHOOK_ENDPOINT_CREATED, actor, events=endpoint.events)
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, events: list[str], enabled: bool, actor: Actor
) -> WebhookEndpoint:
    """Change the URL, events or enabled; enabling again forgets the failing streak."""
    changes = {
        name: value
        for name, value in {"url": url, "events": sorted(events), "enabled": enabled}.items()
        if getattr(endpoint, name) != value
    }
    if not changes:
        return endpoint
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if changes.get("enabled"):
        endpoint.failing_since = None
        endpoint.disabled_at = None
    endpoint.save()
    # "changed", not "fields": history_details_text reads "fields" as credential fields.
    _record(endpoint, HistoryEvent.Kind.WEBHOOK_ENDPOINT_UPDATED, actor, changed=sorted(changes))
    return endpoint


@sensitive_variables("secret")
@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint, actor: Actor) -> str:
    """Give the endpoint a new signing secret (the old one stops signing at once); return it."""
    secret = new_signing_secret()
    endpoint.signing_secret = secret
    endpoint.save(update_fields=["signing_secret", "updated_at"])
    _record(endpoint, HistoryEvent.Kind.WEBHOOK_SECRET_ROTATED, actor)
    return secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    """Delete the endpoint and its delivery log."""
    _record(endpoint, HistoryEvent.Kind.WEBHOOK_ENDPOINT_DELETED, actor)
    endpoint.delete()


def _connection_data(connection: Connection, state: str) -> dict[str, Any]:
    refreshed = connection.last_refreshed_at
    return {
        "id": str(connection.pk),
        "status": connection.status,
        "state": state,  # the word of the portal's pages and the API (connections.states.State)
        "api_version": connection.api_version,
        "country": connection.country,
        "business_id": connection.business_id,
        "business_name": connection.business_name,
        "last_refreshed_at": refreshed.isoformat() if refreshed else None,
        "last_error": connection.last_error,
        "last_error_code": connection.last_error_code,  # the API's code, for programs
    }


def webhook_payload(event: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": event, "timestamp": timezone.now().isoformat(), **extra, "data": data}


# One statement: the company's counter, made at its first event, moved on by one and
# held (row lock) until the transaction ends (PostgreSQL and SQLite 3.35+ alike).
NEXT_SEQUENCE = """
INSERT INTO {table} (company_id, last) VALUES (%s, 1)
ON CONFLICT (company_id) DO UPDATE SET last = {table}.last + 1
RETURNING last
"""


def _next_sequence(company: Company) -> int:
    """The company's next event number. Its counter stays locked until the transaction
    ends, so that two events of one company are numbered (and committed) one after the
    other; it goes on across the events' retention (EventSequence)."""
    table = db_connection.ops.quote_name(EventSequence._meta.db_table)
    with db_connection.cursor() as cursor:
        cursor.execute(NEXT_SEQUENCE.format(table=table), [company.pk])
        (last,) = cursor.fetchone()
    return int(last)


@transaction.atomic(savepoint=False)  # the caller's transaction: all or nothing with it
def webhook_emit(
    *,
    event: WebhookEvent,
    company: Company,
    connection: Connection | None = None,
    state: str = "",
    described: dict[str, Any] | None = None,
    **details: Any,
) -> list[WebhookDelivery]:
    """Record `event` (numbered in the company's sequence, kept for the events feed) and
    queue it for every enabled endpoint of the company's organization that wants it.

    Call it in the transaction that makes the change: the event, its number and the
    deliveries are written with it, and the deliveries enqueued after it commits.
    `details` (e.g. reason="access_denied") go into `data` beside the company; `state`
    (the connection's state after the change) into `data["connection"]`. `described`:
    `company_data(company)`, from a caller that emits many events of one company in a row
    (a sync's pages) and works it out once.
    """
    data: dict[str, Any] = {"company": described or company_data(company)}
    if connection is not None:
        data["connection"] = _connection_data(connection, state)
    data.update(details)
    sequence = _next_sequence(company)
    payload = webhook_payload(event.value, data, sequence=sequence)
    PlatformEvent.objects.create(
        organization_id=company.organization_id,
        company_id=company.pk,
        sequence=sequence,
        type=event.value,
        payload=payload,
    )
    endpoints = [
        e
        for e in WebhookEndpoint.objects.for_org(company.organization).enabled()
        if e.subscribes_to(event)
    ]
    if not endpoints:
        return []
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=e, event_type=event.value, payload=payload, next_attempt_at=now)
        for e in endpoints
    )
    webhook_enqueue_after_commit(deliveries)
    return deliveries


def webhook_link_event(connection: Connection) -> WebhookEvent:
    """`connection.relinked` when the company was linked before, else `connection.linked`.

    Call it before recording this link's own history event.
    """
    linked_before = HistoryEvent.objects.filter(
        company_id=connection.company_id, kind=HistoryEvent.Kind.LINKED
    ).exists()
    return WebhookEvent.CONNECTION_RELINKED if linked_before else WebhookEvent.CONNECTION_LINKED


class EndpointDisabled(Exception):
    """A test event or a resend for a disabled endpoint: enable it first."""


def webhook_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `webhook.test` event for this endpoint alone, whatever it subscribes to.

    Raise EndpointDisabled when the endpoint is disabled.
    """
    if not endpoint.enabled:
        raise EndpointDisabled
    payload = webhook_payload(TEST_EVENT, {"test": True})
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type=TEST_EVENT, payload=payload, next_attempt_at=timezone.now()
    )
    webhook_enqueue_after_commit([delivery])
    return delivery


def webhook_resend(*, delivery: WebhookDelivery) -> bool:
    """Send a finished delivery again, with its same message id, from the retry schedule's start.

    False when it is still pending (its next attempt is already on its way); raise
    EndpointDisabled when its endpoint is disabled.
    """
    if not delivery.endpoint.enabled:
        raise EndpointDisabled
    resent = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(state=WebhookDelivery.State.PENDING)
        .update(state=WebhookDelivery.State.PENDING, retry_step=0, next_attempt_at=timezone.now())
    )
    if resent:
        delivery.refresh_from_db()
        webhook_enqueue_after_commit([delivery])
    return bool(resent)
