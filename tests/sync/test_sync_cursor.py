"""The sync's building blocks on their own: Sage's times, a page's upsert and deletions,
the claim of a run, and how a type's reading moves through its pages."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from integrations.sage.client import Page
from integrations.sync.models import SyncCursor, SyncedRecord, SyncRun
from integrations.sync.services import (
    _by_sage_id,
    _claim,
    _Read,
    records_flag_deleted,
    records_store,
    sage_time,
    sync_request,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-02T14:05:00Z", datetime(2025, 3, 2, 14, 5, tzinfo=UTC)),
        ("2025-03-02T15:05:00+01:00", datetime(2025, 3, 2, 14, 5, tzinfo=UTC)),
        ("2025-03-02T14:05:00", datetime(2025, 3, 2, 14, 5, tzinfo=UTC)),  # naive: UTC
        ("2025-13-45T00:00:00Z", None),  # looks like one, is not
        ("yesterday", None),
        (None, None),
        (20250302, None),
    ],
)
def test_sage_time(value, expected):
    parsed = sage_time(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


def test_a_page_is_keyed_by_sage_id_and_items_without_one_are_skipped():
    page = [{"id": "a", "n": 1}, {"id": ""}, {"id": 7}, {"name": "no id"}, {"id": "a", "n": 2}]

    assert _by_sage_id(page) == {"a": {"id": "a", "n": 2}}


@pytest.fixture
def connection(org_a, make_integration, make_credential_set, make_company, make_connection):
    credential_set = make_credential_set(make_integration(org_a))
    return make_connection(make_company(org_a), credential_set)


def item(sage_id, updated="2025-01-01T00:00:00Z", **fields):
    return {"id": sage_id, "displayed_as": f"Record {sage_id}", "updated_at": updated, **fields}


def store(connection, items, now, **kw):
    return records_store(
        connection_id=connection.pk, data_type="contacts", items=items, now=now, **kw
    )


def test_records_store_creates_updates_and_leaves_unchanged_ones_alone(connection):
    first = timezone.now() - timedelta(hours=1)
    created = store(connection, [item("a"), item("b"), item("c", displayed_as="x" * 300)], first)
    assert sorted(created.created) == ["a", "b", "c"]
    assert created.updated == created.deleted == []
    assert SyncedRecord.objects.get(sage_id="c").displayed_as == "x" * 255

    later = timezone.now()
    changes = store(
        connection,
        [
            item("a"),  # unchanged
            item("b", updated="2025-02-01T00:00:00Z"),  # Sage's updated_at moved
            item("c", displayed_as="x" * 300, email="new@example.com"),  # contents changed
            item("d"),
        ],
        later,
    )

    assert changes.created == ["d"]
    assert sorted(changes.updated) == ["b", "c"]
    stored = {r.sage_id: r for r in SyncedRecord.objects.all()}
    assert stored["a"].modified_at == first
    assert stored["b"].modified_at == later
    assert stored["b"].sage_updated_at == datetime(2025, 2, 1, tzinfo=UTC)
    assert stored["c"].data["email"] == "new@example.com"
    assert stored["d"].modified_at == later
    assert not changes.deleted
    assert bool(changes)
    assert not bool(store(connection, [item("a")], later))


def test_a_record_flagged_deleted_comes_back_when_sage_sends_it_again(connection):
    now = timezone.now()
    store(connection, [item("a"), item("b")], now)
    gone = records_flag_deleted(
        connection_id=connection.pk,
        data_type="contacts",
        items=[{"id": "a", "deleted_at": "2025-05-05T10:00:00Z"}, {"id": "zz"}],
        now=now,
    )
    assert gone.deleted == ["a"]
    assert SyncedRecord.objects.get(sage_id="a").deleted_at == datetime(2025, 5, 5, 10, tzinfo=UTC)
    # Reported again: already flagged, not counted twice. Without deleted_at: now.
    again = records_flag_deleted(
        connection_id=connection.pk,
        data_type="contacts",
        items=[{"id": "a"}, {"id": "b"}],
        now=now,
    )
    assert again.deleted == ["b"]
    assert SyncedRecord.objects.get(sage_id="b").deleted_at == now

    back = store(connection, [item("a")], now + timedelta(minutes=1))

    assert back.updated == ["a"]
    record = SyncedRecord.objects.get(sage_id="a")
    assert record.deleted_at is None
    assert record.modified_at == now + timedelta(minutes=1)


def test_records_of_another_connection_or_type_are_not_touched(
    connection, org_b, make_integration, make_credential_set, make_company, make_connection
):
    other = make_connection(make_company(org_b), make_credential_set(make_integration(org_b)))
    now = timezone.now()
    store(connection, [item("a")], now)
    store(other, [item("a")], now)
    records_store(
        connection_id=connection.pk, data_type="ledger_accounts", items=[item("a")], now=now
    )

    changes = store(connection, [item("a", email="changed")], now)
    records_flag_deleted(
        connection_id=connection.pk, data_type="contacts", items=[item("a")], now=now
    )

    assert changes.updated == ["a"]
    assert SyncedRecord.objects.get(connection=other).data == item("a")
    assert SyncedRecord.objects.get(data_type="ledger_accounts").deleted_at is None
    assert SyncedRecord.objects.filter(connection=connection, data_type="contacts").get().deleted_at


def test_an_empty_page_changes_nothing(connection):
    assert not store(connection, [], timezone.now())
    assert not SyncedRecord.objects.exists()


def test_a_run_is_claimed_once_and_an_ended_one_never(connection):
    run = sync_request(connection, SyncRun.Trigger.API)

    claimed = _claim(run.pk)

    assert claimed.status == SyncRun.Status.RUNNING
    assert claimed.attempts == 1
    assert len(claimed.claim) == 32
    assert claimed.started_at is not None
    assert claimed.lease_expires_at > timezone.now() + timedelta(seconds=100)
    assert _claim(run.pk) is None  # held, lease running
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED)
    assert _claim(run.pk) is None
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.RUNNING, lease_expires_at=None)
    again = _claim(run.pk)
    assert again.attempts == 2
    assert again.claim != claimed.claim
    assert again.started_at == claimed.started_at


def page(total, next_path="next"):
    return Page(items=[], total=total, next_path=next_path)


def test_a_read_asks_one_page_until_it_knows_how_many_then_the_rest(connection):
    cursor = SyncCursor(connection=connection, data_type="contacts", phase="updated", page=0)
    read = _Read(cursor, "contacts")
    assert read.none_stored
    assert read.can_ask()
    assert read.ask() == 1
    assert not read.can_ask()  # one in flight, count unknown
    read.in_flight -= 1
    read.answered(page(total=45), per_page=10, number=1)
    assert read.pages == 5
    assert [read.ask() for _ in range(4)] == [2, 3, 4, 5]
    assert not read.can_ask()
    assert _Read.last(5, page(45, next_path=None))
    assert not _Read.last(4, page(45))


def test_a_read_without_total_follows_next_one_page_at_a_time(connection):
    cursor = SyncCursor(connection=connection, data_type="contacts", phase="updated", page=2)
    read = _Read(cursor, "contacts")
    assert not read.none_stored  # resuming: pages were stored
    assert read.ask() == 3
    read.in_flight -= 1
    read.answered(page(total=None), per_page=10, number=3)
    assert read.pages is None
    assert read.can_ask()
    assert read.ask() == 4


def test_a_read_moves_to_its_next_phase_and_ends(connection):
    cursor = SyncCursor(connection=connection, data_type="contacts", phase="updated", page=0)
    read = _Read(cursor, "contacts")
    read.ask()
    read.in_flight -= 1
    read.answered(page(total=5, next_path=None), per_page=10, number=1)
    assert read.pages is None  # one page and no next: nothing more to ask
    cursor.phase, cursor.page = "deleted", 0
    read.next_phase()
    assert (read.generation, read.next, read.in_flight) == (1, 1, 0)
    assert read.can_ask()
    cursor.phase = ""
    assert not read.can_ask()  # done
    assert (
        _Read(
            SyncCursor(connection=connection, data_type="x", updated_since=timezone.now()), "x"
        ).none_stored
        is False
    )
