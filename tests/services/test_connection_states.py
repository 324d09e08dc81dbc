"""The one answer about a connection's state: its word, sentence, actions and warnings."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone, translation

from integrations.connections.states import (
    Action,
    LastEvent,
    State,
    Warning,
    connection_state,
    event_state,
    state_after,
)
from integrations.models import Connection, HistoryEvent

S, K = Connection.Status, HistoryEvent.Kind
WHEN = datetime(2026, 11, 30, 17, 14, tzinfo=UTC)
HELD = {"access_token_expires_at": WHEN}  # tokens held: their expiry says so, unread


def event(kind, **details):
    return LastEvent(kind=kind, created_at=WHEN, details=details, actor="admin@acme.example")


def written(status, last=None, **columns):
    """A connection as the write that recorded `last` leaves it: its state stored too."""
    connection = Connection(status=status, **columns)
    reason = last.details.get("reason", "") if last else ""
    connection.state = state_after(connection, last.kind if last else "", reason)
    return connection


# The last events the table words differently: why a link failed, who asked for a relink.
DENIED = event(K.LINK_FAILED, reason="access_denied")
LINK_FAILED = event(K.LINK_FAILED, reason="invalid_grant")
BY_SUPPORT = event(K.MARKED_FOR_RELINK, reason="support")
NOTED = event(K.MARKED_FOR_RELINK, reason="support", note="Ticket 42: 100% sure")
CLIENT_ID_CHANGED = event(K.MARKED_FOR_RELINK, reason="client_id_changed")
REFUSED = event(K.DEAUTHORIZED, reason="invalid_grant")
SEND, RENEW, UNLINK, MARK = (
    Action.SEND_LINK_URL,
    Action.RENEW_LINK_URL,
    Action.UNLINK,
    Action.MARK_FOR_RELINK,
)
ANY = {SEND, RENEW, UNLINK, MARK}  # PendingAuth may go anywhere
AGAIN = {SEND, RENEW, UNLINK}  # Deauthorized: link again or unlink


@pytest.mark.parametrize(
    ("status", "columns", "last", "state", "words", "actions"),
    [
        (None, {}, None, State.NOT_LINKED, "Not linked yet", {SEND, RENEW}),
        (S.PENDING_AUTH, {}, None, State.WAITING, "Waiting for the customer", ANY),
        (S.PENDING_AUTH, HELD, None, State.CHOOSING_BUSINESS, "business choice", ANY),
        (S.PENDING_AUTH, {}, DENIED, State.CANCELLED, "Customer cancelled on", ANY),
        (S.PENDING_AUTH, {}, LINK_FAILED, State.LINK_FAILED, "Link failed on", ANY),
        (S.LINKED, HELD, event(K.LINKED), State.LINKED, "Linked", {RENEW, UNLINK, MARK}),
        (
            S.DEAUTHORIZED,
            {},
            BY_SUPPORT,
            State.RELINK_REQUESTED,
            "Relink requested: by support",
            AGAIN,
        ),
        (
            S.DEAUTHORIZED,
            {},
            NOTED,
            State.RELINK_REQUESTED,
            "Relink requested by support: Ticket 42: 100% sure",
            AGAIN,
        ),
        (S.DEAUTHORIZED, {}, CLIENT_ID_CHANGED, State.RELINK_REQUESTED, "client ID changed", AGAIN),
        (S.DEAUTHORIZED, {}, REFUSED, State.TOKENS_REFUSED, "Sage refused the tokens", AGAIN),
        (
            S.UNLINKED,
            {},
            event(K.UNLINKED),
            State.UNLINKED,
            "Unlinked by admin@acme.example",
            {SEND, RENEW},
        ),
    ],
)
def test_each_state_has_its_sentence_and_the_actions_the_table_allows(
    status, columns, last, state, words, actions
):
    connection = None if status is None else written(status, last, **columns)
    with translation.override("en"):
        answer = connection_state(connection, last)
    assert answer.state == state
    assert words in answer.detail
    assert answer.actions == actions


@pytest.mark.parametrize("status", list(S))
def test_unlink_is_offered_exactly_where_the_transition_table_allows_it(status):
    connection = Connection(status=status)
    answer = connection_state(connection, None)
    assert answer.can_unlink is connection.can_move_to(S.UNLINKED)
    assert answer.send_link_url is connection.can_move_to(S.PENDING_AUTH)
    assert answer.can_mark_for_relink is connection.can_move_to(S.DEAUTHORIZED)


def test_only_states_someone_must_act_on_need_attention():
    cases = {
        State.LINK_FAILED: (written(S.PENDING_AUTH, LINK_FAILED), LINK_FAILED),
        State.RELINK_REQUESTED: (written(S.DEAUTHORIZED, BY_SUPPORT), BY_SUPPORT),
        State.TOKENS_REFUSED: (written(S.DEAUTHORIZED, REFUSED), REFUSED),
        State.CANCELLED: (written(S.PENDING_AUTH, DENIED), DENIED),
        State.WAITING: (written(S.PENDING_AUTH, None), None),
        State.UNLINKED: (written(S.UNLINKED, None), None),
        State.LINKED: (written(S.LINKED, None), None),
    }
    attention = {state for state, args in cases.items() if connection_state(*args).needs_attention}
    assert attention == {State.LINK_FAILED, State.RELINK_REQUESTED, State.TOKENS_REFUSED}


def test_a_linked_connection_warns_of_an_expiring_authorization_and_a_failed_refresh():
    soon = timezone.now() + timedelta(days=1)
    expiring = written(S.LINKED, refresh_token_expires_at=soon)
    failing = written(S.LINKED, last_error="Sage could not be reached.")
    assert connection_state(expiring, None).warnings == (Warning.REFRESH_EXPIRES_SOON,)
    assert connection_state(failing, None).warnings == (Warning.LAST_REFRESH_FAILED,)
    # A cancel leaves last_error set: it is not a failed refresh.
    cancelled = written(S.PENDING_AUTH, DENIED, last_error="The customer cancelled.")
    assert connection_state(cancelled, DENIED).warnings == ()


def test_an_unlinked_connection_names_the_business_it_was_linked_to():
    gone = written(S.UNLINKED, business_name="Bakery SARL")
    assert connection_state(gone, event(K.UNLINKED)).previously_linked_to == "Bakery SARL"
    linked = written(S.LINKED, business_name="Bakery SARL")
    assert connection_state(linked, None).previously_linked_to == ""


def test_a_lifecycle_event_reads_as_the_state_it_led_to():
    assert event_state(K.LINK_FAILED, {"reason": "access_denied"}) == State.CANCELLED
    assert event_state(K.LINK_FAILED, {"reason": "invalid_grant"}) == State.LINK_FAILED
    assert event_state(K.LINKED, {}) == State.LINKED
    assert event_state(K.MARKED_FOR_RELINK, {}) == State.RELINK_REQUESTED
    assert event_state(K.DEAUTHORIZED, {}) == State.TOKENS_REFUSED
    assert event_state(K.UNLINKED, {}) == State.UNLINKED
    assert event_state(K.REFRESHED, {}) is None


def test_every_word_and_sentence_is_in_french():
    for choices in (State, Action, Warning):
        for member in choices:
            with translation.override("en"):
                english = str(member.label)
            with translation.override("fr"):
                assert str(member.label) != english, member
