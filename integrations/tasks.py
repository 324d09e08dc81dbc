"""Background tasks (django.tasks): the token keep-alive and the housekeeping purge.

Each `*_periodic` task runs once and then enqueues its own next run (the keep-alive
KEEPALIVE_INTERVAL_HOURS later, the purge HOUSEKEEPING_INTERVAL_HOURS later), when the
backend can defer tasks (the database backend and its `db_worker` can; the
ImmediateBackend of the tests cannot, so there one call is one run and nothing
recurses). See docs/worker.md.
"""

from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from .services.housekeeping import expired_purge
from .services.keepalive import connections_keepalive


@task
def keepalive_pass() -> dict:
    """Refresh the connections whose refresh token expires soon, once."""
    return asdict(connections_keepalive())


@task
def keepalive_periodic() -> dict:
    """Run one keep-alive pass, then schedule the next one."""
    try:
        return asdict(connections_keepalive())
    finally:
        keepalive_schedule_next()


@task
def housekeeping_periodic() -> dict:
    """Purge expired authorization requests and sessions, then schedule the next run."""
    try:
        return asdict(expired_purge())
    finally:
        housekeeping_schedule_next()


def next_is_queued(periodic) -> bool:
    """Whether a future run of the task `periodic` already waits in the database queue."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - another backend: it cannot be asked
        return False
    if not isinstance(periodic.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=periodic.module_path, status=TaskResultStatus.READY
    ).exists()


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
