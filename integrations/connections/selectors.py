"""The reads of a connection's state: its company's last lifecycle event, then the one answer."""

from typing import Any

from django.db.models import QuerySet, Subquery

from integrations.connections.states import (
    LIFECYCLE_KINDS,
    ConnectionState,
    LastEvent,
    connection_state,
)
from integrations.models import Company, Connection, HistoryEvent


def last_event_annotations(events: QuerySet[HistoryEvent]) -> dict[str, Subquery]:
    """The newest lifecycle event of `events` (an OuterRef-filtered queryset), as annotations."""
    newest = events.filter(kind__in=LIFECYCLE_KINDS).order_by("-created_at", "-pk")
    return {
        "last_kind": Subquery(newest.values("kind")[:1]),
        "last_at": Subquery(newest.values("created_at")[:1]),
        "last_details": Subquery(newest.values("details")[:1]),
        "last_actor": Subquery(newest.values("actor__email")[:1]),
    }


def _annotated_last_event(annotated: Any) -> LastEvent | None:
    if not getattr(annotated, "last_kind", None):
        return None
    return LastEvent(
        kind=annotated.last_kind,
        created_at=annotated.last_at,
        details=annotated.last_details or {},
        actor=annotated.last_actor or "",
    )


def last_event(company_id: int) -> LastEvent | None:
    """The company's newest lifecycle event (one query)."""
    event = (
        HistoryEvent.objects.filter(company_id=company_id, kind__in=LIFECYCLE_KINDS)
        .select_related("actor")
        .order_by("-created_at", "-pk")
        .first()
    )
    if event is None:
        return None
    return LastEvent(
        kind=event.kind,
        created_at=event.created_at,
        details=event.details,
        actor=event.actor.email if event.actor else "",
    )


def company_state(company: Company) -> ConnectionState:
    """The state of the company's connection: from the annotations of a list when it has
    them (`last_event_annotations`), else from one query of its last lifecycle event."""
    connection = getattr(company, "connection", None)
    if hasattr(company, "last_kind"):
        return connection_state(connection, _annotated_last_event(company))
    if connection is None:
        return connection_state(None, None)
    return connection_state(connection, last_event(company.pk))


def connection_state_of(connection: Connection) -> ConnectionState:
    """The state of one connection (one query for its company's last lifecycle event)."""
    return connection_state(connection, last_event(connection.company_id))
