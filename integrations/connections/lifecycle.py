"""The life of a linked connection, besides its refresh: support's relink, the unlink.

Every status change goes through `Connection.move_to`, which holds the one table of
allowed transitions, and is announced once (`events.transition_announce`).
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from integrations.audit.history import Actor, note_details
from integrations.connections.events import transition_announce
from integrations.connections.refresh import FORGET_FIELDS, locked_row
from integrations.connections.revocation import (
    held_token,
    note_revocation,
    revoke,
)
from integrations.connections.states import state_after
from integrations.fields import unreadable_fields
from integrations.models import Connection, HistoryEvent


@transaction.atomic
def connection_mark_for_relink(
    *, connection: Connection, actor: Actor, reason: HistoryEvent.Reason, note: str = ""
) -> bool:
    """Set a connection Deauthorized so that its company links again; False if it already was.

    `note`: why, in support's words; recorded in the history and shown to the organization.

    Its tokens are dropped, and revoked at Sage (v3.1) once this commits: a client ID
    change comes here before the new keys are saved, so the old app's keys revoke them.
    """
    locked = locked_row(connection.pk, "credential_set")
    previous = locked.status
    if not locked.can_move_to(Connection.Status.DEAUTHORIZED):
        return False
    held = held_token(locked)
    locked.move_to(Connection.Status.DEAUTHORIZED)
    locked.forget_tokens()
    locked.state = state_after(locked, HistoryEvent.Kind.MARKED_FOR_RELINK)
    locked.save(update_fields=FORGET_FIELDS)
    details: dict[str, Any] = {"from": previous, **note_details(note)}
    transition_announce(
        locked,
        HistoryEvent.Kind.MARKED_FOR_RELINK,
        actor=actor,
        webhook={"reason": str(reason)},
        held=held,
        reason=HistoryEvent.Reason(reason),
        **details,
    )
    return True


@dataclass(frozen=True)
class UnlinkResult:
    unlinked: bool
    revoked: bool  # False when revocation was not possible or failed
    revoke_failed: bool


def connection_unlink(*, connection: Connection, actor: Actor) -> UnlinkResult:
    """Set the connection Unlinked and revoke its refresh token at Sage (v3.1).

    The token is read under the row lock (a refresh meanwhile cannot leave a newer one
    valid at Sage) and Sage is called once the row is unlocked. A failed revocation
    still unlinks here; the result and the history say so.
    """
    with transaction.atomic():
        locked = locked_row(connection.pk, "credential_set")
        if not locked.can_move_to(Connection.Status.UNLINKED):
            return UnlinkResult(unlinked=False, revoked=False, revoke_failed=False)
        # Secrets the current keys cannot read: unlinked here all the same, not revoked.
        unreadable = bool(unreadable_fields(locked) or unreadable_fields(locked.credential_set))
        held = None if unreadable else held_token(locked)
        locked.move_to(Connection.Status.UNLINKED)
        locked.forget_tokens()
        locked.last_error = ""
        locked.last_error_code = ""
        locked.state = state_after(locked, HistoryEvent.Kind.UNLINKED)
        locked.save(update_fields=[*FORGET_FIELDS, "last_error", "last_error_code"])
        # The revocation is awaited below, not after the commit: the caller says its outcome.
        event = transition_announce(
            locked, HistoryEvent.Kind.UNLINKED, actor=actor, revoked=False, revoke_failed=False
        ).event
    if held is None:
        if unreadable:
            note_revocation(event, revoked=False)
        return UnlinkResult(unlinked=True, revoked=False, revoke_failed=unreadable)
    revoked = revoke(held)
    note_revocation(event, revoked=revoked)
    return UnlinkResult(unlinked=True, revoked=revoked, revoke_failed=not revoked)
