"""Background tasks (django.tasks): the token keep-alive and the housekeeping purge.

The periodic keep-alive fans out: it enqueues one `keepalive_connection` task per
due connection, so that any number of workers share a pass and one connection's
failure stays in its own task. A connection enqueued twice (two passes overlapping
while workers are behind) is refreshed once: the refresh takes the connection's
row lock and re-checks that it is still due (services.keepalive).

Each `*_periodic` task runs once and then enqueues its own next run (the keep-alive
KEEPALIVE_INTERVAL_HOURS later, the purge HOUSEKEEPING_INTERVAL_HOURS later, the webhook
sweep WEBHOOKS_SWEEP_INTERVAL_MINUTES later), when the
backend can defer tasks (the database backend and its `db_worker` can; the
ImmediateBackend of the tests cannot, so there one call is one run and nothing
recurses). See docs/worker.md.
"""

import uuid
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResult, TaskResultStatus, task
from django.utils import timezone

from integrations.connections.keepalive import (
    connection_keepalive,
    connections_keepalive,
    keepalive_due_ids,
)
from integrations.services.housekeeping import expired_purge
from integrations.sync.retention import sync_forget
from integrations.sync.services import sync_run, sync_sweep
from integrations.webhooks.delivery import deliver_webhook, webhooks_sweep

# Defined beside their services (the services enqueue them after their transaction commits).
__all__ = ["deliver_webhook", "sync_forget", "sync_run"]


@task
def keepalive_pass() -> dict:
    """Refresh the connections whose refresh token expires soon, once, in this task."""
    return asdict(connections_keepalive())


@task
def keepalive_connection(connection_id: str) -> str:
    """Refresh one connection if it is still due; return what happened (a KeepaliveOutcome)."""
    return str(connection_keepalive(connection_id=uuid.UUID(connection_id)))


def keepalive_fan_out() -> list[TaskResult]:
    """Enqueue one `keepalive_connection` task per due connection; return their results."""
    return [keepalive_connection.enqueue(str(pk)) for pk in keepalive_due_ids()]


@task
def keepalive_periodic() -> dict:
    """Enqueue a keep-alive task per due connection, then schedule the next run."""
    try:
        return {"enqueued": len(keepalive_fan_out())}
    finally:
        keepalive_schedule_next()


@task
def housekeeping_periodic() -> dict:
    """Purge expired authorization requests and sessions, then schedule the next run."""
    try:
        return asdict(expired_purge())
    finally:
        housekeeping_schedule_next()


@task
def webhooks_periodic() -> dict:
    """Enqueue the webhook deliveries that are due, then schedule the next sweep."""
    try:
        return {"enqueued": webhooks_sweep()}
    finally:
        webhooks_schedule_next()


@task
def sync_periodic() -> dict:
    """Queue the scheduled syncs that are due (a task each), then schedule the next sweep."""
    try:
        return sync_sweep()
    finally:
        sync_schedule_next()


def next_is_queued(periodic) -> bool:
    """Whether a run of the task `periodic` already waits in the queue (database or RQ)."""
    backend = periodic.get_backend()
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - not installed
        pass
    else:
        if isinstance(backend, DatabaseBackend):
            return DBTaskResult.objects.filter(
                task_path=periodic.module_path, status=TaskResultStatus.READY
            ).exists()
    try:
        from django_tasks_rq import RQBackend
    except ImportError:  # pragma: no cover - not installed
        return False
    if isinstance(backend, RQBackend):
        return _rq_has_waiting(backend, periodic)
    return False  # another backend: it cannot be asked


def _rq_has_waiting(backend, periodic) -> bool:
    """A job of `periodic` scheduled for later, or queued, in one of the backend's RQ queues."""
    import django_rq
    from django_tasks_rq import Job

    for name in backend.queues:
        queue = django_rq.get_queue(name, job_class=Job)
        waiting = queue.scheduled_job_registry.get_job_ids() + queue.get_job_ids()
        jobs = queue.job_class.fetch_many(waiting, connection=queue.connection)
        if any(job is not None and job.func_name == periodic.module_path for job in jobs):
            return True
    return False


def schedule_next(periodic, *, hours: float) -> bool:
    """Enqueue the next run of `periodic`, unless the backend cannot defer or one is queued."""
    if not periodic.get_backend().supports_defer or next_is_queued(periodic):
        return False
    periodic.using(run_after=timezone.now() + timedelta(hours=hours)).enqueue()
    return True


def keepalive_schedule_next() -> bool:
    return schedule_next(keepalive_periodic, hours=settings.KEEPALIVE_INTERVAL_HOURS)


def housekeeping_schedule_next() -> bool:
    return schedule_next(housekeeping_periodic, hours=settings.HOUSEKEEPING_INTERVAL_HOURS)


def webhooks_schedule_next() -> bool:
    return schedule_next(webhooks_periodic, hours=settings.WEBHOOKS_SWEEP_INTERVAL_MINUTES / 60)


def sync_schedule_next() -> bool:
    return schedule_next(sync_periodic, hours=settings.SYNC_SWEEP_INTERVAL_MINUTES / 60)
