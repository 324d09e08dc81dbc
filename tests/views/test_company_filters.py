"""The companies list's status filters with counts, and its order (issue 21 item 6)."""

from datetime import timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.audit.history import history_record
from integrations.connections.states import State
from integrations.models import Company, Connection, HistoryEvent
from integrations.selectors import (
    FILTER_OF_STATE,
    CompanyFilter,
    companies_for_list,
    company_filter_counts,
    company_list_page,
    company_list_rows,
    company_state,
)

pytestmark = pytest.mark.django_db
LIST = reverse("integrations:company_list")
Status = Connection.Status
Kind = HistoryEvent.Kind


@pytest.fixture
def one_of_each(org_a, setup_sage, make_company, make_connection):
    """One company of org A in each state of connection_states; {state: company}."""
    _, credential_set = setup_sage(org_a)

    def company(state, status=None, event=None, **fields):
        made = make_company(org_a, f"In {state.value}")
        if status is not None:
            make_connection(made, credential_set, status=status, state=state, **fields)
        if event is not None:
            kind, details = event
            history_record(organization=org_a, kind=kind, company=made, details=details)
        return made

    return {
        State.NOT_LINKED: company(State.NOT_LINKED),
        State.WAITING: company(State.WAITING, Status.PENDING_AUTH),
        State.CHOOSING_BUSINESS: company(
            State.CHOOSING_BUSINESS,
            Status.PENDING_AUTH,
            access_token="token-for-the-choice",
            access_token_expires_at=timezone.now() + timedelta(minutes=5),
        ),
        State.CANCELLED: company(
            State.CANCELLED, Status.PENDING_AUTH, (Kind.LINK_FAILED, {"reason": "access_denied"})
        ),
        State.LINK_FAILED: company(
            State.LINK_FAILED, Status.PENDING_AUTH, (Kind.LINK_FAILED, {"reason": "exchange"})
        ),
        State.LINKED: company(State.LINKED, Status.LINKED, (Kind.LINKED, {})),
        State.RELINK_REQUESTED: company(
            State.RELINK_REQUESTED,
            Status.DEAUTHORIZED,
            (Kind.MARKED_FOR_RELINK, {"reason": "support"}),
        ),
        State.TOKENS_REFUSED: company(
            State.TOKENS_REFUSED, Status.DEAUTHORIZED, (Kind.DEAUTHORIZED, {})
        ),
        State.UNLINKED: company(State.UNLINKED, Status.UNLINKED, (Kind.UNLINKED, {})),
    }


def test_each_row_reads_the_state_its_filter_was_chosen_by(org_a, one_of_each):
    """The rows (connection_state) and the filters (the stored column, in SQL) agree; the
    writers store each state as the answer gives it (tests/connections/test_stored_state.py)."""
    assert set(one_of_each) == set(State)
    for choice in CompanyFilter:
        page = company_list_page(companies_for_list(organization=org_a, status=choice))
        for row in company_list_rows(page):
            # The company page's answer, from the whole connection and its last event.
            full = Company.objects.select_related("connection").get(name=row.name)
            assert row.state.state == company_state(full).state, row.name
            assert FILTER_OF_STATE[row.state.state] == choice or row.state.needs_attention


def test_each_filter_holds_its_states_and_counts_them(org_a, one_of_each):
    counts = company_filter_counts(organization=org_a)
    assert counts["all"] == len(State)
    for choice in CompanyFilter:
        names = {c.name for c in companies_for_list(organization=org_a, status=choice)}
        expected = {f"In {s.value}" for s, f in FILTER_OF_STATE.items() if f == choice}
        assert names == expected, choice
        assert counts[choice.value] == len(expected)
    assert counts == {
        "all": 9,
        "linked": 1,
        "waiting": 3,
        "cancelled": 1,
        "attention": 3,
        "unlinked": 1,
    }


def test_a_linked_company_whose_refresh_failed_is_linked_and_needs_attention(org_a, one_of_each):
    Connection.objects.filter(company=one_of_each[State.LINKED]).update(last_error="timeout")
    counts = company_filter_counts(organization=org_a)
    assert (counts["linked"], counts["attention"]) == (1, 4)
    first = companies_for_list(organization=org_a, status=CompanyFilter.ATTENTION)
    assert "In linked" in {c.name for c in first}


def test_needs_attention_comes_first_then_the_latest_activity(org_a, one_of_each):
    Company.objects.filter(pk=one_of_each[State.NOT_LINKED].pk).update(
        created_at=timezone.now() + timedelta(hours=1)
    )
    names = [c.name for c in companies_for_list(organization=org_a)]
    attention = {"In link_failed", "In relink_requested", "In tokens_refused"}
    assert set(names[:3]) == attention
    assert names[3] == "In not_linked"  # the newest activity of the others


def test_the_list_page_shows_the_filters_with_counts_and_filters(admin_client, one_of_each):
    page = admin_client.get(LIST).content.decode()
    assert 'data-testid="company-filters"' in page
    assert 'data-filter="waiting">Waiting <span class="filters__count">3</span>' in page
    filtered = admin_client.get(LIST, {"status": "cancelled"}).content.decode()
    assert "In cancelled" in filtered
    assert "In waiting" not in filtered
    assert 'aria-current="page" data-filter="cancelled"' in filtered
    french = admin_client.get(LIST, headers={"accept-language": "fr"}).content.decode()
    assert "À traiter" in french


def test_an_unknown_filter_shows_every_company(admin_client, one_of_each):
    page = admin_client.get(LIST, {"status": "<script>"}).content.decode()
    assert page.count('class="cell--title"') == len(State)
    assert "<script>" not in page


def test_filters_count_only_this_organizations_companies(
    admin_client, one_of_each, org_b, make_company
):
    make_company(org_b, "Beta Customer")
    page = admin_client.get(LIST).content.decode()
    assert 'data-filter="all">All <span class="filters__count">9</span>' in page


def test_filters_and_counts_add_no_query_per_company(
    admin_client, org_a, one_of_each, make_company
):
    admin_client.get(LIST, {"status": "waiting"})
    with CaptureQueriesContext(db) as few:
        admin_client.get(LIST, {"status": "waiting"})
    for i in range(30):
        make_company(org_a, f"More {i}")
    with CaptureQueriesContext(db) as many:
        admin_client.get(LIST, {"status": "waiting"})
    assert len(many) == len(few)


def test_mobile_cards_leave_out_empty_fields(admin_client, one_of_each):
    page = admin_client.get(LIST, {"status": "waiting"}).content.decode()
    assert page.count('class="cell--empty"') == 2 * 3  # no refresh, no health, for each
