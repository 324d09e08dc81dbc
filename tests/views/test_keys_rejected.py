"""Sage's invalid_client during a customer's link: logged at ERROR and shown to admins."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Company
from tests.factories import CLIENT_ID, CLIENT_SECRET
from tests.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db

REJECTED = 'data-testid="keys-rejected"'


@pytest.fixture
def rejected_link(sage_sandbox, client, keys_rejected_company):
    """A customer's link that Sage's token endpoint refused with invalid_client: the company."""
    query = authorize_query(client, keys_rejected_company)
    client.get(callback_path(sage_sandbox.approve(query)))
    return Company.objects.get(pk=keys_rejected_company.pk)


def pages(client, company):
    settings_page = client.get(reverse("integrations:integration_settings")).content.decode()
    company_page = client.get(reverse("integrations:company_detail", args=[company.pk]))
    return settings_page, company_page.content.decode()


def test_invalid_client_at_the_callback_is_logged_at_error(
    sage_sandbox, client, keys_rejected_company, caplog
):
    query = authorize_query(client, keys_rejected_company)
    with caplog.at_level(logging.ERROR):
        client.get(callback_path(sage_sandbox.approve(query)))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("invalid_client" in r.getMessage() for r in errors)
    assert CLIENT_SECRET not in caplog.text


def test_admins_read_that_sage_rejected_the_keys_and_when(rejected_link, admin_client, org_a):
    company = rejected_link
    settings_page, company_page = pages(admin_client, company)
    assert REJECTED in settings_page
    assert REJECTED in company_page
    # Members do not manage the keys.
    member_client = Client()
    member_client.force_login(org_a.member)
    member_settings, member_company = pages(member_client, company)
    assert REJECTED not in member_settings
    assert REJECTED not in member_company


def test_saving_new_keys_clears_the_notice(rejected_link, admin_client, org_a):
    company = rejected_link
    admin_client.post(
        reverse("integrations:integration_settings"),
        {
            "credential_type": "3.1",
            "v31-client_id": CLIENT_ID["3.1"],
            "v31-client_secret": "the-secret-sage-now-expects",
        },
    )
    settings_page, company_page = pages(admin_client, company)
    assert REJECTED not in settings_page
    assert REJECTED not in company_page


def test_an_accepted_check_clears_the_notice(rejected_link, admin_client, sage_sandbox):
    company = rejected_link
    sage_sandbox.register_client(CLIENT_ID["3.1"], CLIENT_SECRET)  # fixed at Sage's end
    admin_client.post(reverse("integrations:credentials_check"))
    settings_page, _ = pages(admin_client, company)
    assert REJECTED not in settings_page


@pytest.mark.parametrize(
    ("kind", "options"), [("invalid_grant", {}), ("malformed_json", {}), ("status_500", {})]
)
def test_other_token_failures_do_not_say_the_keys_were_rejected(
    sage_sandbox, client, admin_client, org_a, setup_sage, make_company, kind, options, caplog
):
    setup_sage(org_a)
    company = make_company(org_a)
    sage_sandbox.fail_next("token", kind, **options)
    with caplog.at_level(logging.ERROR):
        client.get(callback_path(sage_sandbox.approve(authorize_query(client, company))))

    assert not [r for r in caplog.records if "rejected the client ID" in r.getMessage()]
    settings_page, company_page = pages(admin_client, company)

    assert REJECTED not in settings_page
    assert REJECTED not in company_page
