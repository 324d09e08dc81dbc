"""What the webhooks pages read."""

from typing import Any

from django.db.models import QuerySet

from integrations.audit.history import HISTORY_SIZE
from integrations.models import HistoryEvent
from integrations.webhooks.models import PlatformEvent, WebhookDelivery, WebhookEndpoint
from portal.organizations.models import Organization


def webhook_endpoints_for(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    """The organization's webhook endpoints (no secret is read: it is only decrypted on use)."""
    return WebhookEndpoint.objects.for_org(organization)


def webhook_endpoint_for(*, organization: Organization, pk: Any) -> WebhookEndpoint:
    """Return the organization's endpoint `pk`; raise DoesNotExist."""
    return WebhookEndpoint.objects.for_org(organization).select_related("organization").get(pk=pk)


WEBHOOK_LOG_SIZE = 50


def webhook_deliveries_for(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first (the payload left out)."""
    return endpoint.deliveries.defer("payload")[:WEBHOOK_LOG_SIZE]


def webhook_delivery_log(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """Every delivery of the endpoint, newest first (the API pages through them)."""
    return endpoint.deliveries.all()


def platform_events(
    *, organization: Organization, type: str = "", company_id: int | None = None
) -> QuerySet[PlatformEvent]:
    """The organization's events, oldest first, of one type and one company if given."""
    events = PlatformEvent.objects.for_org(organization)
    if type:
        events = events.filter(type=type)
    if company_id is not None:
        events = events.filter(company_id=company_id)
    return events.order_by("id")


WEBHOOK_EVENTS = (
    HistoryEvent.Kind.WEBHOOK_ENDPOINT_CREATED,
    HistoryEvent.Kind.WEBHOOK_ENDPOINT_UPDATED,
    HistoryEvent.Kind.WEBHOOK_SECRET_ROTATED,
    HistoryEvent.Kind.WEBHOOK_ENDPOINT_DELETED,
    HistoryEvent.Kind.WEBHOOK_ENDPOINT_DISABLED,
)


def webhook_history(*, organization: Organization) -> QuerySet[HistoryEvent]:
    """The organization's latest changes to its webhook endpoints, with who made them."""
    return (
        HistoryEvent.objects.for_org(organization)
        .filter(kind__in=WEBHOOK_EVENTS)
        .select_related("actor")[:HISTORY_SIZE]
    )
