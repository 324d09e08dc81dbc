"""The state stored on each connection by its writers, against the answer it replaces.

Until the column, the state was worked out on every read from the connection's status,
its tokens and the company's last lifecycle event; the data migration keeps those rules
to fill existing rows. Driven through the writers of connections, every state they can
reach lands in the column as those rules would answer it, the pages' answer reads it,
and the companies list files the company under its filter.
"""

from importlib import import_module
from itertools import product
from pkgutil import iter_modules

import pytest
from django.apps import apps
from django.utils import timezone

from integrations import migrations
from integrations.accounting import Business
from integrations.connections.lifecycle import connection_mark_for_relink, connection_unlink
from integrations.connections.link import (
    connection_business_choose,
    connection_for_trip,
    connection_link,
    connection_link_failed,
)
from integrations.connections.refresh import connection_deauthorize, connection_record_error
from integrations.connections.selectors import company_state
from integrations.connections.states import CANCEL_REASON, LIFECYCLE_KINDS, State, state_after
from integrations.models import Company, Connection, HistoryEvent
from integrations.selectors import FILTER_OF_STATE, companies_for_list, company_filter_counts
from tests.linking.link_flow import exchange_through_sandbox

pytestmark = pytest.mark.django_db

# The data migration that filled the column (found by its name: the lead numbers it).
MIGRATION = import_module(
    "integrations.migrations."
    + next(
        m.name for m in iter_modules(migrations.__path__) if m.name.endswith("_connection_state")
    )
)
S, K = Connection.Status, HistoryEvent.Kind
BUSINESS = Business(id="biz-1", name="Bakery SARL")


def _from_history(connection: Connection) -> str:
    """The state the rules before the column give (the data migration's fill)."""
    Connection.objects.filter(pk=connection.pk).update(state="")
    MIGRATION.connection_states_fill(apps, None)
    return Connection.objects.get(pk=connection.pk).state


@pytest.fixture
def walk(org_a, setup_sage, make_company, sage_sandbox):
    """Drive one company's connection through the writers; check each state it lands in."""
    _integration, credential_set = setup_sage(org_a)
    company = make_company(org_a, "Walker Ltd")
    seen = []

    def connection() -> Connection:
        return Connection.objects.select_related(
            "company__organization", "integration", "credential_set"
        ).get(company=company)

    def link(*, business: Business | None) -> None:
        connection_link(
            connection=connection(),
            credential_set=credential_set,
            tokens=exchange_through_sandbox(sage_sandbox, credential_set),
            country="GB",
            business=business,
        )

    def fail(reason: str) -> None:
        connection_link_failed(
            connection=connection(),
            integration=credential_set.integration,
            reason=reason,
            message="The link did not complete.",
            code=f"link_{reason}",
        )

    def check(expected: State) -> None:
        stored = connection().state
        answer = company_state(Company.objects.select_related("connection").get(pk=company.pk))
        in_filter = companies_for_list(organization=org_a, status=FILTER_OF_STATE[expected])
        assert (stored, answer.state) == (expected, expected)
        assert company in in_filter, expected
        assert _from_history(connection()) == expected
        seen.append(expected)

    steps = {
        "trip": lambda: connection_for_trip(
            company=company,
            integration=credential_set.integration,
            credential_set=credential_set,
        ),
        "cancel": lambda: fail(CANCEL_REASON),
        "fail": lambda: fail("invalid_grant"),
        "tokens": lambda: link(business=None),
        "link": lambda: link(business=BUSINESS),
        "choose": lambda: connection_business_choose(
            connection_id=connection().pk, business=BUSINESS
        ),
        "refresh_failed": lambda: connection_record_error(
            connection_id=connection().pk, message="Sage could not be reached.", code="x", error="x"
        ),
        "relink": lambda: connection_mark_for_relink(
            connection=connection(), actor=org_a.admin, reason=HistoryEvent.Reason.SUPPORT
        ),
        "refused": lambda: connection_deauthorize(
            connection=connection(), reason=HistoryEvent.Reason.INVALID_GRANT
        ),
        "unlink": lambda: connection_unlink(connection=connection(), actor=org_a.admin),
    }

    def run(path: list[tuple[str, State]]) -> list[State]:
        assert company_state(company).state == State.NOT_LINKED
        for step, expected in path:
            steps[step]()
            check(expected)
        return seen

    return run


def test_every_state_the_writers_reach_lands_in_the_column_the_answer_gives(walk):
    seen = walk(
        [
            ("trip", State.WAITING),
            ("cancel", State.CANCELLED),
            ("fail", State.LINK_FAILED),
            ("tokens", State.CHOOSING_BUSINESS),
            ("fail", State.CHOOSING_BUSINESS),  # the tokens held: a business still to choose
            ("choose", State.LINKED),
            ("fail", State.LINKED),  # a second browser's failed trip leaves it linked
            ("refresh_failed", State.LINKED),
            ("relink", State.RELINK_REQUESTED),
            ("refresh_failed", State.RELINK_REQUESTED),  # no lifecycle event: kept
            ("cancel", State.TOKENS_REFUSED),  # as the history said it: the last event decides
            ("tokens", State.CHOOSING_BUSINESS),
            ("relink", State.RELINK_REQUESTED),
            ("link", State.LINKED),
            ("refused", State.TOKENS_REFUSED),
            ("link", State.LINKED),
            ("unlink", State.UNLINKED),
            ("cancel", State.UNLINKED),
            ("link", State.LINKED),
        ]
    )
    assert set(seen) == set(State) - {State.NOT_LINKED}  # that one is no connection at all


def test_a_new_trip_after_a_failed_link_keeps_the_failure_until_sage_answers(walk):
    walk(
        [
            ("trip", State.WAITING),
            ("fail", State.LINK_FAILED),
            ("trip", State.LINK_FAILED),  # the same connection, not written
            ("cancel", State.CANCELLED),
        ]
    )


def test_the_list_counts_and_filters_read_the_column_of_its_organization_only(
    org_a, org_b, walk, setup_sage, make_company, make_connection
):
    walk([("trip", State.WAITING), ("cancel", State.CANCELLED)])
    _integration, credential_set_b = setup_sage(org_b)
    make_connection(make_company(org_b, "Beta Ltd"), credential_set_b, status=S.PENDING_AUTH)
    Connection.objects.update(state=State.LINK_FAILED)  # the column alone decides

    counts = company_filter_counts(organization=org_a)
    attention = companies_for_list(organization=org_a, status="attention")

    assert (counts["all"], counts["cancelled"], counts["attention"]) == (1, 0, 1)
    assert [c.name for c in attention] == ["Walker Ltd"]


EVENTS = [("", ""), *((k, "") for k in LIFECYCLE_KINDS), (K.LINK_FAILED, CANCEL_REASON)]


def test_state_after_a_write_gives_what_the_history_gave():
    """Every status, with or without tokens, from every state, after every lifecycle event:
    what the rules kept by the migration answer. After a write that records no event, the
    last event is the one that led to the state before: kept where the history could
    have given it."""
    wrong = []
    for status, held, (kind, reason), before in product(S, (False, True), EVENTS, State):
        connection = Connection(status=status, state=before)
        if held:
            connection.access_token_expires_at = timezone.now()
        state = state_after(connection, kind, reason)
        expected = MIGRATION.state_from_history(status, held, kind, reason)
        if not kind:
            possible = {MIGRATION.state_from_history(status, held, k, r) for k, r in EVENTS}
            expected = before if before in possible else expected
        if state != expected:
            wrong.append((status, held, kind, reason, before, state, expected))
    assert wrong == []
