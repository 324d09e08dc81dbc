"""Sage's invalid_client during a customer's link: logged at ERROR and shown to admins."""

import logging
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Company, Connection, CredentialSet
from tests.common.factories import CLIENT_ID, CLIENT_SECRET
from tests.linking.link_flow import authorize_query, callback_path

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


# A typo never breaks working keys (issue 21, item 1).

SETTINGS = reverse("integrations:integration_settings")
KEPT = "your previous keys are still in use"


@pytest.fixture
def working_keys(sage_sandbox, org_a, setup_sage):
    """Org A's enabled integration, whose keys Sage accepts (and no others for that app)."""
    integration, credential_set = setup_sage(org_a)
    sage_sandbox.register_client(credential_set.client_id, CLIENT_SECRET)
    return integration


def post_secret(client, secret: str, headers=None, **extra):
    data = {"credential_type": "3.1", "v31-client_id": CLIENT_ID["3.1"]}
    data["v31-client_secret"] = secret
    return client.post(SETTINGS, {**data, **extra}, follow=True, headers=headers)


def flash(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_typo_in_the_secret_keeps_the_keys_in_use(
    working_keys, admin_client, sage_sandbox, make_company, link, org_a
):
    response = post_secret(admin_client, "s3cret-client-secret-value-12345")  # one key too many

    page = response.content.decode()
    # The page again, through a GET (a reload asks nothing), nothing saved.
    assert response.redirect_chain == [(SETTINGS, HTTPStatus.SEE_OTHER)]
    assert KEPT in page
    assert page.count(KEPT) <= 2  # the error summary and beside the keys: one message
    assert 'data-testid="rejected-box"' in page
    assert flash(response) == []  # no green "Settings saved." beside it
    assert 'data-testid="reenter-v31-client_secret"' in page  # retype it to save anyway
    assert "s3cret-client-secret-value-12345" not in str(dict(admin_client.session))
    # Shown once: a reload is a plain GET of the settings, without the refusal.
    again = admin_client.get(SETTINGS).content.decode()
    assert KEPT not in again
    assert 'data-testid="rejected-box"' not in again
    credential_set = CredentialSet.objects.get(integration=working_keys)
    assert credential_set.client_secret == CLIENT_SECRET
    assert not credential_set.keys_rejected
    # A customer who links now still succeeds.
    connection = link(sage_sandbox, make_company(org_a))
    assert connection.status == Connection.Status.LINKED


def test_saving_anyway_replaces_the_keys_and_says_so_once(working_keys, admin_client):
    response = post_secret(admin_client, "a-typo-in-the-secret", **{"confirm_rejected": "on"})

    assert [m for m in flash(response)] == [
        "Settings saved, but Sage rejected this client ID or secret: new links will fail "
        "until the keys are fixed."
    ]
    credential_set = CredentialSet.objects.get(integration=working_keys)
    assert credential_set.client_secret == "a-typo-in-the-secret"
    assert credential_set.keys_rejected
    # The badge turns amber, on the list and on the settings page.
    for url in (reverse("integrations:accounting_list"), SETTINGS):
        page = admin_client.get(url).content.decode()
        assert "badge--enabledkeysrejected" in page
        assert "Enabled · keys rejected" in page


def test_new_keys_sage_accepts_are_saved_with_one_message(working_keys, admin_client, sage_sandbox):
    sage_sandbox.register_client(CLIENT_ID["3.1"], "the-rotated-secret")  # rotated at Sage
    response = post_secret(admin_client, "the-rotated-secret")

    assert flash(response) == ["Settings saved. Sage accepted this client ID and secret."]
    page = admin_client.get(reverse("integrations:accounting_list")).content.decode()
    assert 'badge--enabled"' in page


def test_first_keys_sage_rejects_are_saved_with_one_message(sage_sandbox, admin_client, org_a):
    sage_sandbox.register_client(CLIENT_ID["3.1"], "what-sage-expects")
    response = post_secret(admin_client, CLIENT_SECRET)  # nothing stored yet: nothing to keep

    assert len(flash(response)) == 1
    assert "Settings saved, but Sage rejected" in flash(response)[0]
    assert CredentialSet.objects.filter(integration__organization=org_a).exists()


def test_a_typo_in_french_is_said_in_french(working_keys, admin_client):
    response = post_secret(admin_client, "a-typo", headers={"accept-language": "fr"})
    page = response.content.decode()
    assert "vos clés précédentes restent utilisées" in page
    assert "Enregistrer quand même" in page
