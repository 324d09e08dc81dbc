"""Background tasks (django.tasks): the token keep-alive.

`keepalive_periodic` runs one pass and then enqueues its own next run
KEEPALIVE_INTERVAL_HOURS later, when the backend can defer tasks (the database
backend and its `db_worker` can; the ImmediateBackend of the tests cannot, so
there one call is one pass and nothing recurses). See docs/worker.md.
"""

from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

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


def keepalive_next_is_queued() -> bool:
    """Whether a future run of `keepalive_periodic` already waits in the database queue."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - another backend: it cannot be asked
        return False
    if not isinstance(keepalive_periodic.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=keepalive_periodic.module_path, status=TaskResultStatus.READY
    ).exists()


def keepalive_schedule_next() -> bool:
    """Enqueue the next periodic run, unless the backend cannot defer or one is queued."""
    if not keepalive_periodic.get_backend().supports_defer or keepalive_next_is_queued():
        return False
    run_after = timezone.now() + timedelta(hours=settings.KEEPALIVE_INTERVAL_HOURS)
    keepalive_periodic.using(run_after=run_after).enqueue()
    return True
