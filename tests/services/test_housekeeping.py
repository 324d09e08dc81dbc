from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from integrations.companies.services import company_create
from integrations.models import AuthorizationRequest
from integrations.services.housekeeping import expired_purge
from integrations.tasks import housekeeping_periodic
from integrations.webhooks.models import PlatformEvent, WebhookEvent, WorkerHeartbeat
from integrations.webhooks.services import webhook_emit

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests_by_age(org_a, setup_sage, make_company, make_connection, make_authorization_request):
    """Authorization requests that expired two days ago, an hour ago, and not yet."""
    _integration, credential_set = setup_sage(org_a)
    connection = make_connection(make_company(org_a), credential_set)
    now = timezone.now()
    return {
        age: make_authorization_request(connection, state=f"state-{age}", expires_at=expires)
        for age, expires in [
            ("old", now - timedelta(days=2)),
            ("recent", now - timedelta(hours=1)),
            ("live", now + timedelta(minutes=5)),
        ]
    }


def _session(expiry_seconds: int) -> str:
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(expiry_seconds)
    store.create()
    return store.session_key


def test_the_purge_drops_requests_expired_over_a_day_and_expired_sessions(requests_by_age):
    expired, live = _session(-60), _session(3600)

    result = expired_purge()

    assert result.authorization_requests == 1
    states = set(AuthorizationRequest.objects.values_list("state", flat=True))
    assert states == {"state-recent", "state-live"}
    assert set(Session.objects.values_list("session_key", flat=True)) == {live}
    assert expired != live


def test_the_periodic_task_and_the_command_purge(requests_by_age, capsys):
    assert housekeeping_periodic.call() == {"authorization_requests": 1, "events": 0}
    requests_by_age["recent"].expires_at = timezone.now() - timedelta(days=3)
    requests_by_age["recent"].save()

    call_command("purge_expired")

    assert "Purged 1 expired authorization requests" in capsys.readouterr().out
    assert list(AuthorizationRequest.objects.values_list("state", flat=True)) == ["state-live"]


def test_events_older_than_the_retention_and_stale_heartbeats_are_dropped(org_a, settings):
    settings.EVENTS_RETENTION_DAYS = 30
    company = company_create(organization=org_a, name="Acme", actor=None)
    webhook_emit(event=WebhookEvent.LINK_FAILED, company=company, reason="x")
    old, recent = PlatformEvent.objects.order_by("id")
    PlatformEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    WorkerHeartbeat.objects.create(worker="gone:1", seen_at=timezone.now() - timedelta(days=2))
    WorkerHeartbeat.objects.create(worker="here:2", seen_at=timezone.now())

    assert expired_purge().events == 1
    assert list(PlatformEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert list(WorkerHeartbeat.objects.values_list("worker", flat=True)) == ["here:2"]
