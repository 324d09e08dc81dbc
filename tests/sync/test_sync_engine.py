"""The sync engine against the Sage sandbox over HTTP: full, incremental, resume, 429, stop.

They run on SQLite (`make run`'s database: bulk_create's upsert, no row locks) and on
PostgreSQL (production's: one INSERT ... ON CONFLICT into JSONB a page, the claim a row
lock with SKIP LOCKED); tests/sync/test_sync_workers.py needs PostgreSQL.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from integrations.connections.refresh import connection_deauthorize
from integrations.models import Connection, HistoryEvent
from integrations.sage.versions import ApiVersion
from integrations.sync.models import SyncCursor, SyncedRecord, SyncRun
from integrations.sync.services import sync_connection, sync_request
from integrations.sync.types import SYNC_TYPES, types_for_version
from integrations.webhooks.models import PlatformEvent
from tests.linking.link_flow import expire_access_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(sage_sandbox, org_a, link_connection, settings):
    settings.SYNC_PAGE_SIZE = 10  # a few pages from the sandbox's 25 contacts
    return link_connection(sage_sandbox, org_a)


def run_sync(connection, trigger=SyncRun.Trigger.MANUAL) -> SyncRun:
    run = sync_request(connection, trigger)
    result = sync_connection(run)
    assert result is not None
    return result


def records(connection, data_type="contacts"):
    return SyncedRecord.objects.filter(connection=connection, data_type=data_type)


def list_queries(sandbox, kind="contacts"):
    return [r.query for r in sandbox.list_requests(kind)]


def contacts_created_per_event(connection) -> list[list[str]]:
    """The contacts' Sage ids each data.changed event said were created, in order."""
    events = PlatformEvent.objects.filter(
        company_id=connection.company_id, type="data.changed", payload__data__data_type="contacts"
    ).order_by("sequence")
    return [event.payload["data"]["created"] for event in events]


def every_contact_id(sandbox) -> list[str]:
    return [contact["id"] for contact in sandbox.items(sandbox.businesses[0], "contacts")]


def test_full_then_incremental_sync_with_created_updated_and_deleted_records(
    connection, sage_sandbox
):
    business = sage_sandbox.businesses[0]
    contacts = sage_sandbox.items(business, "contacts")

    first = run_sync(connection)

    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    for sync_type in SYNC_TYPES:
        expected = sage_sandbox.items(business, sync_type.key)
        stored = records(connection, sync_type.key)
        assert stored.count() == len(expected) > 0
        assert first.counts[sync_type.key] == {
            "created": len(expected),
            "updated": 0,
            "deleted": 0,
            "total": len(expected),
        }
    # Every record once, as Sage sent it; 25 contacts at 10 a page: 3 pages, all asked.
    assert sorted(records(connection).values_list("sage_id", flat=True)) == sorted(
        c["id"] for c in contacts
    )
    one = records(connection).get(sage_id=contacts[0]["id"])
    assert one.data == contacts[0]
    assert one.displayed_as == contacts[0]["displayed_as"]
    # Each page asked once; pages are fetched concurrently, so they arrive in any order.
    assert sorted(q.get("page") for q in list_queries(sage_sandbox)) == ["1", "2", "3"]
    assert all(q["items_per_page"] == "10" for q in list_queries(sage_sandbox))
    assert all(q["attributes"] == "all" for q in list_queries(sage_sandbox))
    assert all("updated_or_created_since" not in q for q in list_queries(sage_sandbox))
    cursor = SyncCursor.objects.get(connection=connection, data_type="contacts")
    assert cursor.synced_at is not None
    assert not cursor.phase
    before = dict(records(connection).values_list("sage_id", "modified_at"))

    created = sage_sandbox.create_record("contacts", name="New Customer", displayed_as="New (N1)")
    updated = sage_sandbox.update_record("contacts", contacts[1]["id"], email="new@example.com")
    deleted = sage_sandbox.delete_record("contacts", contacts[2]["id"])
    requests_before = len(sage_sandbox.list_requests("contacts"))

    second = run_sync(connection)

    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert second.counts["contacts"] == {"created": 1, "updated": 1, "deleted": 1, "total": 25}
    assert second.counts["ledger_accounts"] == {
        "created": 0,
        "updated": 0,
        "deleted": 0,
        "total": len(sage_sandbox.items(business, "ledger_accounts")),
    }
    asked = list_queries(sage_sandbox)[requests_before:]
    since = cursor.updated_since - timedelta(seconds=300)
    assert asked[0]["updated_or_created_since"] == since.isoformat()
    assert asked[-1]["deleted_since"] == since.isoformat()
    assert "updated_or_created_since" not in asked[-1]
    assert "deleted_since" not in asked[0]
    assert len(asked) == 2  # the changes fit one page; the deletions another
    assert records(connection).count() == 26
    assert records(connection).get(sage_id=created["id"]).data["name"] == "New Customer"
    assert records(connection).get(sage_id=updated["id"]).data["email"] == "new@example.com"
    gone = records(connection).get(sage_id=deleted["id"])
    assert gone.deleted_at is not None
    assert records(connection).live().count() == 25
    # Only what changed moved; the rest kept its modified_at.
    after = dict(records(connection).values_list("sage_id", "modified_at"))
    moved = {sage_id for sage_id in before if after[sage_id] != before[sage_id]}
    assert moved == {updated["id"], deleted["id"]}


def test_an_incremental_sync_with_nothing_changed_costs_two_requests_per_type(
    connection, sage_sandbox
):
    run_sync(connection)
    before = len(sage_sandbox.list_requests())
    modified = dict(records(connection).values_list("sage_id", "modified_at"))

    again = run_sync(connection)

    assert again.status == SyncRun.Status.SUCCEEDED
    assert len(sage_sandbox.list_requests()) - before == 2 * len(SYNC_TYPES)
    assert dict(records(connection).values_list("sage_id", "modified_at")) == modified
    assert all(c["created"] == c["updated"] == c["deleted"] == 0 for c in again.counts.values())


def test_a_record_changed_within_the_overlap_is_seen_again_but_stored_once(
    connection, sage_sandbox
):
    run_sync(connection)
    contact = sage_sandbox.items(sage_sandbox.businesses[0], "contacts")[4]
    sage_sandbox.update_record("contacts", contact["id"], balance="1.00")
    run_sync(connection)
    third = run_sync(connection)  # the overlap asks for it again: unchanged, not counted

    assert records(connection).filter(sage_id=contact["id"]).count() == 1
    assert third.counts["contacts"]["updated"] == 0
    assert records(connection).get(sage_id=contact["id"]).data["balance"] == "1.00"


def test_a_sync_that_fails_mid_way_resumes_from_its_last_page(connection, sage_sandbox):
    # Page 1 of contacts is stored, then Sage fails page 2.
    sage_sandbox.fail_page("contacts", 2)
    first = sync_request(connection, SyncRun.Trigger.MANUAL)

    failed = sync_connection(first)

    assert failed.status == SyncRun.Status.FAILED
    assert failed.error_code == "sage"
    assert records(connection).count() == 10
    cursor = SyncCursor.objects.get(connection=connection, data_type="contacts")
    assert (cursor.phase, cursor.page) == ("updated", 1)
    asked_before = len(sage_sandbox.list_requests("contacts"))

    resumed = run_sync(connection)

    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.error
    pages = [q["page"] for q in list_queries(sage_sandbox)[asked_before:]]
    assert pages == ["2", "3"]  # not page 1 again
    assert records(connection).count() == 25
    assert resumed.counts["contacts"]["created"] == 15


def test_a_worker_that_died_is_taken_over_after_its_lease(connection, sage_sandbox):
    run = sync_request(connection, SyncRun.Trigger.API)
    # A worker claimed it and died: running, its lease still good.
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.RUNNING,
        claim="dead-worker",
        lease_expires_at=timezone.now() + timedelta(minutes=1),
    )
    assert sync_connection(run) is None  # held: this worker leaves it
    assert sage_sandbox.list_requests() == []

    SyncRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now())
    taken = sync_connection(run)

    assert taken.status == SyncRun.Status.SUCCEEDED
    assert taken.attempts == 1  # counted from this claim (the dead worker's was faked)
    assert records(connection).count() == 25


def test_one_active_sync_per_connection(connection):
    first = sync_request(connection, SyncRun.Trigger.SCHEDULE)
    again = sync_request(connection, SyncRun.Trigger.MANUAL)

    assert again.pk == first.pk
    assert SyncRun.objects.filter(connection=connection).count() == 1


def test_a_429_waits_as_retry_after_says_then_goes_on(connection, sage_sandbox):
    sage_sandbox.fail_page("contacts", 1, "status_429", retry_after=1)

    run = run_sync(connection)

    assert run.status == SyncRun.Status.SUCCEEDED
    first_two = sage_sandbox.list_requests("contacts")[:2]
    assert [r.query.get("page") for r in first_two] == ["1", "1"]
    assert first_two[1].received_at - first_two[0].received_at >= 1


def test_a_429_that_persists_queues_the_sync_again(connection, sage_sandbox, settings):
    settings.SAGE_API_MAX_ATTEMPTS = 2
    sage_sandbox.fail_page("contacts", 1, "status_429", times=2, retry_after=0)

    run = run_sync(connection)

    assert run.status == SyncRun.Status.QUEUED
    assert run.error_code == "rate_limited"
    assert not records(connection, "contacts").exists()
    # Held back for SYNC_RATE_LIMITED_DELAY: no worker takes it again before then.
    assert run.lease_expires_at > timezone.now() + timedelta(seconds=50)
    assert sync_connection(run) is None
    SyncRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now())  # time passes
    assert sync_connection(run).status == SyncRun.Status.SUCCEEDED
    assert records(connection, "contacts").count() == 25


def test_a_connection_that_turns_deauthorized_stops_its_sync_and_says_why(connection, sage_sandbox):
    expire_access_token(connection, sage_sandbox)
    sage_sandbox.revoke_all()  # the refresh answers invalid_grant

    run = run_sync(connection)

    assert run.status == SyncRun.Status.STOPPED
    assert run.error_code == "deauthorized"
    assert "link again" in run.error
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.DEAUTHORIZED
    assert sage_sandbox.list_requests() == []


def test_a_queued_sync_of_a_connection_deauthorized_meanwhile_stops(connection, sage_sandbox):
    run = sync_request(connection, SyncRun.Trigger.SCHEDULE)
    connection_deauthorize(connection=connection, reason=HistoryEvent.Reason.SUPPORT)

    stopped = sync_connection(run)

    assert stopped.status == SyncRun.Status.STOPPED
    assert stopped.error_code == "deauthorized"
    assert not records(connection).exists()


def test_a_v30_connection_syncs_the_types_its_api_has(
    sage_sandbox, org_a, link_connection, settings
):
    connection = link_connection(sage_sandbox, org_a, api_version=ApiVersion.V30)

    run = run_sync(connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    v30 = types_for_version(ApiVersion.V30)
    assert set(run.counts) == {t.key for t in v30}
    paths = {r.path for r in sage_sandbox.list_requests()}
    assert paths == {f"/v30/accounts/v3/{t.v30_path}" for t in v30}
    assert all(r.headers.get("X-Signature") for r in sage_sandbox.list_requests())


def test_a_type_without_a_v30_endpoint_is_skipped_for_v30(monkeypatch):
    from integrations.sync import types

    missing = types.SyncType("quick_entries", "sales_quick_entries", None, "Quick entries")
    monkeypatch.setattr(types, "SYNC_TYPES", (*types.SYNC_TYPES, missing))

    assert missing not in types.types_for_version(ApiVersion.V30)
    assert missing in types.types_for_version(ApiVersion.V31)


def test_the_webhooks_sync_completed_and_data_changed_are_signed_and_hold_no_contents(
    connection,
    sage_sandbox,
    org_a,
    make_endpoint,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    endpoint, secret = make_endpoint(
        org_a, webhook_receiver.url, events=["sync.completed", "data.changed"]
    )
    run_sync(connection)
    contact = sage_sandbox.items(sage_sandbox.businesses[0], "contacts")[0]
    sage_sandbox.update_record("contacts", contact["id"], email="changed@example.com")
    webhook_receiver.requests.clear()

    with django_capture_on_commit_callbacks(execute=True):
        run_sync(connection)

    payloads = [Webhook(secret).verify(r.body, r.headers) for r in webhook_receiver.requests]
    by_type = {p["type"]: p["data"] for p in payloads}
    assert set(by_type) == {"sync.completed", "data.changed"}
    changed = by_type["data.changed"]
    assert changed["data_type"] == "contacts"
    assert changed["updated"] == [contact["id"]]
    assert changed["created"] == changed["deleted"] == []
    assert changed["company"]["id"] == connection.company_id
    # The connection's state in the word of every other webhook and of the API.
    assert changed["connection"]["state"] == by_type["sync.completed"]["connection"]["state"]
    assert changed["connection"]["state"] == "linked"
    assert "changed@example.com" not in json.dumps(payloads)
    completed = by_type["sync.completed"]["sync"]
    assert completed["status"] == "succeeded"
    assert completed["counts"]["contacts"]["updated"] == 1


def test_a_link_syncs_once_it_has_committed(
    sage_sandbox, org_a, make_company, setup_sage, link, django_capture_on_commit_callbacks
):
    setup_sage(org_a)
    company = make_company(org_a)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        connection = link(sage_sandbox, company)
    assert not SyncRun.objects.filter(connection=connection).exists()  # not before the commit
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()

    run = SyncRun.objects.get(connection=connection)  # queued, then run by the test's backend
    assert (run.trigger, run.status) == (SyncRun.Trigger.LINK, SyncRun.Status.SUCCEEDED)
    assert SyncedRecord.objects.filter(connection=connection).count() == 90


def test_an_incremental_pass_that_fails_resumes_with_the_same_question(connection, sage_sandbox):
    run_sync(connection)
    created = [sage_sandbox.create_record("contacts", name=f"New {n}") for n in range(12)]
    gone = sage_sandbox.items(sage_sandbox.businesses[0], "contacts")[0]
    sage_sandbox.delete_record("contacts", gone["id"])
    sage_sandbox.fail_page("contacts", 2)  # 12 changes at 10 a page: page 2 fails
    failed = run_sync(connection)
    assert failed.status == SyncRun.Status.FAILED
    asked_before = len(sage_sandbox.list_requests("contacts"))

    resumed = run_sync(connection)  # the cursor is read back from the database

    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.error
    asked = list_queries(sage_sandbox)[asked_before:]
    cursor = SyncCursor.objects.get(connection=connection, data_type="contacts")
    assert [q.get("page") for q in asked] == ["2", "1"]
    assert "updated_or_created_since" in asked[0]  # page 2 of the same question
    assert "deleted_since" in asked[1]  # then the deletions
    assert not cursor.phase
    assert cursor.updated_since == cursor.run_started_at
    assert records(connection).filter(sage_id__in=[c["id"] for c in created]).count() == 12
    assert records(connection).get(sage_id=gone["id"]).deleted_at is not None


def test_a_failed_deletions_read_resumes_asking_for_deletions_only(connection, sage_sandbox):
    run_sync(connection)
    gone = sage_sandbox.items(sage_sandbox.businesses[0], "contacts")[1]
    sage_sandbox.delete_record("contacts", gone["id"])

    def deletions(request):
        listed = request.path.endswith("/contacts")
        return listed and "deleted_since" in request.query

    sage_sandbox.fail_next("api", "status_500", when=deletions)
    assert run_sync(connection).status == SyncRun.Status.FAILED
    cursor = SyncCursor.objects.get(connection=connection, data_type="contacts")
    assert (cursor.phase, cursor.page) == ("deleted", 0)

    resumed = run_sync(connection)  # the phase is read back from the database

    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.error
    assert resumed.counts["contacts"]["deleted"] == 1
    assert list(
        records(connection).filter(deleted_at__isnull=False).values_list("sage_id", flat=True)
    ) == [gone["id"]]


def test_pages_already_answered_are_stored_together_in_one_transaction(
    connection, sage_sandbox, settings
):
    """A type's next pages that Sage has answered while an earlier one was awaited are
    stored with it (at most SYNC_STORE_PAGES): one transaction and one data.changed
    event for them, every record in exactly one event."""
    settings.SYNC_PAGE_SIZE = 5  # the sandbox's 25 contacts: 5 pages
    settings.SYNC_PAGE_CONCURRENCY = 4
    settings.SYNC_STORE_PAGES = 3
    sage_sandbox.fail_page("contacts", 2, "slow", seconds=0.5)  # 3, 4, 5 answer before it

    run = run_sync(connection)

    assert run.status == SyncRun.Status.SUCCEEDED
    created = contacts_created_per_event(connection)
    assert [len(ids) for ids in created] == [5, 15, 5]  # page 1; pages 2-4; page 5
    assert sorted(sum(created, [])) == sorted(every_contact_id(sage_sandbox))
    assert records(connection, "contacts").count() == 25
    assert SyncCursor.objects.get(connection=connection, data_type="contacts").phase == ""


def test_the_next_pages_asked_are_awaited_and_stored_with_the_page_before_them(
    connection, sage_sandbox, settings
):
    """The pages asked right behind a page of the same type are awaited and stored with
    it, up to SYNC_STORE_PAGES, even when Sage has not answered them yet: fewer
    transactions and data.changed events, every record in exactly one."""
    settings.SYNC_PAGE_SIZE = 5  # the sandbox's 25 contacts: 5 pages
    settings.SYNC_PAGE_CONCURRENCY = 4
    settings.SYNC_STORE_PAGES = 4
    sage_sandbox.fail_page("contacts", 3, "slow", seconds=0.3)  # page 2 is in before it

    run = run_sync(connection)

    assert run.status == SyncRun.Status.SUCCEEDED
    created = contacts_created_per_event(connection)
    assert [len(ids) for ids in created] == [5, 20]  # page 1 (it gives $total); pages 2-5
    assert sorted(sum(created, [])) == sorted(every_contact_id(sage_sandbox))
    assert records(connection, "contacts").count() == 25
