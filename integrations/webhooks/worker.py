"""Whether a task worker runs: every task a worker starts stamps its heartbeat.

The Webhooks page warns when deliveries wait and no worker has been seen lately
(`make run` starts one; a deployment runs `manage.py db_worker` or `rqworker`). The
stamp is django.tasks' `task_started` signal, sent by whichever backend's worker runs
the task (the database's db_worker, RQ's worker), so it needs no scheduled task: a
worker with deliveries to make starts their tasks, and stamps. A worker writes its
row at most once every HEARTBEAT_EVERY.
"""

import os
import socket
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from integrations.webhooks.models import WebhookDelivery, WorkerHeartbeat
from portal.organizations.models import Organization

HEARTBEAT_EVERY = timedelta(seconds=30)
# A due delivery not attempted this long after it was due is waiting.
DELIVERY_GRACE = timedelta(minutes=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_seen(**_signal: object) -> None:
    """Stamp this process's heartbeat (a task_started receiver); never fails the task."""
    now = timezone.now()
    name = worker_name()
    try:
        stamped = WorkerHeartbeat.objects.filter(
            worker=name, seen_at__lt=now - HEARTBEAT_EVERY
        ).update(seen_at=now)
        if not stamped:
            WorkerHeartbeat.objects.get_or_create(worker=name, defaults={"seen_at": now})
    except DatabaseError:  # the task runs all the same; the next one stamps again
        pass


def worker_seen_lately() -> bool:
    """A worker started a task within the last two sweeps of webhooks (and a minute)."""
    lately = timedelta(minutes=2 * settings.WEBHOOKS_SWEEP_INTERVAL_MINUTES + 1)
    return WorkerHeartbeat.objects.filter(seen_at__gte=timezone.now() - lately).exists()


def webhooks_wait_for_a_worker(*, organization: Organization) -> bool:
    """Deliveries of the organization are overdue and no worker has been seen lately."""
    overdue = (
        WebhookDelivery.objects.for_org(organization)
        .filter(
            state=WebhookDelivery.State.PENDING,
            next_attempt_at__lte=timezone.now() - DELIVERY_GRACE,
        )
        .exists()
    )
    return overdue and not worker_seen_lately()
