"""One connection that cannot be processed does not stop the keep-alive pass.

Whatever fails on one row (its secrets cannot be read, the database refuses a
write, another worker holds its lock) is recorded on that connection and logged
with its id, and the pass goes on to the next row.
"""

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from integrations.connections.errors import TOKENS_NOT_SAVED
from integrations.connections.keepalive import NOT_PROCESSED
from integrations.fields import Ciphertext
from integrations.models import Connection, HistoryEvent
from integrations.tasks import keepalive_pass
from tests.common.concurrency import row_lock_held
from tests.common.db_faults import postgres_only, token_change_of
from tests.connections.keepalive_helpers import counts, expiring_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_and_second(sage_sandbox, org_a, org_b, link_connection):
    """Two due connections; the pass takes `first` (1 day left) before `second` (3 days)."""
    first = expiring_in(link_connection(sage_sandbox, org_a, name="First"), 1)
    second = expiring_in(link_connection(sage_sandbox, org_b, name="Second"), 3)
    return first, second


def assert_refreshed(sandbox, connection) -> None:
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.refresh_token != connection.refresh_token
    assert stored.refresh_token in sandbox.live_tokens()
    assert stored.refresh_token_expires_at > timezone.now() + timedelta(days=30)


def error_records(caplog, connection) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.levelno == logging.ERROR and str(connection.pk) in r.getMessage()
    ]


def test_a_row_whose_secrets_cannot_be_read_is_recorded_and_the_pass_goes_on(
    sage_sandbox, first_and_second, caplog, capsys
):
    first, second = first_and_second
    # The second row's ciphertext on the first row: bound to another row, it cannot be read.
    foreign = Connection.objects.filter(pk=second.pk).values_list("refresh_token", flat=True).get()
    Connection.objects.filter(pk=first.pk).update(refresh_token=Ciphertext(foreign))

    call_command("keepalive")

    out = capsys.readouterr().out
    assert "1 refreshed, 0 deauthorized, 0 failed, 0 busy, 1 could not be processed" in out
    assert_refreshed(sage_sandbox, second)
    stored = Connection.objects.get(pk=first.pk)
    assert stored.status == Connection.Status.LINKED
    assert stored.last_error == NOT_PROCESSED
    event = HistoryEvent.objects.get(company=first.company, kind=HistoryEvent.Kind.REFRESH_FAILED)
    assert event.details == {"error": "DecryptionError"}
    (record,) = error_records(caplog, first)
    assert record.exc_info is not None
    for token in sage_sandbox.live_tokens():
        assert token not in caplog.text


def test_the_failure_is_recorded_once_per_streak(sage_sandbox, first_and_second):
    first, second = first_and_second
    foreign = Connection.objects.filter(pk=second.pk).values_list("refresh_token", flat=True).get()
    Connection.objects.filter(pk=first.pk).update(refresh_token=Ciphertext(foreign))

    assert keepalive_pass.call() == counts(refreshed=1, not_processed=1)
    assert keepalive_pass.call() == counts(not_processed=1)  # the second is no longer due

    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.REFRESH_FAILED).count() == 1


@postgres_only
def test_a_database_error_on_one_row_leaves_the_database_usable_for_the_next(
    sage_sandbox, first_and_second, fail_writes, caplog
):
    first, second = first_and_second
    # Sage answers invalid_grant for the first; recording its Deauthorized event then fails.
    fail_writes("integrations_historyevent", f"NEW.company_id = {first.company_id}", event="INSERT")
    sage_sandbox.fail_next("token", "invalid_grant")

    assert keepalive_pass.call() == counts(refreshed=1, not_processed=1)

    assert_refreshed(sage_sandbox, second)
    stored = Connection.objects.get(pk=first.pk)
    assert stored.status == Connection.Status.LINKED  # the half-done deauthorization rolled back
    assert stored.last_error == NOT_PROCESSED  # the UPDATE went through; its event could not
    assert error_records(caplog, first)


@postgres_only
def test_rotated_tokens_that_cannot_be_saved_do_not_stop_the_pass(
    sage_sandbox, first_and_second, fail_writes, settings, mailoutbox
):
    settings.ADMINS = ["ops@portal.example"]
    first, second = first_and_second
    fail_writes("integrations_connection", token_change_of(first))

    assert keepalive_pass.call() == counts(refreshed=1, not_processed=1)

    assert_refreshed(sage_sandbox, second)
    assert Connection.objects.get(pk=first.pk).last_error == TOKENS_NOT_SAVED
    (mail,) = mailoutbox
    assert str(first.pk) in mail.subject


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_row_locked_elsewhere_is_left_for_the_next_pass(sage_sandbox, first_and_second, settings):
    settings.REFRESH_LOCK_TIMEOUT = 0.2
    first, second = first_and_second
    with row_lock_held(first):
        assert keepalive_pass.call() == counts(refreshed=1, busy=1)

    assert_refreshed(sage_sandbox, second)
    assert Connection.objects.get(pk=first.pk).last_error == ""  # busy is not an error
    assert keepalive_pass.call() == counts(refreshed=1)  # the next pass takes it
