"""The one table of a connection's states: words, health and actions, from status and last event."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from integrations.connections.states import (
    STATES,
    Action,
    Health,
    LastEvent,
    State,
    connection_state,
)
from integrations.models import Connection, HistoryEvent

S, K = Connection.Status, HistoryEvent.Kind
WHEN = datetime(2026, 11, 30, 17, 14, tzinfo=UTC)


def event(kind, **details):
    return LastEvent(kind=kind, created_at=WHEN, details=details, actor="admin@acme.example")


# The last events the table words differently: why a link failed, who asked for a relink.
DENIED = event(K.LINK_FAILED, reason="access_denied")
LINK_FAILED = event(K.LINK_FAILED, reason="invalid_grant")
BY_SUPPORT = event(K.MARKED_FOR_RELINK, reason="support")
NOTED = event(K.MARKED_FOR_RELINK, reason="support", note="Ticket 42: 100% sure")
CLIENT_ID_CHANGED = event(K.MARKED_FOR_RELINK, reason="client_id_changed")
REFUSED = event(K.DEAUTHORIZED, reason="invalid_grant")


@pytest.mark.parametrize(
    ("status", "tokens", "last", "state", "words"),
    [
        (None, False, None, State.NOT_LINKED, "Not linked yet"),
        (S.PENDING_AUTH, False, None, State.WAITING, "Waiting for the customer"),
        (S.PENDING_AUTH, True, None, State.CHOOSING_BUSINESS, "business choice"),
        (S.PENDING_AUTH, False, DENIED, State.CANCELLED, "Customer cancelled on"),
        (S.PENDING_AUTH, False, LINK_FAILED, State.LINK_FAILED, "Link failed on"),
        (S.LINKED, True, event(K.LINKED), State.LINKED, "Linked"),
        (S.DEAUTHORIZED, False, BY_SUPPORT, State.RELINK_REQUESTED, "Relink requested: by support"),
        (
            S.DEAUTHORIZED,
            False,
            NOTED,
            State.RELINK_REQUESTED,
            "Relink requested by support: Ticket 42: 100% sure",
        ),
        (S.DEAUTHORIZED, False, CLIENT_ID_CHANGED, State.RELINK_REQUESTED, "client ID changed"),
        (S.DEAUTHORIZED, False, REFUSED, State.TOKENS_REFUSED, "Sage refused the tokens"),
        (S.UNLINKED, False, event(K.UNLINKED), State.UNLINKED, "Unlinked by admin@acme.example"),
    ],
)
def test_each_state_has_its_words_health_and_actions(status, tokens, last, state, words):
    connection = None
    if status is not None:
        connection = Connection(status=status, access_token="access" if tokens else "")
    with translation.override("en"):
        result = connection_state(connection, last)
    assert result.state == state
    assert words in result.label
    assert (result.health, result.actions) == (STATES[state].health, STATES[state].actions)


def test_the_table_offers_unlink_only_where_there_is_a_link_to_undo():
    unlinkable = {state for state, info in STATES.items() if Action.UNLINK in info.actions}
    assert unlinkable == {State.LINKED, State.RELINK_REQUESTED, State.TOKENS_REFUSED}


def test_only_states_someone_must_act_on_need_attention():
    attention = {state for state, info in STATES.items() if info.health == Health.ATTENTION}
    assert attention == {State.LINK_FAILED, State.RELINK_REQUESTED, State.TOKENS_REFUSED}


def test_every_state_is_worded_in_french():
    for state in State:
        with translation.override("en"):
            english = str(STATES[state].label)
        with translation.override("fr"):
            assert str(STATES[state].label) != english, state
