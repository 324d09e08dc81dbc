"""Recording history events: who did what, when, never a secret value."""

from typing import TYPE_CHECKING, Any

from portal.models import Organization

from .models import Company, HistoryEvent, Integration

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User  # User: AUTH_USER_MODEL

# Who did it: request.user from a page or the admin, None for the system (keep-alive, Sage).
type Actor = User | AnonymousUser | None


def history_record(
    *,
    organization: Organization,
    kind: HistoryEvent.Kind,
    actor: Actor = None,
    integration: Integration | None = None,
    company: Company | None = None,
    details: dict[str, Any] | None = None,
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
