"""One change of a connection, announced once: its history event, then its effects.

Every change of a connection's state records one history event (who, what, why) and
queues its webhook in the same transaction (the deliveries are rows: none is lost, none
is sent for a change rolled back). What must wait for the commit runs from here once it
commits, in one place: the live data cached for the connection is forgotten, a token
the change dropped is revoked at Sage (and the outcome noted on the event), the
webhook deliveries are enqueued (by `webhook_emit`).

The one exception is the unlink: its caller says whether Sage confirmed the
revocation, so `connection_unlink` waits for it after its own commit.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from integrations.audit.history import Actor, history_record
from integrations.connections.live_data_cache import fresh_key, last_key
from integrations.connections.revocation import HeldToken, note_revocation, revoke
from integrations.models import Connection, HistoryEvent, Integration
from integrations.sync.retention import sync_forget
from integrations.webhooks.models import WebhookEvent
from integrations.webhooks.services import webhook_emit, webhook_link_event

# The webhook each lifecycle event sends (LINKED: linked, or relinked when linked before).
WEBHOOKS: dict[str, WebhookEvent] = {
    HistoryEvent.Kind.LINK_FAILED: WebhookEvent.LINK_FAILED,
    HistoryEvent.Kind.DEAUTHORIZED: WebhookEvent.CONNECTION_DEAUTHORIZED,
    HistoryEvent.Kind.MARKED_FOR_RELINK: WebhookEvent.CONNECTION_DEAUTHORIZED,
    HistoryEvent.Kind.UNLINKED: WebhookEvent.CONNECTION_UNLINKED,
    HistoryEvent.Kind.REFRESH_FAILED: WebhookEvent.CONNECTION_REFRESH_FAILED,
}


@dataclass(frozen=True)
class Announcement:
    """What one change announced: its event, the state it led to."""

    event: HistoryEvent
    state: str


def transition_announce(
    connection: Connection,
    kind: HistoryEvent.Kind,
    *,
    actor: Actor = None,
    webhook: dict[str, Any] | None = None,
    held: HeldToken | None = None,
    integration: Integration | None = None,
    **details: Any,
) -> Announcement:
    """Record the change's one event and queue its effects for after the commit.

    `connection` comes with its company, organization and integration, as saved.
    `webhook`: what the webhook's `data` says beside the company and connection (its
    reason, its error); `held`: a refresh token the change dropped, revoked at Sage;
    `integration`: the connection's, when the caller holds it already (not read again).
    """
    webhook_type = (
        webhook_link_event(connection)  # before this event: was it linked before?
        if kind == HistoryEvent.Kind.LINKED
        else WEBHOOKS.get(kind)
    )
    event = history_record(
        organization=connection.company.organization,
        integration=integration or connection.integration,
        company=connection.company,
        actor=actor,
        kind=kind,
        details=details,
    )
    state = connection.state  # stored by the writer, in the save before this event
    if webhook_type is not None:
        webhook_emit(
            event=webhook_type,
            company=connection.company,
            connection=connection,
            state=state,
            **(webhook or {}),
        )
    transaction.on_commit(_after_commit(connection, event, held))
    return Announcement(event, state)


def _after_commit(
    connection: Connection, event: HistoryEvent, held: HeldToken | None
) -> Callable[[], None]:
    """The effects of a committed change, in one place."""
    connection_pk = connection.pk

    @sensitive_variables()
    def run() -> None:
        # Forgotten after the commit, so that a page reading meanwhile cannot cache the
        # old data again; on a relink the data may be another business's.
        cache.delete_many([fresh_key(connection_pk), last_key(connection_pk)])
        if held is not None:
            note_revocation(event, revoked=revoke(held))
        # (A link's first sync is started by connections.link, which sits above the engine.)
        if event.kind == HistoryEvent.Kind.UNLINKED:
            sync_forget.enqueue(str(connection_pk))  # retention: its synced data, in batches

    return run
