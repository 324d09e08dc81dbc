"""Which webhook events the services emit, where the change happens (link flow, refresh, unlink)."""

import pytest

from integrations.connections.errors import RefreshFailed, RelinkRequired
from integrations.connections.refresh import connection_refresh
from integrations.models import Connection
from integrations.webhooks.models import WebhookDelivery, WebhookEvent
from tests.linking.link_flow import authorize_query, callback_path, expire_access_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(org_a, sage_sandbox, make_company, setup_sage):
    setup_sage(org_a)
    return make_company(org_a)


@pytest.fixture
def run_link(client, company, sage_sandbox, django_capture_on_commit_callbacks):
    """Take the company through the link flow, the customer's `answer` at Sage
    ("approve" or "deny"), and send the webhooks it emits."""

    def run(answer: str = "approve") -> None:
        with django_capture_on_commit_callbacks(execute=True):
            query = authorize_query(client, company)
            client.get(callback_path(getattr(sage_sandbox, answer)(query)))

    return run


# The connection's own events: a link also starts a sync, whose events
# (sync.completed, data.changed) tests/sync/test_sync_engine.py checks.
CONNECTION_EVENTS = [e for e in WebhookEvent.values if not e.startswith(("sync.", "data."))]


def sent(receiver) -> list[tuple[str, dict]]:
    import json

    return [(json.loads(r.body)["type"], json.loads(r.body)["data"]) for r in receiver.requests]


def test_linked_deauthorized_then_relinked(
    org_a,
    company,
    sage_sandbox,
    make_endpoint,
    webhook_receiver,
    run_link,
    django_capture_on_commit_callbacks,
):
    make_endpoint(org_a, webhook_receiver.url, events=CONNECTION_EVENTS)
    run_link()
    connection = Connection.objects.get(company=company)
    expire_access_token(connection, sage_sandbox)
    sage_sandbox.revoke_all()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RelinkRequired):
        connection_refresh(connection=connection)
    run_link()

    events = sent(webhook_receiver)
    assert [e for e, _ in events] == [
        "connection.linked",
        "connection.deauthorized",
        "connection.relinked",
    ]
    linked = events[0][1]
    assert linked["company"]["id"] == company.pk
    assert linked["connection"]["status"] == "Linked"
    assert linked["connection"]["business_name"] == sage_sandbox.businesses[0]["name"]
    assert events[1][1]["reason"] == "invalid_grant"
    # The code a program can act on, as the API's connection gives it.
    assert linked["connection"]["last_error_code"] == ""
    assert events[1][1]["connection"]["last_error_code"] == "must_relink"
    assert events[2][1]["connection"]["last_error_code"] == ""


def test_a_cancelled_link_is_link_failed(org_a, company, make_endpoint, webhook_receiver, run_link):
    make_endpoint(org_a, webhook_receiver.url, events=["link.failed"])
    run_link("deny")
    ((event, data),) = sent(webhook_receiver)
    assert event == "link.failed"
    assert data["reason"] == "access_denied"
    assert data["company"]["name"] == company.name


def test_a_failed_exchange_is_link_failed(
    org_a, sage_sandbox, make_endpoint, webhook_receiver, run_link
):
    make_endpoint(org_a, webhook_receiver.url, events=["link.failed"])
    sage_sandbox.fail_next("token", "status_500")
    run_link()
    ((event, data),) = sent(webhook_receiver)
    assert event == "link.failed"
    assert data["reason"] == "unavailable"


def test_a_refresh_failure_is_sent_once_per_failing_streak(
    org_a,
    sage_sandbox,
    link_connection,
    make_endpoint,
    webhook_receiver,
    settings,
    django_capture_on_commit_callbacks,
):
    make_endpoint(org_a, webhook_receiver.url, events=CONNECTION_EVENTS)
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    sage_sandbox.fail_next("token", "status_500", times=2)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RefreshFailed):
            connection_refresh(connection=Connection.objects.get(pk=connection.pk))
    ((event, data),) = sent(webhook_receiver)
    assert event == "connection.refresh_failed"
    assert data["error"] == "unavailable"
    assert WebhookDelivery.objects.count() == 1
