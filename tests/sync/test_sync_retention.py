"""Retention: unlinking or deleting a company deletes its synced data, in batches, and
nothing else's; the schedule queues the due syncs."""

from datetime import timedelta

import pytest
from django.tasks import task_backends
from django.tasks.backends.immediate import ImmediateBackend
from django.utils import timezone

from integrations.companies.services import company_delete
from integrations.connections.lifecycle import connection_unlink
from integrations.models import Company
from integrations.sync.models import SyncCursor, SyncedRecord, SyncRun
from integrations.sync.retention import records_forget
from integrations.sync.services import sync_connection, sync_request, sync_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate_tasks():
    """Tasks run as they are enqueued (the retention task after the unlink commits)."""
    task_backends["default"] = ImmediateBackend(
        alias="default", params={"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
    )
    yield
    del task_backends["default"]


@pytest.fixture
def two_synced(sage_sandbox, org_a, org_b, link_connection):
    mine = link_connection(sage_sandbox, org_a, name="Mine")
    other = link_connection(sage_sandbox, org_b, name="Other org's")
    for connection in (mine, other):
        sync_connection(sync_request(connection, SyncRun.Trigger.MANUAL))
    assert (
        SyncedRecord.objects.filter(connection=mine).count() == 90
    )  # 25 contacts, 45 ledger accounts, 5 of each other type
    return mine, other


def test_unlinking_deletes_the_synced_records_after_commit(
    two_synced, immediate_tasks, django_capture_on_commit_callbacks
):
    mine, other = two_synced
    kept = SyncedRecord.objects.filter(connection=other).count()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        connection_unlink(connection=mine, actor=None)
        assert SyncedRecord.objects.filter(connection=mine).exists()  # not before the commit
    for callback in callbacks:
        callback()

    assert not SyncedRecord.objects.filter(connection=mine).exists()
    assert not SyncCursor.objects.filter(connection=mine).exists()
    assert SyncedRecord.objects.filter(connection=other).count() == kept


def test_deleting_a_company_deletes_its_synced_records(two_synced, org_a, immediate_tasks):
    mine, other = two_synced
    kept = SyncedRecord.objects.filter(connection=other).count()

    company_delete(company=mine.company, actor=None)

    assert not Company.objects.filter(pk=mine.company_id).exists()
    assert not SyncedRecord.objects.filter(connection_id=mine.pk).exists()
    assert SyncedRecord.objects.filter(connection=other).count() == kept


def test_records_go_in_batches(two_synced):
    mine, _ = two_synced
    count = SyncedRecord.objects.filter(connection=mine).count()

    deleted = records_forget(mine.pk, batch=7)

    assert deleted == count
    assert not SyncedRecord.objects.filter(connection=mine).exists()


def test_the_sweep_queues_the_linked_connections_whose_interval_passed(
    sage_sandbox, org_a, link_connection
):
    due = link_connection(sage_sandbox, org_a, name="Due")
    recent = link_connection(sage_sandbox, org_a, name="Recent")
    SyncRun.objects.create(
        connection=recent, trigger=SyncRun.Trigger.SCHEDULE, status=SyncRun.Status.SUCCEEDED
    )
    SyncRun.objects.create(
        connection=due,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.SUCCEEDED,
        created_at=timezone.now() - timedelta(minutes=61),
    )

    assert sync_sweep()["queued"] == 1
    assert SyncRun.objects.active().get().connection == due

    due.integration.sync_interval = 0  # off
    due.integration.save()
    SyncRun.objects.active().update(status=SyncRun.Status.SUCCEEDED)
    SyncRun.objects.update(created_at=timezone.now() - timedelta(days=1))
    assert sync_sweep()["queued"] == 0
