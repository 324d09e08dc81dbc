"""The keep-alive pass refreshes only the connections whose refresh token expires soon."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus, task_backends
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from integrations.models import Connection
from integrations.tasks import keepalive_pass, keepalive_periodic, keepalive_schedule_next
from tests.connections.keepalive_helpers import counts, due_and_not_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def connections(sage_sandbox, org_a, org_b, link_connection):
    """Four connections: two due (2 and 6.9 days left), one not due (20 days), one Deauthorized."""
    return due_and_not_due(sage_sandbox, org_a, org_b, link_connection, due_b_days=6.9)


def refreshed_tokens(sandbox) -> set[str]:
    return {r.form["refresh_token"] for r in sandbox.token_requests(grant_type="refresh_token")}


def test_command_refreshes_only_connections_that_need_it(sage_sandbox, connections, capsys):
    call_command("keepalive")

    out = capsys.readouterr().out
    assert "2 refreshed, 0 deauthorized, 0 failed, 0 busy" in out
    assert "0 could not be processed" in out
    assert refreshed_tokens(sage_sandbox) == {
        connections["due"].refresh_token,
        connections["due_b"].refresh_token,
    }
    for name in ("due", "due_b"):
        stored = Connection.objects.get(pk=connections[name].pk)
        assert stored.refresh_token != connections[name].refresh_token
        assert stored.refresh_token_expires_at > timezone.now() + timedelta(days=30)
    for name in ("later", "gone"):
        stored = Connection.objects.get(pk=connections[name].pk)
        assert stored.refresh_token == connections[name].refresh_token
        assert stored.last_refreshed_at == connections[name].last_refreshed_at


def test_window_is_a_setting(sage_sandbox, connections, settings):
    settings.KEEPALIVE_REFRESH_WITHIN_DAYS = 30

    assert keepalive_pass.call() == counts(refreshed=3)


def test_second_pass_has_nothing_left_to_do(sage_sandbox, connections):
    keepalive_pass.call()
    seen = len(sage_sandbox.token_requests())

    assert keepalive_pass.call() == counts()
    assert len(sage_sandbox.token_requests()) == seen


def test_revoked_and_unreachable_connections_are_counted(sage_sandbox, connections):
    sage_sandbox.fail_next("token", "invalid_grant")
    sage_sandbox.fail_next("token", "status_500")

    assert keepalive_pass.call() == counts(deauthorized=1, failed=1)
    statuses = set(
        Connection.objects.filter(
            pk__in=[connections["due"].pk, connections["due_b"].pk]
        ).values_list("status", flat=True)
    )
    assert statuses == {Connection.Status.DEAUTHORIZED, Connection.Status.LINKED}


def test_periodic_task_runs_one_pass_without_recursing_on_the_immediate_backend(
    sage_sandbox, connections
):
    result = keepalive_periodic.enqueue()

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"enqueued": 2}  # one task per due connection, run at once
    assert refreshed_tokens(sage_sandbox) == {
        connections["due"].refresh_token,
        connections["due_b"].refresh_token,
    }
    assert keepalive_schedule_next() is False
    assert not DBTaskResult.objects.exists()


@pytest.fixture
def database_backend():
    task_backends["default"] = DatabaseBackend(
        alias="default", params={"BACKEND": "django_tasks_db.DatabaseBackend"}
    )
    yield
    del task_backends["default"]  # built again from settings on next use


def test_periodic_task_schedules_its_next_run_once_on_the_database_backend(
    database_backend, settings
):
    settings.KEEPALIVE_INTERVAL_HOURS = 6

    assert keepalive_schedule_next() is True
    assert keepalive_schedule_next() is False  # one chain, not two

    queued = DBTaskResult.objects.get()
    assert queued.task_path == "integrations.tasks.keepalive_periodic"
    assert queued.status == TaskResultStatus.READY
    wait = queued.run_after - timezone.now()
    assert timedelta(hours=5, minutes=59) < wait <= timedelta(hours=6)


def test_command_schedule_option_queues_the_periodic_task(database_backend, capsys):
    call_command("keepalive", "--schedule")

    assert "Periodic keep-alive scheduled" in capsys.readouterr().out
    assert DBTaskResult.objects.filter(task_path=keepalive_periodic.module_path).count() == 1
