"""A connection's state in the reader's words, the actions that fit it, its warnings.

The one answer every reader takes (the companies list, the company page, the history,
the REST API, the webhooks, the admin and the services): `connection_state()`, from the
connection (its stored state) and the company's last lifecycle event (the sentence's
date, actor and reason), with no query of its own. The state itself is worked out once,
when a connection is written (`state_after`), and stored on it: lists filter, count and
sort on the column. Each state has one word (`State.label`), the same everywhere;
`detail` says more beside it. Which actions fit is decided by `Connection.TRANSITIONS`,
the one table of the lifecycle.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy

from integrations.models import Connection, HistoryEvent

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_ = gettext_lazy


# One word per state (its value in the API and webhooks, its label on every page), stored
# on each connection by its writers (`state_after`); defined beside the column it fills.
State = Connection.State


class Action(models.TextChoices):
    """What can be done with a connection in its state."""

    SEND_LINK_URL = "send_link_url", _("Send the link URL")  # link, or link again
    RENEW_LINK_URL = "renew_link_url", _("Renew link URL")
    UNLINK = "unlink", _("Unlink")
    MARK_FOR_RELINK = "mark_for_relink", _("Mark connection for relink")  # support, admin


class Warning(models.TextChoices):  # noqa: A001 - the reader's word; builtins' is unused here
    """Why a connection needs attention: somebody must act."""

    LINK_FAILED = "link_failed", _("The last link failed")
    RELINK_NEEDED = "relink_needed", _("The company must link again")
    REFRESH_EXPIRES_SOON = "refresh_expires_soon", _("Authorization expires soon")
    LAST_REFRESH_FAILED = "last_refresh_failed", _("Last refresh failed")


# Each state's sentence beside its word (may hold %(date)s, %(reason)s, %(actor)s).
DETAILS: dict[State, "StrOrPromise"] = {
    State.CHOOSING_BUSINESS: _("Waiting for the customer's business choice"),
    State.CANCELLED: _("Customer cancelled on %(date)s"),
    # Why it failed is the connection's last error, shown beside it on the company page.
    State.LINK_FAILED: _("Link failed on %(date)s"),
    State.RELINK_REQUESTED: _("Relink requested: %(reason)s"),
    State.TOKENS_REFUSED: _("Sage refused the tokens: relink needed"),
    State.UNLINKED: _("Unlinked by %(actor)s on %(date)s"),
}
# A relink support asked for with a note (`details["note"]`): the note is said in full.
NOTED_RELINK = _("Relink requested by support: %(note)s")
RELINK_REASONS = {
    HistoryEvent.Reason.SUPPORT: _("by support"),
    HistoryEvent.Reason.CLIENT_ID_CHANGED: _("the integration's client ID changed"),
}
TONES = {
    State.LINKED: "ok",
    State.WAITING: "waiting",
    State.CHOOSING_BUSINESS: "waiting",
}
STATE_WARNINGS = {
    State.LINK_FAILED: Warning.LINK_FAILED,
    State.RELINK_REQUESTED: Warning.RELINK_NEEDED,
    State.TOKENS_REFUSED: Warning.RELINK_NEEDED,
}

# The events that say why a connection is where it is, newest first.
LIFECYCLE_KINDS = (
    HistoryEvent.Kind.LINK_FAILED,
    HistoryEvent.Kind.LINKED,
    HistoryEvent.Kind.MARKED_FOR_RELINK,
    HistoryEvent.Kind.DEAUTHORIZED,
    HistoryEvent.Kind.UNLINKED,
)
# The reason of a failed link that is the customer's cancel at Sage (LinkFailure.ACCESS_DENIED).
CANCEL_REASON = "access_denied"


@dataclass(frozen=True)
class LastEvent:
    """What the state needs of the company's last lifecycle event."""

    kind: str
    created_at: datetime
    details: dict[str, Any]
    actor: str = ""


@dataclass(frozen=True)
class ConnectionState:
    """The one answer: the state, its sentence, the actions that fit, the warnings."""

    state: State
    detail: str  # the state said in full; its word when there is nothing more to say
    actions: frozenset[Action]
    warnings: tuple[Warning, ...] = ()
    previously_linked_to: str = ""  # the business an unlinked connection was linked to

    @property
    def word(self) -> str:
        return str(self.state.label)

    @property
    def tone(self) -> str:
        """The badge's colour: ok, waiting, attention or none."""
        if self.needs_attention:
            return "attention"
        return TONES.get(self.state, "none")

    @property
    def needs_attention(self) -> bool:
        return bool(self.warnings)

    @property
    def needs_relink(self) -> bool:
        """Linked once, and Sage's authorization must be given again."""
        return Warning.RELINK_NEEDED in self.warnings

    @property
    def refresh_expires_soon(self) -> bool:
        return Warning.REFRESH_EXPIRES_SOON in self.warnings

    @property
    def last_refresh_failed(self) -> bool:
        return Warning.LAST_REFRESH_FAILED in self.warnings

    @property
    def can_unlink(self) -> bool:
        return Action.UNLINK in self.actions

    @property
    def can_mark_for_relink(self) -> bool:
        return Action.MARK_FOR_RELINK in self.actions

    @property
    def send_link_url(self) -> bool:
        return Action.SEND_LINK_URL in self.actions

    @property
    def is_linked(self) -> bool:
        return self.state == State.LINKED

    @property
    def warning_words(self) -> list[str]:
        return [str(w.label) for w in self.warnings]

    @property
    def health_words(self) -> list[str]:
        """The warnings about a linked connection's tokens (the state's word says the rest)."""
        return [str(w.label) for w in self.warnings if w not in STATE_WARNINGS.values()]


def state_after(connection: Connection, kind: str = "", reason: str = "") -> State:
    """The state a write leaves `connection` in, its columns set as they are to be saved.

    From its status, its tokens and the lifecycle event the write records (`kind`, and
    its `reason`); a write that records none keeps a state that only an event decides.
    The writers of connections store it in `Connection.state`, in the same save() as
    the status or beside the event that changes it.
    """
    status = connection.status
    current = State(connection.state)
    if status == Connection.Status.LINKED:
        return State.LINKED
    if status == Connection.Status.UNLINKED:
        return State.UNLINKED
    if status == Connection.Status.DEAUTHORIZED:
        if kind:
            relink = kind == HistoryEvent.Kind.MARKED_FOR_RELINK
            return State.RELINK_REQUESTED if relink else State.TOKENS_REFUSED
        kept = current in (State.RELINK_REQUESTED, State.TOKENS_REFUSED)
        return current if kept else State.TOKENS_REFUSED
    # PendingAuth with tokens: a business to choose (their expiry says they are held).
    if connection.access_token_expires_at is not None:
        return State.CHOOSING_BUSINESS
    if kind == HistoryEvent.Kind.LINK_FAILED:
        return State.CANCELLED if reason == CANCEL_REASON else State.LINK_FAILED
    if kind:
        return State.WAITING
    kept = current in (State.WAITING, State.CANCELLED, State.LINK_FAILED)
    return current if kept else State.WAITING


def actions_of(connection: Connection | None) -> frozenset[Action]:
    """What fits the connection, as the transition table allows it."""
    if connection is None:
        return frozenset({Action.SEND_LINK_URL, Action.RENEW_LINK_URL})
    fits = {
        Action.RENEW_LINK_URL: True,  # the link URL is the company's, whatever its state
        Action.SEND_LINK_URL: connection.can_move_to(Connection.Status.PENDING_AUTH),
        Action.UNLINK: connection.can_move_to(Connection.Status.UNLINKED),
        Action.MARK_FOR_RELINK: connection.can_move_to(Connection.Status.DEAUTHORIZED),
    }
    return frozenset(action for action, fit in fits.items() if fit)


def _warnings(state: State, connection: Connection | None) -> tuple[Warning, ...]:
    if state in STATE_WARNINGS:
        return (STATE_WARNINGS[state],)
    if state != State.LINKED or connection is None:
        return ()
    found = []
    if connection.refresh_expires_soon:
        found.append(Warning.REFRESH_EXPIRES_SOON)
    if connection.last_error:
        found.append(Warning.LAST_REFRESH_FAILED)
    return tuple(found)


def _detail(state: State, last: LastEvent | None) -> str:
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
    if state == State.RELINK_REQUESTED and words["note"]:
        return str(NOTED_RELINK) % words
    return str(DETAILS.get(state, state.label)) % words


def connection_state(connection: Connection | None, last: LastEvent | None) -> ConnectionState:
    """The connection's state, its sentence, the actions that fit and its warnings."""
    state = State.NOT_LINKED if connection is None else State(connection.state)
    previously = ""
    if state == State.UNLINKED and connection is not None:
        previously = connection.business_name
    return ConnectionState(
        state=state,
        detail=_detail(state, last),
        actions=actions_of(connection),
        warnings=_warnings(state, connection),
        previously_linked_to=previously,
    )


# What a history event of the lifecycle did, in the words of the state it led to.
EVENT_STATES: dict[str, State] = {
    HistoryEvent.Kind.LINKED: State.LINKED,
    HistoryEvent.Kind.MARKED_FOR_RELINK: State.RELINK_REQUESTED,
    HistoryEvent.Kind.DEAUTHORIZED: State.TOKENS_REFUSED,
    HistoryEvent.Kind.UNLINKED: State.UNLINKED,
}


def event_state(kind: str, details: dict[str, Any]) -> State | None:
    """The state a lifecycle event led to; None for any other event."""
    if kind == HistoryEvent.Kind.LINK_FAILED:
        cancelled = details.get("reason") == CANCEL_REASON
        return State.CANCELLED if cancelled else State.LINK_FAILED
    return EVENT_STATES.get(kind)


# Who acted, for the events no signed-in user nor API key caused.
EVENT_ACTORS: dict[str, "StrOrPromise"] = {
    HistoryEvent.Kind.LINKED: _("the customer, through the link URL"),
    HistoryEvent.Kind.LINK_FAILED: _("the customer, through the link URL"),
    HistoryEvent.Kind.DEAUTHORIZED: _("Sage, which refused the tokens"),
    HistoryEvent.Kind.REFRESHED: _("the portal, renewing the tokens"),
    HistoryEvent.Kind.REFRESH_FAILED: _("the portal, renewing the tokens"),
}


def event_what(event: HistoryEvent) -> str:
    """What the event did: for a lifecycle event, the word of the state it led to."""
    state = event_state(event.kind, event.details or {})
    return str(state.label) if state else event.get_kind_display()


def event_who(event: HistoryEvent) -> str:
    """Who acted: the user, the API key, the customer, Sage or the portal; never "system"."""
    details = event.details or {}
    if event.actor is not None:
        return event.actor.email or event.actor.get_username()
    if details.get("api_key"):
        return gettext("API key %(prefix)s…") % {"prefix": details["api_key"]}
    if event.kind == HistoryEvent.Kind.MARKED_FOR_RELINK:
        return gettext("support")
    if event.kind in EVENT_ACTORS:
        return str(EVENT_ACTORS[event.kind])
    return gettext("system")
