"""A page's calls to Sage end within SAGE_PAGE_BUDGET seconds, 429 waits and slow answers included.

Background work has no budget: it still waits out Sage's Retry-After as
SAGE_API_MAX_ATTEMPTS allows.
"""

import time

import pytest

from integrations.connections.client import connection_client
from integrations.connections.live_data import LiveState, company_live_data
from integrations.sage.errors import SageApiError

pytestmark = pytest.mark.django_db


def api_calls(sandbox) -> int:
    return len([r for r in sandbox.requests if r.route == "api"])


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_a_page_does_not_wait_out_429s_past_its_budget(
    sage_sandbox, org_a, link_connection, settings
):
    settings.SAGE_PAGE_BUDGET = 1.5
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "status_429", times=10, retry_after=2)

    live, took = timed(lambda: company_live_data(connection=connection))

    assert took < 1.5  # before: three waits of 2 s, then the error
    assert live.state == LiveState.ERROR
    assert live.error == "Rate limited."  # Sage's own words, from the 429
    assert api_calls(sage_sandbox) == 3  # the page's three reads, none waited out


def test_a_page_stops_waiting_for_a_slow_answer_at_its_budget(
    sage_sandbox, org_a, link_connection, settings
):
    settings.SAGE_PAGE_BUDGET = 0.5  # the fixture's SAGE_HTTP_TIMEOUT is 2 s
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "slow", times=3, seconds=3)  # each of the three reads

    live, took = timed(lambda: company_live_data(connection=connection))

    assert 0.5 <= took < 1.5
    assert live.state == LiveState.ERROR
    assert live.error == "Sage could not be reached; try again later."


def test_a_429_is_still_waited_out_when_the_budget_allows(
    sage_sandbox, org_a, link_connection, settings
):
    settings.SAGE_PAGE_BUDGET = 5
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "status_429", retry_after=1)

    live, took = timed(lambda: company_live_data(connection=connection))

    assert live.state == LiveState.OK
    assert 1 <= took < 5
    assert api_calls(sage_sandbox) == 4  # the retried call, then the business's two lists


def test_a_spent_budget_sends_nothing_more(sage_sandbox, org_a, link_connection):
    client = connection_client(connection=link_connection(sage_sandbox, org_a), budget=0)

    with pytest.raises(SageApiError, match="taking too long") as failure:
        client.get("businesses/lead")

    assert failure.value.retryable
    assert api_calls(sage_sandbox) == 0


def test_background_calls_have_no_budget(sage_sandbox, org_a, link_connection, settings):
    settings.SAGE_PAGE_BUDGET = 0.1
    settings.SAGE_API_MAX_ATTEMPTS = 2
    sage_sandbox.fail_next("api", "status_429", retry_after=1)

    lead, took = timed(
        lambda: connection_client(connection=link_connection(sage_sandbox, org_a)).get(
            "businesses/lead"
        )
    )

    assert lead["id"] == sage_sandbox.businesses[0]["id"]
    assert took >= 1
