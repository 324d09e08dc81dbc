"""What the API keys page reads."""

from django.db.models import QuerySet

from integrations.audit.history import HISTORY_SIZE
from integrations.models import HistoryEvent, OrganizationAPIKey
from portal.organizations.models import Organization


def api_keys_for(*, organization: Organization) -> QuerySet[OrganizationAPIKey]:
    """The organization's API keys, newest first (revoked ones included, marked)."""
    return OrganizationAPIKey.objects.for_org(organization).order_by("-created")


def api_key_for(*, organization: Organization, prefix: str) -> OrganizationAPIKey:
    """Return the organization's key with `prefix`; raise DoesNotExist."""
    return (
        OrganizationAPIKey.objects.for_org(organization)
        .select_related("organization")
        .get(prefix=prefix)
    )


API_KEY_EVENTS = (HistoryEvent.Kind.API_KEY_CREATED, HistoryEvent.Kind.API_KEY_REVOKED)


def api_key_history(*, organization: Organization) -> QuerySet[HistoryEvent]:
    """The organization's latest key creations and revocations, with who did them."""
    return (
        HistoryEvent.objects.for_org(organization)
        .filter(kind__in=API_KEY_EVENTS)
        .select_related("actor")[:HISTORY_SIZE]
    )
