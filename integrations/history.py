"""Recording history events: who did what, when, never a secret value."""

from portal.models import Organization

from .models import Company, HistoryEvent, Integration


def history_record(
    *,
    organization: Organization,
    kind: HistoryEvent.Kind,
    actor=None,
    integration: Integration | None = None,
    company: Company | None = None,
    details: dict | None = None,
) -> HistoryEvent:
    """Record one event. `details` holds names and statuses only, never secret values."""
    return HistoryEvent.objects.create(
        organization=organization,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        integration=integration,
        company=company,
        details=details or {},
    )
