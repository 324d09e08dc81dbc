"""The periodic keep-alive fans out: one task per due connection, shared by the workers.

Every refresh token is spent at most once: the sandbox rotates refresh tokens (one
spent twice is answered `invalid_grant`), and the tests count, per refresh token,
the requests that reached its token endpoint.

The worker tests run real workers in processes of their own (`manage.py db_worker`,
`manage.py rqworker`), two at a time, against the test database: PostgreSQL only
(SQLite's test database lives in this process's memory, and has no row locks).
"""

import os
from collections import Counter
from datetime import timedelta

import django_rq
import pytest
import redis
from django.db import connection as db_connection
from django.tasks import TaskResultStatus, task_backends
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult
from django_tasks_rq import Job, RQBackend

from integrations.connections.keepalive import (
    KeepaliveOutcome,
    connection_keepalive,
    keepalive_due_ids,
)
from integrations.models import Connection
from integrations.tasks import keepalive_connection, keepalive_periodic, keepalive_schedule_next
from tests.common.worker_processes import WorkerProcess, wait_until, worker_environment
from tests.connections.keepalive_helpers import due_and_not_due, expiring_in

# The RQ tests' own Redis database: emptied of RQ's keys before and after each test.
RQ_TEST_REDIS_URL = os.environ.get("TEST_RQ_REDIS_URL", "redis://127.0.0.1:6379/15")
DUE = 6  # connections due for keep-alive in the worker tests
SLOW_REFRESH = 0.3  # seconds the sandbox stalls each refresh, so that both workers get work

skip_unless_postgres = pytest.mark.skipif(
    db_connection.vendor != "postgresql",
    reason="worker processes need a database they can open too (the SQLite test database "
    "is in this process's memory) and row locks (SQLite has none)",
)


def spent_refresh_tokens(sandbox) -> Counter:
    """How many times each refresh token reached the sandbox's token endpoint."""
    return Counter(
        r.form["refresh_token"] for r in sandbox.token_requests(grant_type="refresh_token")
    )


@pytest.fixture
def database_backend():
    task_backends["default"] = DatabaseBackend(
        alias="default", params={"BACKEND": "django_tasks_db.DatabaseBackend"}
    )
    yield task_backends["default"]
    del task_backends["default"]  # built again from settings on next use


def _delete_rq_keys(client) -> None:
    keys = list(client.scan_iter("rq:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def rq_backend(settings):
    """The django-tasks-rq backend on the tests' own Redis database, emptied before and after.

    Redis is required in CI (CI=true); elsewhere the test skips, saying why, when
    nothing answers at TEST_RQ_REDIS_URL.
    """
    client = redis.Redis.from_url(RQ_TEST_REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        message = f"Redis does not answer at {RQ_TEST_REDIS_URL} ({error})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must provide it")
        pytest.skip(f"{message}: start Redis on 127.0.0.1:6379 to run the RQ test")
    _delete_rq_keys(client)
    settings.RQ_QUEUES = {"default": {"URL": RQ_TEST_REDIS_URL}}
    task_backends["default"] = RQBackend(
        alias="default", params={"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}
    )
    yield task_backends["default"]
    del task_backends["default"]
    _delete_rq_keys(client)
    client.close()


@pytest.fixture
def two_due(sage_sandbox, org_a, org_b, link_connection):
    """Two due connections, one not due, one Deauthorized (due by date)."""
    return due_and_not_due(sage_sandbox, org_a, org_b, link_connection, due_b_days=5)


# --- one connection's task (any database, the ImmediateBackend of the tests) ---


@pytest.mark.django_db
def test_a_connection_enqueued_twice_spends_its_refresh_token_once(sage_sandbox, two_due):
    due = two_due["due"]

    first = keepalive_connection.enqueue(str(due.pk))
    second = keepalive_connection.enqueue(str(due.pk))

    assert (first.return_value, second.return_value) == ("refreshed", "skipped")
    assert spent_refresh_tokens(sage_sandbox) == Counter({due.refresh_token: 1})
    assert Connection.objects.get(pk=due.pk).refresh_expires_soon is False


@pytest.mark.django_db
def test_connections_that_are_not_due_are_skipped_without_calling_sage(sage_sandbox, two_due):
    for name in ("later", "gone"):
        assert connection_keepalive(connection_id=two_due[name].pk) == KeepaliveOutcome.SKIPPED
    Connection.objects.filter(pk=two_due["due"].pk).delete()  # deleted after it was enqueued
    assert connection_keepalive(connection_id=two_due["due"].pk) == KeepaliveOutcome.SKIPPED

    assert sage_sandbox.token_requests(grant_type="refresh_token") == []


@pytest.mark.django_db
def test_a_revoked_connection_is_deauthorized_and_an_unreachable_sage_keeps_the_tokens(
    sage_sandbox, two_due
):
    sage_sandbox.fail_next("token", "invalid_grant")
    sage_sandbox.fail_next("token", "status_500")

    outcomes = [connection_keepalive(connection_id=two_due[name].pk) for name in ("due", "due_b")]

    assert outcomes == [KeepaliveOutcome.DEAUTHORIZED, KeepaliveOutcome.FAILED]
    revoked = Connection.objects.get(pk=two_due["due"].pk)
    assert revoked.status == Connection.Status.DEAUTHORIZED  # kept: not rolled back
    assert revoked.refresh_token == ""
    unreachable = Connection.objects.get(pk=two_due["due_b"].pk)
    assert unreachable.status == Connection.Status.LINKED
    assert unreachable.refresh_token == two_due["due_b"].refresh_token
    assert unreachable.last_error  # recorded on the connection, for the next pass to clear


@pytest.mark.django_db
def test_periodic_task_enqueues_one_task_per_due_connection_and_its_next_run(
    sage_sandbox, two_due, database_backend
):
    assert keepalive_periodic.call() == {"enqueued": 2}

    queued = DBTaskResult.objects.filter(task_path=keepalive_connection.module_path)
    assert sorted(r.args_kwargs["args"][0] for r in queued) == sorted(
        str(two_due[name].pk) for name in ("due", "due_b")
    )
    assert {r.status for r in queued} == {TaskResultStatus.READY}
    later = DBTaskResult.objects.get(task_path=keepalive_periodic.module_path)
    assert later.run_after > timezone.now() + timedelta(hours=5)
    assert sage_sandbox.token_requests(grant_type="refresh_token") == []  # the workers do it


@pytest.mark.django_db
def test_periodic_task_enqueues_one_task_per_due_connection_on_rq(
    sage_sandbox, two_due, rq_backend
):
    assert keepalive_periodic.call() == {"enqueued": 2}

    queue = django_rq.get_queue("default", job_class=Job)
    queued = Job.fetch_many(queue.get_job_ids(), connection=queue.connection)
    assert {job.func_name for job in queued} == {keepalive_connection.module_path}
    assert sorted(job.args[0] for job in queued) == sorted(
        str(two_due[name].pk) for name in ("due", "due_b")
    )
    assert sage_sandbox.token_requests(grant_type="refresh_token") == []


@pytest.mark.django_db
def test_periodic_task_schedules_its_next_run_once_on_rq(rq_backend, settings):
    settings.KEEPALIVE_INTERVAL_HOURS = 6

    assert keepalive_schedule_next() is True
    assert keepalive_schedule_next() is False  # one chain, not two, however many deploys

    registry = django_rq.get_queue("default", job_class=Job).scheduled_job_registry
    [job_id] = registry.get_job_ids()
    job = Job.fetch(job_id, connection=registry.connection)
    assert job.func_name == keepalive_periodic.module_path
    wait = registry.get_scheduled_time(job) - timezone.now()
    assert timedelta(hours=5, minutes=59) < wait <= timedelta(hours=6)


# --- a pass shared by two worker processes ---


@pytest.fixture
def due_connections(sage_sandbox, org_a, org_b, link_connection):
    """DUE connections due for keep-alive (two organizations), and one that is not."""
    due = [
        expiring_in(
            link_connection(sage_sandbox, (org_a, org_b)[i % 2], name=f"Due {i}"), 1 + i * 0.9
        )
        for i in range(DUE)
    ]
    later = expiring_in(link_connection(sage_sandbox, org_a, name="Later"), 20)
    return due, later


def enqueue_every_connection_twice(due) -> list:
    """Each due connection's task, twice in a row: two workers take the pair at once."""
    ids = keepalive_due_ids()
    assert sorted(ids) == sorted(connection.pk for connection in due)
    return [keepalive_connection.enqueue(str(pk)) for pk in ids for _ in range(2)]


def finished_results(backend, results, *, timeout: float = 60) -> list:
    def results_now():
        return [backend.get_result(result.id) for result in results]

    done = (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
    wait_until(
        lambda: all(r.status in done for r in results_now()),
        timeout=timeout,
        what="the workers to run every queued task",
    )
    return results_now()


def worker_logs(workers) -> str:
    return "\n".join(f"--- {' '.join(w.args)}\n{w.output}" for w in workers)


def assert_each_connection_refreshed_exactly_once(sandbox, due, later, results, workers):
    output = worker_logs(workers)
    failed = [r.errors for r in results if r.status != TaskResultStatus.SUCCESSFUL]
    assert failed == [], output
    # Each connection ran twice, mostly on both workers at once: one task refreshed, the
    # other found the row locked (busy: a refresh under way) or the connection no longer due.
    outcomes = Counter(r.return_value for r in results)
    assert outcomes["refreshed"] == DUE, output
    assert outcomes["busy"] + outcomes["skipped"] == DUE, output
    # Sage saw each due refresh token exactly once, and no other.
    assert spent_refresh_tokens(sandbox) == Counter({c.refresh_token: 1 for c in due})
    for connection in due:
        stored = Connection.objects.get(pk=connection.pk)
        assert stored.status == Connection.Status.LINKED
        assert stored.last_error == ""
        assert stored.refresh_token != connection.refresh_token
        assert stored.refresh_token_expires_at > timezone.now() + timedelta(days=30)
    assert Connection.objects.get(pk=later.pk).refresh_token == later.refresh_token
    # Both workers took part; neither wrote a token to its log.
    ran = {worker for r in results for worker in r.worker_ids}
    assert ran == {"worker-1", "worker-2"}, output
    for connection in due:
        stored = Connection.objects.get(pk=connection.pk)
        for secret in (connection.refresh_token, stored.refresh_token, stored.access_token):
            assert secret not in output


def assert_two_workers_share_a_pass(sandbox, due_connections, backend, start_worker, ready):
    """Start two workers (`start_worker(name)`, up once they log `ready`), enqueue every due
    connection twice; each connection is refreshed exactly once and neither worker died."""
    due, later = due_connections
    sandbox.fail_next("token", "slow", times=DUE, seconds=SLOW_REFRESH)
    workers = [start_worker(name) for name in ("worker-1", "worker-2")]
    try:
        for worker in workers:
            worker.wait_for(ready)
        results = finished_results(backend, enqueue_every_connection_twice(due))
        alive = [worker.running for worker in workers]  # none died on the way
    finally:
        for worker in workers:
            worker.stop()

    assert_each_connection_refreshed_exactly_once(sandbox, due, later, results, workers)
    assert alive == [True, True], worker_logs(workers)


@pytest.mark.postgres
@skip_unless_postgres
@pytest.mark.django_db(transaction=True)
def test_two_db_workers_share_a_pass_and_refresh_each_connection_once(
    sage_sandbox, due_connections, database_backend, settings
):
    env = worker_environment(settings, TASKS_BACKEND="django_tasks_db.DatabaseBackend")

    def start_worker(name):
        return WorkerProcess(
            "db_worker",
            "--worker-id",
            name,
            "--interval",
            "0.05",
            "--no-startup-delay",
            "--no-reload",
            env=env,
        )

    assert_two_workers_share_a_pass(
        sage_sandbox, due_connections, database_backend, start_worker, ready="Starting worker"
    )


@pytest.mark.postgres
@skip_unless_postgres
@pytest.mark.django_db(transaction=True)
def test_two_rq_workers_share_a_pass_and_refresh_each_connection_once(
    sage_sandbox, due_connections, rq_backend, settings
):
    env = worker_environment(
        settings, TASKS_BACKEND="django_tasks_rq.RQBackend", RQ_REDIS_URL=RQ_TEST_REDIS_URL
    )

    def start_worker(name):
        return WorkerProcess("rqworker", "default", "--name", name, env=env)

    assert_two_workers_share_a_pass(
        sage_sandbox, due_connections, rq_backend, start_worker, ready="Listening on"
    )
