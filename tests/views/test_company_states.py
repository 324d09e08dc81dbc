"""The company pages tell the truth about each connection, and offer only what fits it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.connections.lifecycle import connection_mark_for_relink
from integrations.models import Company, HistoryEvent
from tests.linking.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db
LIST = reverse("integrations:company_list")


def detail(company):
    return reverse("integrations:company_detail", args=[company.pk])


def test_a_cancel_is_not_a_failed_refresh(
    admin_client, org_a, sage_sandbox, setup_sage, make_company
):
    setup_sage(org_a)
    company = make_company(org_a, "Shy Ltd")
    admin_client.get(callback_path(sage_sandbox.deny(authorize_query(admin_client, company))))

    html = admin_client.get(LIST).content.decode()

    assert "Customer cancelled on" in html
    assert "Last refresh failed" not in html


def test_a_company_waiting_for_the_customer_may_be_unlinked_as_the_table_allows(
    admin_client, client, org_a, sage_sandbox, setup_sage, make_company
):
    """PendingAuth → Unlinked is in Connection.TRANSITIONS: the page offers what the API does
    (it used to hide it while the API allowed it)."""
    setup_sage(org_a)
    never = make_company(org_a, "Never Ltd")
    company = make_company(org_a, "New Ltd")
    authorize_query(client, company)  # the customer went to Sage and has not come back

    html = admin_client.get(detail(company)).content.decode()
    untouched = admin_client.get(detail(never)).content.decode()

    assert "Waiting for the customer" in html
    assert reverse("integrations:connection_unlink", args=[company.pk]) in html
    assert reverse("integrations:connection_unlink", args=[never.pk]) not in untouched


def test_a_linked_company_with_an_expired_link_url_is_not_asked_to_renew_it(
    admin_client, org_a, sage_sandbox, link, setup_sage, make_company
):
    setup_sage(org_a)
    company = make_company(org_a)
    link(sage_sandbox, company)
    Company.objects.filter(pk=company.pk).update(link_expires_at=timezone.now() - timedelta(days=1))

    html = admin_client.get(detail(company)).content.decode()

    assert 'data-testid="link-expired"' not in html
    assert "the company is linked, so it needs none now" in html


def test_a_relink_asked_by_support_says_so(
    admin_client, org_a, sage_sandbox, link, setup_sage, make_company
):
    setup_sage(org_a)
    company = make_company(org_a)
    link(sage_sandbox, company)
    connection_mark_for_relink(
        connection=company.connection, actor=None, reason=HistoryEvent.Reason.SUPPORT
    )

    html = admin_client.get(detail(company)).content.decode()

    assert "Relink requested: by support" in html
    assert 'data-testid="relink-prompt"' in html
    french = admin_client.get(detail(company), headers={"accept-language": "fr"})
    assert "Nouvelle liaison demandée : par le support" in french.content.decode()


def test_a_failed_first_link_is_not_called_a_relink(
    admin_client, client, org_a, sage_sandbox, setup_sage, make_company
):
    setup_sage(org_a)
    company = make_company(org_a, "Unlucky Ltd")
    sage_sandbox.fail_next("token", "status_500")
    client.get(callback_path(sage_sandbox.approve(authorize_query(client, company))))

    html = admin_client.get(detail(company)).content.decode()

    assert "Link failed on" in html
    assert 'data-testid="relink-prompt"' not in html  # it never was linked
