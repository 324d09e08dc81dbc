"""Token refresh against the sandbox: before expiry, rotation, invalid_grant, outages, locking."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connections.client import connection_client, connection_ensure_fresh
from integrations.connections.errors import (
    REFRESH_REFUSED,
    REFRESH_UNAVAILABLE,
    RefreshFailed,
    RelinkRequired,
)
from integrations.connections.refresh import connection_deauthorize, connection_refresh
from integrations.models import Connection, HistoryEvent
from tests.common.concurrency import run_at_once
from tests.common.db_faults import needs_postgres
from tests.common.factories import CLIENT_SECRET
from tests.linking.link_flow import expire_access_token

pytestmark = pytest.mark.django_db


def refreshes(sandbox) -> int:
    return len(sandbox.token_requests(grant_type="refresh_token"))


@pytest.mark.parametrize(
    ("seconds_left", "refreshed"),
    [(-5, True), (30, True), (59, True), (90, False), (150, False)],
)
def test_access_token_is_refreshed_when_under_a_minute_is_left(
    sage_sandbox, org_a, seconds_left, refreshed, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    old_access = connection.access_token
    Connection.objects.filter(pk=connection.pk).update(
        access_token_expires_at=timezone.now() + timedelta(seconds=seconds_left)
    )
    connection.refresh_from_db()

    fresh = connection_ensure_fresh(connection=connection)

    assert refreshes(sage_sandbox) == (1 if refreshed else 0)
    assert (fresh.access_token != old_access) is refreshed
    assert (fresh.access_token_expires_at - timezone.now() > timedelta(seconds=200)) is refreshed


def test_api_call_refreshes_first_when_the_token_is_about_to_expire(
    sage_sandbox, org_a, link_connection
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)

    business = connection_client(connection=connection).get("businesses/lead")

    assert business["id"] == sage_sandbox.businesses[0]["id"]
    assert refreshes(sage_sandbox) == 1
    connection.refresh_from_db()
    api_call = [r for r in sage_sandbox.requests if r.route == "api"][-1]
    assert api_call.headers["Authorization"] == f"Bearer {connection.access_token}"


def test_rotation_is_stored_in_the_same_save(sage_sandbox, org_a, link_connection):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    old_refresh = connection.refresh_token
    Connection.objects.filter(pk=connection.pk).update(
        refresh_token_expires_at=timezone.now() + timedelta(days=1), last_error="old problem"
    )

    connection_refresh(connection=connection)

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.refresh_token
    assert stored.refresh_token != old_refresh
    assert stored.refresh_token_expires_at > timezone.now() + timedelta(days=30)
    assert stored.last_refreshed_at > timezone.now() - timedelta(minutes=1)
    assert stored.last_error == ""
    # The rotated token works, so the next refresh succeeds too.
    expire_access_token(stored, sage_sandbox)
    assert connection_refresh(connection=stored).refresh_token != stored.refresh_token


def test_response_without_refresh_token_keeps_the_old_one(sage_sandbox, org_a, link_connection):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    old_access, old_refresh = connection.access_token, connection.refresh_token
    old_refresh_expiry = connection.refresh_token_expires_at
    sage_sandbox.refresh_without_new_refresh_token = True

    connection_refresh(connection=connection)

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.access_token != old_access
    assert stored.refresh_token == old_refresh
    assert stored.refresh_token_expires_at == old_refresh_expiry


def test_invalid_grant_deauthorizes_records_history_and_later_calls_fail_fast(
    sage_sandbox, org_a, link_connection
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    sage_sandbox.revoke_all()

    with pytest.raises(RelinkRequired, match="must link its Sage business again"):
        connection_ensure_fresh(connection=connection)

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.DEAUTHORIZED
    assert stored.access_token == ""
    assert stored.refresh_token == ""
    event = HistoryEvent.objects.get(company=stored.company, kind=HistoryEvent.Kind.DEAUTHORIZED)
    assert event.details == {"reason": "invalid_grant"}
    seen = len(sage_sandbox.requests)
    for call in (connection_ensure_fresh, connection_refresh, connection_client):
        with pytest.raises(RelinkRequired, match="must link its Sage business again"):
            call(connection=stored)
    assert len(sage_sandbox.requests) == seen  # no HTTP at all


@pytest.mark.parametrize(
    ("kind", "options"), [("status_500", {}), ("slow", {"seconds": 1.5}), ("html", {})]
)
def test_outage_keeps_tokens_and_is_retryable(
    sage_sandbox, org_a, settings, kind, options, link_connection
):
    settings.SAGE_HTTP_TIMEOUT = 0.5
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    before = Connection.objects.get(pk=connection.pk)
    sage_sandbox.fail_next("token", kind, **options)

    with pytest.raises(RefreshFailed) as failure:
        connection_refresh(connection=connection)

    assert failure.value.retryable is (kind != "html")
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.LINKED
    assert stored.access_token == before.access_token
    assert stored.refresh_token == before.refresh_token
    # Committed although the refresh failed, saying whether it will be tried again.
    assert stored.last_error == (REFRESH_REFUSED if kind == "html" else REFRESH_UNAVAILABLE)
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.REFRESH_FAILED)
    assert event.details == {"error": "bad_response" if kind == "html" else "unavailable"}
    # Sage is back: the kept refresh token still works and the error is cleared.
    assert connection_refresh(connection=stored).last_error == ""


@pytest.mark.parametrize(
    ("status", "refresh_token"),
    [
        (Connection.Status.PENDING_AUTH, True),  # tokens, but no business chosen yet
        (Connection.Status.UNLINKED, True),
        (Connection.Status.LINKED, False),
    ],
)
def test_only_a_linked_connection_with_a_refresh_token_is_refreshed(
    sage_sandbox, org_a, link_connection, status, refresh_token
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    changes = {"status": status} if refresh_token else {"refresh_token": ""}
    for name, value in changes.items():
        setattr(connection, name, value)
    connection.save()
    seen = len(sage_sandbox.requests)

    with pytest.raises(RelinkRequired, match="not linked to Sage"):
        connection_refresh(connection=connection)

    assert len(sage_sandbox.requests) == seen
    assert Connection.objects.get(pk=connection.pk).status == status


def test_refresh_skips_when_another_worker_already_refreshed(sage_sandbox, org_a, link_connection):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    stale_copy = Connection.objects.get(pk=connection.pk)
    connection_refresh(connection=connection)

    again = connection_refresh(connection=stale_copy)

    assert refreshes(sage_sandbox) == 1
    assert again.access_token == Connection.objects.get(pk=connection.pk).access_token


def test_deauthorize_forgets_tokens_and_records_who(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a)

    connection_deauthorize(connection=connection, reason="support", actor=org_a.admin)

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.DEAUTHORIZED
    assert stored.refresh_token == ""
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.DEAUTHORIZED)
    assert event.actor == org_a.admin
    assert event.details == {"reason": "support"}


def test_tokens_never_reach_the_logs(sage_sandbox, org_a, caplog, link_connection):
    caplog.set_level(logging.DEBUG)
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    old_refresh = connection.refresh_token
    sage_sandbox.fail_next("token", "status_500")
    with pytest.raises(RefreshFailed):
        connection_refresh(connection=connection)

    fresh = connection_refresh(connection=connection)
    connection_client(connection=fresh).get("businesses/lead")

    assert "Refreshed connection" in caplog.text
    for secret in (old_refresh, fresh.access_token, fresh.refresh_token, CLIENT_SECRET):
        assert secret not in caplog.text


@needs_postgres(
    "SQLite has no row locks (select_for_update is a no-op there); "
    ".ci/run's mandatory PostgreSQL run holds the refresh lock"
)
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_workers_spend_the_refresh_token_once(sage_sandbox, org_a, link_connection):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)

    def ensure_fresh(wait):
        own = Connection.objects.get(pk=connection.pk)
        wait()
        return connection_ensure_fresh(connection=own).access_token

    tokens, errors = run_at_once(5, ensure_fresh)

    assert errors == []
    assert len(sage_sandbox.token_requests(grant_type="refresh_token")) == 1
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.LINKED
    assert tokens == [stored.access_token] * 5
