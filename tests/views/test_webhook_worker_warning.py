"""The Webhooks page warns when deliveries wait and no task worker has been seen lately.

A worker is seen when it starts a task (django.tasks' task_started: webhooks/worker.py):
the tests' immediate backend starts them in this process, a real `db_worker` in its own.
"""

from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.tasks import task_backends
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend

from integrations.webhooks.delivery import deliver_webhook
from integrations.webhooks.models import WebhookDelivery, WorkerHeartbeat
from tests.common.worker_processes import WorkerProcess, wait_until, worker_environment

pytestmark = pytest.mark.django_db
WARNING = 'data-testid="webhook-no-worker"'


def waiting_delivery(endpoint, *, due_for: timedelta) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="webhook.test",
        payload={"type": "webhook.test"},
        next_attempt_at=timezone.now() - due_for,
    )


def page(client) -> str:
    return client.get(reverse("integrations:webhook_list")).content.decode()


@pytest.fixture
def endpoint(org_a, make_endpoint):
    return make_endpoint(org_a, "https://93.184.215.14/hooks")[0]


def test_overdue_deliveries_and_no_worker_warn(admin_client, endpoint):
    waiting_delivery(endpoint, due_for=timedelta(minutes=5))
    html = page(admin_client)
    assert WARNING in html
    assert "manage.py db_worker" in html


def test_no_warning_while_nothing_waits(admin_client, endpoint):
    WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="webhook.test", payload={}, state="delivered"
    )
    waiting_delivery(endpoint, due_for=timedelta(seconds=5))  # just due: a worker has time
    assert WARNING not in page(admin_client)


def test_a_worker_seen_lately_silences_the_warning(admin_client, endpoint, settings):
    waiting_delivery(endpoint, due_for=timedelta(minutes=5))
    WorkerHeartbeat.objects.create(worker="w1", seen_at=timezone.now() - timedelta(minutes=3))
    assert WARNING not in page(admin_client)
    # Longer ago than two sweeps (and a minute): not lately.
    WorkerHeartbeat.objects.update(
        seen_at=timezone.now() - timedelta(minutes=2 * settings.WEBHOOKS_SWEEP_INTERVAL_MINUTES + 2)
    )
    assert WARNING in page(admin_client)


def test_another_organizations_waiting_deliveries_do_not_warn(
    client, org_b, endpoint, make_endpoint
):
    waiting_delivery(endpoint, due_for=timedelta(minutes=5))
    client.force_login(org_b.admin)
    assert WARNING not in page(client)


def test_a_task_started_stamps_the_heartbeat(endpoint):
    delivery = waiting_delivery(endpoint, due_for=timedelta(days=-1))  # not due: no POST
    assert not WorkerHeartbeat.objects.exists()
    deliver_webhook.enqueue(str(delivery.pk))  # the immediate backend runs it here
    (beat,) = WorkerHeartbeat.objects.all()
    assert timezone.now() - beat.seen_at < timedelta(seconds=5)
    first = beat.seen_at
    deliver_webhook.enqueue(str(delivery.pk))  # within HEARTBEAT_EVERY: not written again
    assert WorkerHeartbeat.objects.get().seen_at == first


@pytest.fixture
def database_backend():
    task_backends["default"] = DatabaseBackend(
        alias="default", params={"BACKEND": "django_tasks_db.DatabaseBackend"}
    )
    yield task_backends["default"]
    del task_backends["default"]


@pytest.mark.postgres
@pytest.mark.skipif(
    db_connection.vendor != "postgresql",
    reason="a worker process needs a database it can open too (the SQLite test database "
    "is in this process's memory)",
)
@pytest.mark.django_db(transaction=True)
def test_a_real_db_worker_clears_the_warning(admin_client, endpoint, database_backend, settings):
    delivery = waiting_delivery(endpoint, due_for=timedelta(minutes=5))
    endpoint.enabled = False  # the attempt gives up without a POST
    endpoint.save()
    assert WARNING in page(admin_client)
    deliver_webhook.enqueue(str(delivery.pk))  # queued in the database: nothing runs it yet
    assert WARNING in page(admin_client)

    env = worker_environment(settings, TASKS_BACKEND="django_tasks_db.DatabaseBackend")
    worker = WorkerProcess(
        "db_worker", "--interval", "0.05", "--no-startup-delay", "--no-reload", env=env
    )
    try:
        worker.wait_for("Starting worker")
        wait_until(
            lambda: WebhookDelivery.objects.get(pk=delivery.pk).state != "pending",
            timeout=30,
            what="the worker to take the delivery",
        )
    finally:
        worker.stop()
    assert WorkerHeartbeat.objects.exists()
    assert WARNING not in page(admin_client)
