"""Which worker holds a sync run: the claim, its lease and its token; which queued run a
worker with room takes; which answered pages are stored with the one awaited."""

import threading
import time
from collections import deque
from concurrent.futures import Future
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from integrations.sage.client import Page
from integrations.sync.models import SyncCursor, SyncRun
from integrations.sync.services import _claim, _claim_next, _next_in_line, _Read, _take

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(sage_sandbox, org_a, link_connection):
    return link_connection(sage_sandbox, org_a)


def queued(connection) -> SyncRun:
    return SyncRun.objects.create(connection=connection, trigger=SyncRun.Trigger.SCHEDULE)


def test_a_claim_holds_the_run_for_its_lease_under_an_unguessable_token(connection, settings):
    settings.SYNC_LEASE_SECONDS = 120
    run = queued(connection)
    before = timezone.now()

    claimed = _claim(run.pk)

    assert claimed.status == SyncRun.Status.RUNNING
    assert len(claimed.claim) == 32  # 128 random bits, in hex
    int(claimed.claim, 16)
    assert claimed.lease_expires_at >= before + timedelta(seconds=120)
    assert before <= claimed.started_at <= timezone.now()
    assert claimed.attempts == 1
    assert _claim(run.pk) is None  # held: another worker leaves it
    assert _claim_next() is None


def test_a_run_whose_lease_ran_out_is_taken_over_and_keeps_its_start(connection):
    first = _claim(queued(connection).pk)
    SyncRun.objects.filter(pk=first.pk).update(lease_expires_at=timezone.now())

    taken = _claim(first.pk)

    assert taken.claim != first.claim
    assert taken.started_at == first.started_at
    assert taken.attempts == 2


def test_a_lease_has_run_out_at_the_instant_it_expires(connection):
    first = _claim(queued(connection).pk)
    expires = first.lease_expires_at

    held = _take(SyncRun.objects.filter(pk=first.pk), expires - timedelta(microseconds=1))
    taken = _take(SyncRun.objects.filter(pk=first.pk), expires)

    assert held is None
    assert taken is not None
    assert taken.claim != first.claim


def test_an_ended_run_is_never_claimed(connection):
    run = queued(connection)
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED)

    assert _claim(run.pk) is None
    assert _claim_next() is None


@pytest.mark.postgres
@pytest.mark.skipif(
    db_connection.vendor != "postgresql",
    reason="row locks (SELECT ... FOR UPDATE SKIP LOCKED) need PostgreSQL; SQLite has none",
)
@pytest.mark.django_db(transaction=True)
def test_a_run_another_worker_is_claiming_is_skipped_not_waited_for(connection):
    run = queued(connection)
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:  # holds the run's row as a claim in progress would
        with transaction.atomic():
            SyncRun.objects.select_for_update().filter(pk=run.pk).first()
            locked.set()
            release.wait(timeout=10)
        db_connection.close()

    holder = threading.Thread(target=other_worker)
    holder.start()
    assert locked.wait(timeout=5)
    answers: list[object] = []

    def claim_both() -> None:
        answers.extend([_claim(run.pk), _claim_next()])
        db_connection.close()

    claimer = threading.Thread(target=claim_both)
    started = time.monotonic()
    claimer.start()
    claimer.join(timeout=3)
    waited = time.monotonic() - started
    release.set()
    holder.join()
    claimer.join()

    assert waited < 3, "the claim waited for the other worker's lock"
    assert answers == [None, None]


def page_answered(items: int = 1) -> Future:
    future: Future = Future()
    future.set_result(Page(items=[{"id": str(n)} for n in range(items)], total=None, next_path=""))
    return future


def test_only_the_same_types_next_page_in_the_same_phase_is_next_in_line(connection):
    contacts = _Read(SyncCursor(connection=connection, data_type="contacts", phase="updated"), "")
    ledger = _Read(SyncCursor(connection=connection, data_type="ledger", phase="updated"), "")
    generation = int("1000")  # compared by value, not by identity
    answered, waiting, failed = page_answered(), Future(), Future()
    failed.set_exception(RuntimeError("Sage failed"))

    assert _next_in_line(deque(), contacts, generation) is None
    line = deque([(contacts, int("1000"), 2, answered), (ledger, generation, 1, waiting)])
    assert _next_in_line(line, contacts, generation) is answered
    # Another type first in line, even with this type's page behind it.
    line = deque([(ledger, generation, 1, answered), (contacts, generation, 3, answered)])
    assert _next_in_line(line, contacts, generation) is None
    # Asked in another phase (before or after this one).
    assert (
        _next_in_line(deque([(contacts, generation + 1, 2, answered)]), contacts, generation)
        is None
    )
    assert (
        _next_in_line(deque([(contacts, generation - 1, 2, answered)]), contacts, generation)
        is None
    )
    # Not answered yet, or answered with an error: still the one in line (the caller
    # awaits it, and leaves a failed one to the loop).
    assert (
        _next_in_line(deque([(contacts, generation, 2, waiting)]), contacts, generation) is waiting
    )
    assert _next_in_line(deque([(contacts, generation, 2, failed)]), contacts, generation) is failed
