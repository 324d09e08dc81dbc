"""Recovering from what goes wrong around a refresh.

- Sage rotated the tokens but saving them failed (a PostgreSQL trigger refuses the
  UPDATE): the save is retried; when it keeps failing, the connection records it,
  the log says it at ERROR and the admins get a mail, none of them with a token.
- Sage answers 401 to an access token we hold as fresh: one refresh under the row
  lock (only if the stored token is still the refused one), and one retry.
- A row lock held elsewhere: the refresh waits REFRESH_LOCK_TIMEOUT, then "busy".
"""

import logging
import time
from contextlib import ExitStack
from http import HTTPStatus

import pytest
from django.urls import reverse

from integrations.connections import errors as connection_errors
from integrations.connections import refresh as connections
from integrations.connections.client import connection_client
from integrations.connections.live_data import LiveState, company_live_data
from integrations.models import Connection, HistoryEvent
from tests.common.concurrency import row_lock_held
from tests.common.db_faults import postgres_only, token_change_of
from tests.common.factories import CLIENT_SECRET, NO_SUBSCRIPTION
from tests.linking.link_flow import expire_access_token

pytestmark = pytest.mark.django_db


def refreshes(sandbox) -> int:
    return len(sandbox.token_requests(grant_type="refresh_token"))


def api_calls(sandbox) -> int:
    return len([r for r in sandbox.requests if r.route == "api"])


# A failed save after a successful refresh


@postgres_only
def test_rotated_tokens_are_saved_when_the_first_save_fails(
    sage_sandbox, org_a, link_connection, fail_writes
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    fail_writes("integrations_connection", token_change_of(connection), times=1)

    fresh = connections.connection_refresh(connection=connection)

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.refresh_token == fresh.refresh_token != connection.refresh_token
    assert stored.refresh_token in sage_sandbox.live_tokens()
    assert stored.last_error == ""


@postgres_only
def test_tokens_that_cannot_be_saved_are_recorded_logged_and_mailed_without_a_token(
    sage_sandbox, org_a, admin_client, link_connection, fail_writes, settings, caplog, mailoutbox
):
    settings.ADMINS = ["ops@portal.example"]
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    old_refresh = connection.refresh_token
    fail_writes("integrations_connection", token_change_of(connection))

    response = admin_client.get(
        reverse("integrations:company_detail", args=[connection.company.pk])
    )

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert connection_errors.TOKENS_NOT_SAVED in page
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.LINKED
    assert stored.refresh_token == old_refresh  # spent at Sage: the operator must know
    assert stored.last_error == connection_errors.TOKENS_NOT_SAVED
    event = HistoryEvent.objects.get(company=connection.company)
    assert event.kind == HistoryEvent.Kind.REFRESH_FAILED
    assert event.details == {"error": "tokens_not_saved"}
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert str(connection.pk) in record.getMessage()
    assert record.exc_info is not None
    (mail,) = mailoutbox
    assert mail.to == ["ops@portal.example"]
    assert str(connection.pk) in mail.subject
    assert connection.company.name in mail.body
    secrets = sage_sandbox.live_tokens() | {old_refresh, connection.access_token, CLIENT_SECRET}
    for secret in secrets:
        for text in (page, caplog.text, record.exc_text or "", mail.subject, mail.body):
            assert secret not in text


@postgres_only
def test_the_caller_hears_that_the_tokens_are_lost(
    sage_sandbox, org_a, link_connection, fail_writes
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    fail_writes("integrations_connection", token_change_of(connection))

    with pytest.raises(connection_errors.TokensNotSaved):
        connections.connection_refresh(connection=connection)

    assert refreshes(sage_sandbox) == 1  # not retried at Sage: the save is what failed


# An access token Sage refuses before its time


def test_a_token_refused_early_is_refreshed_once_and_the_call_retried(
    sage_sandbox, org_a, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.expire_access_tokens()  # refused at Sage, fresh in our row
    assert connection.access_token_is_fresh

    business = connection_client(connection=connection).get("businesses/lead")

    assert business["id"] == sage_sandbox.businesses[0]["id"]
    assert refreshes(sage_sandbox) == 1
    assert api_calls(sage_sandbox) == 2
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.access_token != connection.access_token
    assert stored.access_token in sage_sandbox.live_tokens()


def test_the_page_shows_live_data_after_an_early_refusal(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.expire_access_tokens()

    live = company_live_data(connection=connection)

    assert live.state == LiveState.OK
    assert refreshes(sage_sandbox) == 1


def test_a_token_already_replaced_by_another_worker_is_not_refreshed_again(
    sage_sandbox, org_a, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    stale = Connection.objects.get(pk=connection.pk)  # another request's copy
    sage_sandbox.expire_access_tokens()
    connection_client(connection=connection).get("businesses/lead")

    connection_client(connection=stale).get("businesses/lead")

    assert refreshes(sage_sandbox) == 1  # the second saw the stored token had changed
    api_call = [r for r in sage_sandbox.requests if r.route == "api"][-1]
    stored = Connection.objects.get(pk=connection.pk)
    assert api_call.headers["Authorization"] == f"Bearer {stored.access_token}"


def test_a_token_refused_again_after_the_refresh_is_an_error_not_a_loop(
    sage_sandbox, org_a, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "error_array", times=6, status=401, data_code="Unauthorized")

    live = company_live_data(connection=connection)

    assert live.state == LiveState.ERROR
    assert refreshes(sage_sandbox) == 1
    assert api_calls(sage_sandbox) == 6  # the page's three reads, before and after one refresh


def test_no_subscription_is_not_cured_by_a_refresh(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "error_array", times=3, **NO_SUBSCRIPTION)

    live = company_live_data(connection=connection)

    assert live.error == "No active subscription"
    assert refreshes(sage_sandbox) == 0
    assert api_calls(sage_sandbox) == 3  # the page's three reads, none tried again


# A row lock held elsewhere


@pytest.fixture
def lock_held(db):
    """Return a function: hold `connection`'s row lock in another thread until the test ends."""
    with ExitStack() as held:
        yield lambda connection: held.enter_context(row_lock_held(connection))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_refresh_stops_waiting_for_a_held_lock(
    sage_sandbox, org_a, link_connection, lock_held, settings
):
    settings.REFRESH_LOCK_TIMEOUT = 0.3
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    lock_held(connection)

    started = time.monotonic()
    with pytest.raises(connection_errors.ConnectionBusy) as busy:
        connections.connection_refresh(connection=connection)
    waited = time.monotonic() - started

    assert 0.3 <= waited < 1.5
    assert busy.value.retryable
    assert refreshes(sage_sandbox) == 0
    assert Connection.objects.get(pk=connection.pk).last_error == ""


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_page_says_busy_rather_than_waiting(
    sage_sandbox, org_a, admin_client, link_connection, lock_held, settings
):
    settings.REFRESH_LOCK_TIMEOUT = 0.3
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    lock_held(connection)

    started = time.monotonic()
    response = admin_client.get(
        reverse("integrations:company_detail", args=[connection.company.pk])
    )

    assert time.monotonic() - started < 2
    assert response.status_code == HTTPStatus.OK
    assert connection_errors.CONNECTION_BUSY in response.content.decode()


@pytest.mark.parametrize(("stored", "rejected"), [("token-a", "token-z"), ("token-z", "token-a")])
def test_a_refusal_of_a_token_no_longer_stored_spends_nothing(
    sage_sandbox, org_a, link_connection, stored, rejected
):
    # Whichever way the two tokens sort, a refusal of an older token is not refreshed.
    connection = link_connection(sage_sandbox, org_a)
    connection.access_token = stored
    connection.save(update_fields=["access_token"])

    fresh = connections.connection_refresh(connection=connection, rejected_access_token=rejected)

    assert refreshes(sage_sandbox) == 0
    assert fresh.access_token == stored
