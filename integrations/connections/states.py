"""What a company's connection is in the admin's words, how healthy it is, what can be done.

One table, `STATES`: each state with its words, its health and the actions that fit it.
The state comes from the connection and the company's last lifecycle event (a cancel, a
relink asked by support, an unlink by someone): `connection_state()` works it out, with
no query of its own.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy

from integrations.models import Connection, HistoryEvent

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class State(StrEnum):
    NOT_LINKED = "not_linked"  # no trip to Sage yet
    WAITING = "waiting"  # started, not back from Sage
    CHOOSING_BUSINESS = "choosing_business"
    CANCELLED = "cancelled"  # the customer said no at Sage
    LINK_FAILED = "link_failed"
    LINKED = "linked"
    RELINK_REQUESTED = "relink_requested"  # support or a client ID change
    TOKENS_REFUSED = "tokens_refused"  # Sage no longer accepts the tokens
    UNLINKED = "unlinked"


class Health(StrEnum):
    OK = "ok"
    ATTENTION = "attention"  # somebody must act: relink, or look at an error
    NONE = "none"  # nothing to watch yet (or any more)


class Action(StrEnum):
    SEND_LINK_URL = "send_link_url"  # the link URL card is shown first, to copy
    UNLINK = "unlink"


@dataclass(frozen=True)
class StateInfo:
    label: "StrOrPromise"  # may hold %(date)s, %(reason)s, %(actor)s
    health: Health
    actions: frozenset[Action]
    short: "StrOrPromise" = ""  # for a badge in a list; the label when empty


_SEND = frozenset({Action.SEND_LINK_URL})
_SEND_OR_UNLINK = frozenset({Action.SEND_LINK_URL, Action.UNLINK})
_ = gettext_lazy
# Each state's words: in full (may hold %(date)s, %(reason)s, %(actor)s), and short.
WORDS: dict[State, tuple["StrOrPromise", "StrOrPromise"]] = {
    State.NOT_LINKED: (_("Not linked yet"), ""),
    State.WAITING: (_("Waiting for the customer"), ""),
    State.CHOOSING_BUSINESS: (_("Waiting for the customer's business choice"), _("Choosing")),
    State.CANCELLED: (_("Customer cancelled on %(date)s"), _("Cancelled")),
    # Why it failed is the connection's last error, shown beside it on the company page.
    State.LINK_FAILED: (_("Link failed on %(date)s"), _("Link failed")),
    State.LINKED: (_("Linked"), ""),
    State.RELINK_REQUESTED: (_("Relink requested: %(reason)s"), _("Relink requested")),
    State.TOKENS_REFUSED: (_("Sage refused the tokens: relink needed"), _("Relink needed")),
    State.UNLINKED: (_("Unlinked by %(actor)s on %(date)s"), _("Unlinked")),
}
# Each state's health and the actions that fit it.
CARE: dict[State, tuple[Health, frozenset[Action]]] = {
    State.NOT_LINKED: (Health.NONE, _SEND),
    State.WAITING: (Health.NONE, _SEND),
    State.CHOOSING_BUSINESS: (Health.NONE, _SEND),
    State.CANCELLED: (Health.NONE, _SEND),
    State.LINK_FAILED: (Health.ATTENTION, _SEND),
    State.LINKED: (Health.OK, frozenset({Action.UNLINK})),
    State.RELINK_REQUESTED: (Health.ATTENTION, _SEND_OR_UNLINK),
    State.TOKENS_REFUSED: (Health.ATTENTION, _SEND_OR_UNLINK),
    State.UNLINKED: (Health.NONE, _SEND),
}
# A relink support asked for with a note (`details["note"]`): the note is said in full.
NOTED_RELINK = _("Relink requested by support: %(note)s")
STATES: dict[State, StateInfo] = {
    state: StateInfo(WORDS[state][0], *CARE[state], short=WORDS[state][1]) for state in State
}

# The events that say why a connection is where it is, newest first.
LIFECYCLE_KINDS = (
    HistoryEvent.Kind.LINK_FAILED,
    HistoryEvent.Kind.LINKED,
    HistoryEvent.Kind.MARKED_FOR_RELINK,
    HistoryEvent.Kind.DEAUTHORIZED,
    HistoryEvent.Kind.UNLINKED,
)
RELINK_REASONS = {
    HistoryEvent.Reason.SUPPORT: gettext_lazy("by support"),
    HistoryEvent.Reason.CLIENT_ID_CHANGED: gettext_lazy("the integration's client ID changed"),
}


@dataclass(frozen=True)
class LastEvent:
    """What the state needs of the company's last lifecycle event."""

    kind: str
    created_at: datetime
    details: dict[str, Any]
    actor: str = ""


@dataclass(frozen=True)
class ConnectionState:
    state: State
    label: str
    health: Health
    actions: frozenset[Action]
    short: str = ""

    @property
    def needs_attention(self) -> bool:
        return self.health == Health.ATTENTION

    @property
    def needs_relink(self) -> bool:
        """Linked once, and Sage's authorization must be given again."""
        return self.state in (State.RELINK_REQUESTED, State.TOKENS_REFUSED)

    @property
    def can_unlink(self) -> bool:
        return Action.UNLINK in self.actions

    @property
    def send_link_url(self) -> bool:
        return Action.SEND_LINK_URL in self.actions


def _state(connection: Connection | None, last: LastEvent | None) -> State:
    if connection is None:
        return State.NOT_LINKED
    kind = last.kind if last else ""
    status = connection.status
    if status == Connection.Status.LINKED:
        return State.LINKED
    if status == Connection.Status.UNLINKED:
        return State.UNLINKED
    if status == Connection.Status.DEAUTHORIZED:
        relink = kind == HistoryEvent.Kind.MARKED_FOR_RELINK
        return State.RELINK_REQUESTED if relink else State.TOKENS_REFUSED
    if connection.access_token:  # PendingAuth with tokens: a business to choose
        return State.CHOOSING_BUSINESS
    if kind == HistoryEvent.Kind.LINK_FAILED and last is not None:
        cancelled = last.details.get("reason") == "access_denied"
        return State.CANCELLED if cancelled else State.LINK_FAILED
    return State.WAITING


def connection_state(connection: Connection | None, last: LastEvent | None) -> ConnectionState:
    """The connection's state in words, with its health and the actions that fit it."""
    state = _state(connection, last)
    info = STATES[state]
    details = last.details if last else {}
    reason = details.get("reason", "")
    words = {
        "date": (
            formats.date_format(timezone.localtime(last.created_at), "DATETIME_FORMAT")
            if last
            else ""
        ),
        "actor": (last.actor if last else "") or gettext("an admin"),
        "reason": str(RELINK_REASONS.get(reason, reason)),
        "note": details.get("note", ""),
    }
    health = info.health
    if (
        state == State.LINKED
        and (connection is not None)
        and (connection.refresh_expires_soon or connection.last_error)
    ):
        health = Health.ATTENTION
    noted = state == State.RELINK_REQUESTED and words["note"]
    label = str(NOTED_RELINK if noted else info.label) % words
    return ConnectionState(state, label, health, info.actions, str(info.short) or label)
