"""The company page's Data card: per type the count and the last sync, the running sync's
progress (the card reloads itself from its own URL), the last error in the reader's words,
and Sync now for admins (members read it only). Another organization gets a 404."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Connection
from integrations.sync.models import SyncCursor, SyncedRecord, SyncRun
from integrations.sync.types import SYNC_TYPES

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 17, 14, tzinfo=UTC)
FRENCH = {"accept-language": "fr"}


@pytest.fixture
def connection(org_a, make_integration, make_credential_set, make_company, make_connection):
    integration = make_integration(org_a)
    company = make_company(org_a)
    # Linked, with no tokens: the page's live reads fail at once (Sage is never reached).
    return make_connection(company, make_credential_set(integration))


@pytest.fixture
def pending(org_a, make_integration, make_credential_set, make_company, make_connection):
    integration = make_integration(org_a)
    company = make_company(org_a, "Waiting Ltd")
    return make_connection(
        company, make_credential_set(integration), status=Connection.Status.PENDING_AUTH
    )


def card_url(company) -> str:
    return reverse("integrations:company_data_card", args=[company.pk])


def sync_url(company) -> str:
    return reverse("integrations:company_sync", args=[company.pk])


def run(connection, status, **fields) -> SyncRun:
    return SyncRun.objects.create(
        connection=connection, trigger=SyncRun.Trigger.SCHEDULE, status=status, **fields
    )


def card(client, company, **headers) -> str:
    """The card as its own URL answers it (the company page includes the same template)."""
    response = client.get(card_url(company), headers=headers)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_each_type_with_its_count_and_last_sync(admin_client, connection):
    for n in range(3):
        SyncedRecord.objects.create(connection=connection, data_type="contacts", sage_id=f"c{n}")
    SyncedRecord.objects.create(
        connection=connection, data_type="contacts", sage_id="gone", deleted_at=T0
    )
    SyncCursor.objects.create(connection=connection, data_type="contacts", synced_at=T0)

    html = card(admin_client, connection.company)
    french = card(admin_client, connection.company, **FRENCH)

    for sync_type in SYNC_TYPES:
        assert f'data-testid="data-type-{sync_type.key}"' in html
    contacts = html.split('data-testid="data-type-contacts"')[1].split("</tr>")[0]
    assert ">3</td>" in contacts  # the deleted one is not counted
    assert "30 Nov 2026, 17:14</time>" in contacts
    ledger = html.split('data-testid="data-type-ledger_accounts"')[1].split("</tr>")[0]
    assert ">0</td>" in ledger
    assert "Never" in ledger
    assert "Jamais" in french
    assert "Contacts" in french
    assert "Comptes généraux" in french
    assert "data-poll" not in html  # nothing runs: nothing to reload
    assert 'data-testid="sync-progress"' not in html


def test_a_running_sync_shows_its_progress_and_the_card_reloads_itself(admin_client, connection):
    active = run(connection, SyncRun.Status.RUNNING, started_at=T0)
    # Contacts done; ledger accounts half-way (its phase); bank accounts last done by another run.
    SyncCursor.objects.create(connection=connection, data_type="contacts", run=active)
    SyncCursor.objects.create(
        connection=connection, data_type="ledger_accounts", run=active, phase="updated", page=3
    )
    earlier = run(connection, SyncRun.Status.SUCCEEDED, created_at=T0 - timedelta(days=1))
    SyncCursor.objects.create(connection=connection, data_type="bank_accounts", run=earlier)
    page = admin_client.get(reverse("integrations:company_detail", args=[connection.company.pk]))
    html = page.content.decode()

    assert 'data-testid="data-card"' in html
    assert f'data-poll="{card_url(connection.company)}"' in html
    assert f'<progress id="sync-progress-bar" max="{len(SYNC_TYPES)}" value="1">' in html
    assert "Syncing: 1 of 6 data types done" in html
    assert "/static/portal/poll.js" in html
    assert 'disabled data-testid="sync-now"' in html  # one sync at a time
    french = card(admin_client, connection.company, **FRENCH)
    assert "Synchronisation : 1 sur 6 types de données terminés" in french


def test_a_queued_sync_says_it_waits(admin_client, connection):
    run(connection, SyncRun.Status.QUEUED)
    html = card(admin_client, connection.company)
    assert "Sync waiting to start" in html
    assert 'value="0"' in html
    assert 'data-testid="sync-waiting"' not in html


def test_a_sync_sage_slowed_down_says_it_goes_on(admin_client, connection):
    run(connection, SyncRun.Status.QUEUED, error_code="rate_limited", error="429")
    html = card(admin_client, connection.company)
    assert "Sage asked us to slow down" in html
    assert 'data-poll="' in html  # still reloading: it goes on by itself


@pytest.mark.parametrize(
    ("code", "english", "french"),
    [
        ("deauthorized", "no longer accepts this company", "n&#x27;accepte plus"),
        ("sage", "Sage answered with an error", "Sage a répondu par une erreur"),
        ("something_new", "Something went wrong on our side", "Un problème est survenu"),
    ],
)
def test_the_last_error_in_the_readers_words(admin_client, connection, code, english, french):
    run(
        connection,
        SyncRun.Status.FAILED,
        started_at=T0,
        finished_at=T0 + timedelta(minutes=1),
        error_code=code,
        error="HTTP 401 from https://api.accounting.sage.com/v3.1/contacts?page=3",
    )
    html = card(admin_client, connection.company)
    assert 'data-testid="sync-error"' in html
    assert english in html
    assert "30 Nov 2026, 17:15" in html
    assert "HTTP 401" not in html  # the engine's detail is for the API, not the reader
    assert french in card(admin_client, connection.company, **FRENCH)


def test_a_later_good_sync_clears_the_error(admin_client, connection):
    run(connection, SyncRun.Status.FAILED, created_at=T0, error_code="sage_error")
    run(connection, SyncRun.Status.SUCCEEDED, created_at=T0 + timedelta(hours=1))
    assert 'data-testid="sync-error"' not in card(admin_client, connection.company)


def test_an_admin_syncs_now(admin_client, connection):
    response = admin_client.post(sync_url(connection.company))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].endswith(f"/companies/{connection.company.pk}/#data")
    sync = SyncRun.objects.get(connection=connection)
    assert sync.trigger == SyncRun.Trigger.MANUAL
    page = admin_client.get(response["Location"]).content.decode()
    assert "Sync started." in page
    # Twice: still one sync (the one queued).
    admin_client.post(sync_url(connection.company))
    assert SyncRun.objects.filter(connection=connection).count() == 1


def test_a_member_reads_the_card_and_cannot_sync(member_client, connection):
    page = member_client.get(reverse("integrations:company_detail", args=[connection.company.pk]))
    html = page.content.decode()

    assert 'data-testid="data-card"' in html
    assert 'data-testid="sync-now"' not in html
    assert member_client.post(sync_url(connection.company)).status_code == HTTPStatus.FORBIDDEN
    assert not SyncRun.objects.exists()


def test_a_company_not_linked_cannot_be_synced(admin_client, pending):
    html = card(admin_client, pending.company)
    assert 'data-testid="sync-now"' not in html
    assert 'data-testid="sync-not-linked"' in html

    response = admin_client.post(sync_url(pending.company), follow=True)

    assert not SyncRun.objects.exists()
    assert "This company is not linked" in response.content.decode()


def test_a_company_without_a_connection_has_no_data_card(admin_client, org_a, make_company):
    company = make_company(org_a, "New Ltd")
    page = admin_client.get(reverse("integrations:company_detail", args=[company.pk]))
    assert 'data-testid="data-card"' not in page.content.decode()
    assert admin_client.get(card_url(company)).status_code == HTTPStatus.NOT_FOUND
    assert admin_client.post(sync_url(company)).status_code == HTTPStatus.NOT_FOUND


def test_another_organization_gets_a_404(client, org_b, connection):
    client.force_login(org_b.admin)
    assert client.get(card_url(connection.company)).status_code == HTTPStatus.NOT_FOUND
    assert client.post(sync_url(connection.company)).status_code == HTTPStatus.NOT_FOUND
    assert not SyncRun.objects.exists()


def test_sync_now_needs_a_post_with_the_csrf_token(org_a, connection):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org_a.admin)
    assert browser.get(sync_url(connection.company)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert browser.post(sync_url(connection.company)).status_code == HTTPStatus.FORBIDDEN
    assert not SyncRun.objects.exists()
