"""Tokens we stop holding are revoked at Sage (v3.1): none stays valid behind our back."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.companies.services import company_link_renew
from integrations.configuration.services import credentials_save
from integrations.connections.lifecycle import connection_mark_for_relink
from integrations.linking.outcomes import LinkFailure
from integrations.linking.services import link_token_hash
from integrations.models import Connection, HistoryEvent
from tests.common.factories import CLIENT_SECRET
from tests.linking.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db


def revokes(sandbox) -> list:
    return [r for r in sandbox.requests if r.route == "revoke"]


def test_marking_for_relink_revokes_the_refresh_token_then_forgets_it(
    sage_sandbox, org_a, link_connection, django_capture_on_commit_callbacks
):
    connection = link_connection(sage_sandbox, org_a)
    token = connection.refresh_token

    with django_capture_on_commit_callbacks(execute=True):
        marked = connection_mark_for_relink(
            connection=connection, actor=org_a.admin, reason=HistoryEvent.Reason.SUPPORT
        )

    assert marked
    assert token not in sage_sandbox.live_tokens()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DEAUTHORIZED
    assert connection.refresh_token == connection.access_token == ""
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.MARKED_FOR_RELINK)
    assert event.details["revoked"] is True


def test_a_client_id_change_revokes_with_the_old_apps_keys(
    sage_sandbox, org_a, link_connection, django_capture_on_commit_callbacks
):
    connection = link_connection(sage_sandbox, org_a)
    old_client_id, token = connection.credential_set.client_id, connection.refresh_token

    with django_capture_on_commit_callbacks(execute=True):
        credentials_save(
            organization=org_a,
            actor=org_a.admin,
            api_version="3.1",
            client_id="a-new-app",
            client_secret="a-new-secret-0123456789",
            confirm_relink=True,
        )

    assert token not in sage_sandbox.live_tokens()
    (revoke,) = revokes(sage_sandbox)
    assert revoke.form["client_id"] == old_client_id  # the app the token was issued to
    assert revoke.form["client_secret"] == CLIENT_SECRET


def test_a_second_trip_revokes_the_tokens_it_replaces(
    client, org_a, sage_sandbox, make_company, setup_sage, django_capture_on_commit_callbacks
):
    setup_sage(org_a)
    company = make_company(org_a)
    sage_sandbox.set_businesses(2)  # the first trip stops at the business choice
    client.get(callback_path(sage_sandbox.approve(authorize_query(client, company))))
    first = Connection.objects.get(company=company).refresh_token
    assert first in sage_sandbox.live_tokens()

    with django_capture_on_commit_callbacks(execute=True):
        client.get(callback_path(sage_sandbox.approve(authorize_query(client, company))))

    second = Connection.objects.get(company=company).refresh_token
    assert second != first
    assert first not in sage_sandbox.live_tokens()
    assert second in sage_sandbox.live_tokens()


@pytest.mark.parametrize("change", ["renewed", "expired"])
def test_a_trip_started_from_a_link_url_since_renewed_or_expired_is_refused(
    client, org_a, sage_sandbox, make_company, setup_sage, change
):
    setup_sage(org_a)
    company = make_company(org_a)
    query = authorize_query(client, company)
    if change == "renewed":
        company = company_link_renew(company=company, actor=org_a.admin)
    else:
        company.link_expires_at = timezone.now() - timedelta(minutes=1)
        company.save()

    response = client.get(callback_path(sage_sandbox.approve(query)), follow=True)

    assert not sage_sandbox.token_requests("authorization_code")  # the code is not used
    assert Connection.objects.get(company=company).status != Connection.Status.LINKED
    html = response.content.decode()
    assert "This link was replaced or has expired" in html
    assert company.link_token not in html  # no "Try again" with the new link URL
    assert reverse("integrations:link", args=[company.link_token]) not in html
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.LINK_FAILED)
    assert event.details["reason"] == LinkFailure.LINK_RENEWED


@pytest.mark.parametrize("order", ["above", "below"])
def test_a_renewed_link_url_is_refused_whichever_way_its_hash_sorts(
    client, org_a, sage_sandbox, make_company, setup_sage, order
):
    """The started-from hash is compared for equality, not order: a new link URL whose
    hash sorts above or below the old one is refused alike."""
    setup_sage(org_a)
    company = make_company(org_a)
    query = authorize_query(client, company)
    started = link_token_hash(company.link_token)
    candidates = (f"renewed-link-{n}" for n in range(1000))
    company.link_token = next(
        token for token in candidates if (link_token_hash(token) > started) == (order == "above")
    )
    company.save()

    client.get(callback_path(sage_sandbox.approve(query)), follow=True)

    assert not sage_sandbox.token_requests("authorization_code")
    assert Connection.objects.get(company=company).status != Connection.Status.LINKED
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.LINK_FAILED)
    assert event.details["reason"] == LinkFailure.LINK_RENEWED
