"""Syncs fanned out over two real worker processes (db_worker, then rqworker): every
connection synced once, never by two workers at the same time.

PostgreSQL: worker processes open the test database too (SQLite's is in this process's
memory), and the claim is a row lock taken with SKIP LOCKED.
"""

import os
from collections import Counter
from datetime import timedelta

import pytest
import redis
from django.db import connection as db_connection
from django.tasks import task_backends
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_rq import RQBackend

from integrations.sync.models import SyncedRecord, SyncRun
from integrations.sync.services import sync_request, sync_run
from tests.common.worker_processes import WorkerProcess, wait_until, worker_environment

RQ_TEST_REDIS_URL = os.environ.get("SYNC_TEST_RQ_REDIS_URL", "redis://127.0.0.1:6379/10")
CONNECTIONS = 4

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        db_connection.vendor != "postgresql",
        reason="worker processes need a database they can open too, and row locks",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def database_backend():
    task_backends["default"] = DatabaseBackend(
        alias="default", params={"BACKEND": "django_tasks_db.DatabaseBackend"}
    )
    yield task_backends["default"]
    del task_backends["default"]


@pytest.fixture
def rq_backend(settings):
    client = redis.Redis.from_url(RQ_TEST_REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis does not answer at {RQ_TEST_REDIS_URL}; CI must provide it")
        pytest.skip(f"Redis does not answer at {RQ_TEST_REDIS_URL} ({error})")
    for key in client.scan_iter("rq:*"):
        client.delete(key)
    settings.RQ_QUEUES = {"default": {"URL": RQ_TEST_REDIS_URL}}
    task_backends["default"] = RQBackend(
        alias="default", params={"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}
    )
    yield task_backends["default"]
    del task_backends["default"]
    for key in client.scan_iter("rq:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def connections(sage_sandbox, org_a, link_connection, settings):
    settings.SYNC_PAGE_SIZE = 5
    sage_sandbox.latency = 0.02  # both workers get work while the other reads Sage
    return [link_connection(sage_sandbox, org_a, name=f"Co {n}") for n in range(CONNECTIONS)]


# Each worker holds up to 3 runs at once and keeps at most 2 Sage requests in flight for
# all of them (one pool per process): 4 in all, never the 3 × 2 per worker that a pool
# per run would give.
WORKER_SETTINGS = {"SYNC_PAGE_SIZE": "5", "SYNC_RUNS_PER_WORKER": "3", "SYNC_PAGE_CONCURRENCY": "2"}


def assert_two_workers_sync_each_connection_once(sage_sandbox, connections, start_worker, ready):
    runs = [sync_request(c, SyncRun.Trigger.SCHEDULE) for c in connections]
    for run in runs:  # each run's task twice: the second finds it held or ended
        sync_run.enqueue(str(run.pk))
    workers = [start_worker(f"sync-{n}") for n in range(2)]
    try:
        for worker in workers:
            worker.wait_for(ready)
        wait_until(
            lambda: not SyncRun.objects.filter(status__in=SyncRun.ACTIVE).exists(),
            timeout=60,
            what="every sync to end",
        )
        alive = [w.running for w in workers]
    finally:
        for worker in workers:
            worker.stop()
    logs = "\n".join(w.output for w in workers)
    assert alive == [True, True], logs
    assert set(SyncRun.objects.values_list("status", flat=True)) == {"succeeded"}, logs
    # Each page of each connection's contacts was asked for once (each has its own token).
    asked = Counter(
        (r.headers.get("Authorization"), r.query.get("page"))
        for r in sage_sandbox.list_requests("contacts")
    )
    assert len(asked) == CONNECTIONS * 5  # 25 contacts, 5 a page
    assert set(asked.values()) == {1}, asked
    for connection in connections:
        stored = SyncedRecord.objects.filter(connection=connection, data_type="contacts")
        assert stored.count() == 25
    assert "failed on our side" not in logs, logs
    assert 2 <= sage_sandbox.stats()["max_api_in_flight"] <= 2 * 2


def test_two_db_workers_sync_each_connection_once(
    sage_sandbox, connections, database_backend, settings
):
    env = worker_environment(
        settings, TASKS_BACKEND="django_tasks_db.DatabaseBackend", **WORKER_SETTINGS
    )

    def start_worker(name):
        args = ("db_worker", "--worker-id", name, "--interval", "0.05", "--no-startup-delay")
        return WorkerProcess(*args, "--no-reload", env=env)

    assert_two_workers_sync_each_connection_once(
        sage_sandbox, connections, start_worker, ready="Starting worker"
    )


def test_two_rq_workers_sync_each_connection_once(sage_sandbox, connections, rq_backend, settings):
    env = worker_environment(
        settings,
        TASKS_BACKEND="django_tasks_rq.RQBackend",
        RQ_REDIS_URL=RQ_TEST_REDIS_URL,
        **WORKER_SETTINGS,
    )

    def start_worker(name):
        return WorkerProcess("rqworker", "default", "--name", name, env=env)

    assert_two_workers_sync_each_connection_once(
        sage_sandbox, connections, start_worker, ready="Listening on"
    )


def test_one_task_runs_the_queued_syncs_its_worker_has_room_for(
    sage_sandbox, connections, settings
):
    """The task of the first run also takes the other queued ones (oldest first), at most
    SYNC_RUNS_PER_WORKER at a time and SYNC_PAGE_CONCURRENCY requests in flight; a run
    held back after Sage's 429 is left for later, and their own tasks find them ended."""
    settings.SYNC_RUNS_PER_WORKER = 2
    settings.SYNC_PAGE_CONCURRENCY = 2
    # Queued as sync_request queues them, less the immediate backend's task at commit.
    *runs, later = [
        SyncRun.objects.create(connection=c, trigger=SyncRun.Trigger.SCHEDULE) for c in connections
    ]
    SyncRun.objects.filter(pk=later.pk).update(
        lease_expires_at=timezone.now() + timedelta(minutes=1)  # as _later leaves it
    )

    assert sync_run.call(str(runs[0].pk)) == "succeeded"

    statuses = dict(SyncRun.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in runs] == ["succeeded"] * len(runs)
    assert statuses[later.pk] == "queued"
    assert sync_run.call(str(runs[1].pk)) == "busy"  # its own task: already done
    for run in runs:
        stored = SyncedRecord.objects.filter(connection_id=run.connection_id)
        assert stored.filter(data_type="contacts").count() == 25
    assert not SyncedRecord.objects.filter(connection_id=later.connection_id).exists()
    asked = Counter(
        (r.headers.get("Authorization"), r.query.get("page"))
        for r in sage_sandbox.list_requests("contacts")
    )
    assert len(asked) == len(runs) * 5
    assert set(asked.values()) == {1}
    assert sage_sandbox.stats()["max_api_in_flight"] == 2  # the worker's pool, shared
