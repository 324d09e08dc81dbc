"""Secrets the current FIELD_ENCRYPTION_KEYS cannot read: a clear state, never a 500."""

import base64
import logging
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.urls import reverse

from integrations import crypto
from integrations.fields import Ciphertext
from integrations.models import Connection, CredentialSet, HistoryEvent
from tests.common.factories import CLIENT_SECRET
from tests.linking.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db

OTHER_KEY = crypto.generate_key()
UNREADABLE = "cannot be read with the current encryption keys"


def move_ciphertext(model, field: str, source, target) -> None:
    """Copy `source`'s stored ciphertext of `field` into `target`'s row, as a bad restore would."""
    stored = model._base_manager.filter(pk=source.pk).values_list(field, flat=True).get()
    model._base_manager.filter(pk=target.pk).update(**{field: Ciphertext(stored)})


@pytest.fixture
def wrong_key(settings):
    """Return a function: from now on only a key that encrypted nothing is configured."""

    def switch() -> None:
        settings.FIELD_ENCRYPTION_KEYS = [OTHER_KEY]

    return switch


# The company page


def test_the_company_page_says_the_tokens_cannot_be_read(
    sage_sandbox, admin_client, org_a, link_connection, wrong_key
):
    # Before: DecryptionError while reading live data (a 500).
    connection = link_connection(sage_sandbox, org_a)
    wrong_key()
    url = reverse("integrations:company_detail", args=[connection.company.pk])
    response = admin_client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert UNREADABLE in response.content.decode()
    assert not [r for r in sage_sandbox.requests if r.route == "api"]


def test_the_company_page_with_a_token_moved_from_another_row(
    sage_sandbox, admin_client, org_a, link_connection
):
    first = link_connection(sage_sandbox, org_a, name="First Ltd")
    second = link_connection(sage_sandbox, org_a, name="Second Ltd")
    move_ciphertext(Connection, "access_token", first, second)
    url = reverse("integrations:company_detail", args=[second.company.pk])
    response = admin_client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert UNREADABLE in response.content.decode()
    # The other company is unaffected.
    other = admin_client.get(reverse("integrations:company_detail", args=[first.company.pk]))
    assert UNREADABLE not in other.content.decode()


def test_unlinking_with_unreadable_tokens_unlinks_and_says_sage_was_not_told(
    sage_sandbox, admin_client, org_a, link_connection, wrong_key
):
    # Before: DecryptionError reading the refresh token to revoke (a 500).
    connection = link_connection(sage_sandbox, org_a)
    wrong_key()
    url = reverse("integrations:connection_unlink", args=[connection.company.pk])
    response = admin_client.post(url, follow=True)
    assert response.status_code == HTTPStatus.OK
    assert "Sage could not be told to revoke" in response.content.decode()
    status = Connection.objects.values_list("status", flat=True).get(pk=connection.pk)
    assert status == Connection.Status.UNLINKED
    assert not [r for r in sage_sandbox.requests if r.route == "revoke"]
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.UNLINKED)
    assert event.details["revoke_failed"] is True


# Check credentials


def test_check_credentials_says_the_secret_cannot_be_read(
    sage_sandbox, admin_client, org_a, setup_sage, wrong_key
):
    # Before: DecryptionError reading the client secret (a 500).
    integration, _ = setup_sage(org_a)
    wrong_key()
    response = admin_client.post(reverse("integrations:credentials_check"), follow=True)
    assert response.status_code == HTTPStatus.OK
    assert UNREADABLE in response.content.decode()
    assert not sage_sandbox.token_requests()
    event = HistoryEvent.objects.filter(kind=HistoryEvent.Kind.CREDENTIALS_CHECKED).get()
    assert event.details["result"] == "unreadable"
    # One vocabulary (CredentialSet.Check): the history says why Sage was not asked,
    # and the set keeps only what Sage said (nothing, here).
    page = admin_client.get(reverse("integrations:integration_settings")).content.decode()
    history = page.split('data-testid="history"')[1]
    assert (
        "<strong>Credentials checked</strong>: Not checked: the stored secrets cannot be read"
        in history
    )
    assert [s.last_check_result for s in integration.credential_sets.all()] == [""]


def test_check_credentials_with_a_secret_moved_from_another_organization(
    sage_sandbox, admin_client, org_a, org_b, setup_sage
):
    _, ours = setup_sage(org_a)
    _, theirs = setup_sage(org_b)
    move_ciphertext(CredentialSet, "client_secret", theirs, ours)
    response = admin_client.post(reverse("integrations:credentials_check"), follow=True)
    assert UNREADABLE in response.content.decode()
    assert not sage_sandbox.token_requests()


# The customer's callback


def test_the_callback_fails_neutrally_when_the_keys_cannot_be_read(
    sage_sandbox, client, org_a, setup_sage, make_company, wrong_key, caplog
):
    # Before: a 500 after the state was spent, nothing recorded.
    setup_sage(org_a)
    company = make_company(org_a)
    query = authorize_query(client, company)
    wrong_key()
    with caplog.at_level(logging.ERROR):
        response = client.get(callback_path(sage_sandbox.approve(query)), follow=True)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "The link did not complete" in page
    assert "encryption" not in page  # the customer reads a neutral error
    assert not sage_sandbox.token_requests()
    connection = Connection.objects.get(company=company)
    assert connection.status != Connection.Status.LINKED
    assert UNREADABLE in connection.last_error
    event = HistoryEvent.objects.filter(kind=HistoryEvent.Kind.LINK_FAILED).get()
    assert event.details["reason"] == "secrets_unreadable"
    assert any(UNREADABLE in r.getMessage() for r in caplog.records)
    assert CLIENT_SECRET not in caplog.text


def test_the_callback_with_a_client_secret_moved_from_another_organization(
    sage_sandbox, client, org_a, org_b, setup_sage, make_company
):
    _, ours = setup_sage(org_a)
    _, theirs = setup_sage(org_b)
    company = make_company(org_a)
    query = authorize_query(client, company)
    move_ciphertext(CredentialSet, "client_secret", theirs, ours)
    response = client.get(callback_path(sage_sandbox.approve(query)), follow=True)
    assert response.status_code == HTTPStatus.OK
    assert "The link did not complete" in response.content.decode()
    event = HistoryEvent.objects.filter(kind=HistoryEvent.Kind.LINK_FAILED).get()
    assert event.details["reason"] == "secrets_unreadable"


# The system check


@pytest.mark.parametrize(
    "keys",
    [
        ["not-a-key"],
        [crypto.generate_key(), "not-a-key"],
        ["c2hvcnQ="],  # base64, but 5 bytes
        [crypto.generate_key()[:-1] + "*"],  # not the urlsafe alphabet
        [crypto.generate_key().replace("-", "+").replace("_", "/") + "+/"],
    ],
)
def test_the_system_check_refuses_a_malformed_key(settings, keys):
    # Before: FIELD_ENCRYPTION_KEYS=not-a-key passed `manage.py check`.
    settings.FIELD_ENCRYPTION_KEYS = keys
    errors = [e for e in run_checks() if e.id == "portal.E003"]
    assert errors
    assert all(k not in e.msg for e in errors for k in keys)  # never echo a key


def test_the_system_check_accepts_well_formed_keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key(), crypto.generate_key()]
    assert not [e for e in run_checks() if e.id.startswith("portal.E00")]


# Rotation


def test_rotation_goes_on_past_an_unreadable_row_and_lists_it(settings, org_a, org_b, setup_sage):
    _, ours = setup_sage(org_a)
    _, theirs = setup_sage(org_b)
    move_ciphertext(CredentialSet, "client_secret", theirs, ours)
    new_key = crypto.generate_key()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 row"):
        call_command("rotate_encryption_keys", stdout=out, stderr=err)
    assert str(ours.pk) in err.getvalue()
    assert str(theirs.pk) not in err.getvalue()
    assert CLIENT_SECRET not in out.getvalue() + err.getvalue()
    stored = CredentialSet.objects.values_list("client_secret", flat=True).get(pk=theirs.pk)
    assert crypto.stored_key_id(stored) == crypto.key_id_of(new_key)
    assert CredentialSet.objects.get(pk=theirs.pk).client_secret == CLIENT_SECRET


def test_rotation_dry_run_changes_nothing(settings, org_a, setup_sage):
    _, ours = setup_sage(org_a)
    before = CredentialSet.objects.values_list("client_secret", flat=True).get(pk=ours.pk)
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key(), *settings.FIELD_ENCRYPTION_KEYS]
    out = StringIO()
    call_command("rotate_encryption_keys", "--dry-run", stdout=out)
    assert "would be re-encrypted" in out.getvalue()
    after = CredentialSet.objects.values_list("client_secret", flat=True).get(pk=ours.pk)
    assert before == after


def test_key_problems_name_each_bad_key_by_its_position():
    good = crypto.generate_key()
    # 48 and 16 bytes of valid urlsafe base64: right alphabet, wrong length.
    too_long = base64.urlsafe_b64encode(b"k" * 48).decode()
    too_short = base64.urlsafe_b64encode(b"k" * 16).decode()
    assert crypto.key_problems([good, too_long, "a", too_short]) == [
        f"Key {n} of FIELD_ENCRYPTION_KEYS is not urlsafe base64 of 32 bytes." for n in (2, 3, 4)
    ]  # "a" is not even base64 (its padding is wrong): reported, not raised


def test_an_unreadable_secret_after_an_empty_one_is_found(
    org_a, setup_sage, make_company, make_connection, wrong_key
):
    from integrations.fields import unreadable_fields

    _integration, credential_set = setup_sage(org_a)
    connection = make_connection(
        make_company(org_a), credential_set, access_token="", refresh_token="refresh-token-1a"
    )
    wrong_key()
    stored = Connection.objects.get(pk=connection.pk)
    assert unreadable_fields(stored) == ["refresh_token"]


@pytest.mark.parametrize("name", ["company_ledger_accounts", "company_contacts"])
def test_a_live_list_with_unreadable_secrets_goes_back_to_the_company_page(
    sage_sandbox, admin_client, org_a, link_connection, wrong_key, name
):
    connection = link_connection(sage_sandbox, org_a)
    wrong_key()
    before = len(sage_sandbox.requests)

    response = admin_client.get(reverse(f"integrations:{name}", args=[connection.company.pk]))

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("integrations:company_detail", args=[connection.company.pk])
    assert len(sage_sandbox.requests) == before
