"""The companies pages: list with health, create, company page, renew, unlink; tenancy."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.models import Company, Connection, HistoryEvent
from integrations.sage import oauth
from integrations.sage.errors import SageOAuthError
from integrations.sage.versions import ApiVersion

pytestmark = pytest.mark.django_db

LIST = reverse("integrations:company_list")


def detail_url(company):
    return reverse("integrations:company_detail", args=[company.pk])


def unlink_url(company):
    return reverse("integrations:connection_unlink", args=[company.pk])


def test_list_shows_only_this_organizations_companies(admin_client, org_a, org_b, make_company):
    make_company(org_a, "Alpha Customer")
    make_company(org_b, "Beta Customer")
    content = admin_client.get(LIST).content
    assert b"Alpha Customer" in content
    assert b"Beta Customer" not in content


def test_list_is_searchable_and_paginated(member_client, org_a, make_company):
    for i in range(30):
        make_company(org_a, f"Bakery {i:02d}")
    make_company(org_a, "Zebra Garage")

    first = member_client.get(LIST)
    assert first.status_code == HTTPStatus.OK
    # Newest activity first: the company created last leads.
    assert first.content.count(b"Bakery ") == 24
    assert b"Zebra Garage" in first.content
    second = member_client.get(LIST, {"page": 2})
    assert b"Bakery 00" in second.content
    assert b"Zebra Garage" not in second.content
    found = member_client.get(LIST, {"q": "zebra"})
    assert b"Zebra Garage" in found.content
    assert b"Bakery" not in found.content
    assert b"No company matches" in member_client.get(LIST, {"q": "nothing"}).content


@pytest.fixture
def add_connections(make_company, make_connection):
    def add(org, names, credential_set):
        for name in names:
            make_connection(make_company(org, name), credential_set)

    return add


def test_list_queries_do_not_grow_with_companies(
    admin_client, org_a, sage_sandbox, setup_sage, add_connections
):
    _integration, credential_set = setup_sage(org_a)
    add_connections(org_a, ["One"], credential_set)
    admin_client.get(LIST)
    with CaptureQueriesContext(db) as few:
        admin_client.get(LIST)
    add_connections(org_a, [f"Co {i}" for i in range(24)], credential_set)
    with CaptureQueriesContext(db) as many:
        admin_client.get(LIST)
    assert len(many) == len(few)


def test_list_shows_connection_health(
    admin_client, org_a, sage_sandbox, make_company, setup_sage, make_connection
):
    _integration, credential_set = setup_sage(org_a)
    soon, failing, fine = (make_company(org_a, n) for n in ("Soon Ltd", "Failing Ltd", "Fine Ltd"))
    now = timezone.now()
    for company, expires, error in [
        (soon, now + timedelta(days=2), ""),
        (failing, now + timedelta(days=30), "Sage could not be reached."),
        (fine, now + timedelta(days=30), ""),
    ]:
        make_connection(
            company,
            credential_set,
            refresh_token_expires_at=expires,
            last_refreshed_at=now,
            last_error=error,
        )
    response = admin_client.get(LIST)
    rows = {row.name: row for row in response.context["rows"]}
    assert rows["Soon Ltd"].state.warning_words == ["Authorization expires soon"]
    assert rows["Failing Ltd"].state.warning_words == ["Last refresh failed"]
    assert rows["Fine Ltd"].state.warning_words == []
    assert rows["Fine Ltd"].state.is_linked
    assert response.content.count(b'<span class="muted">OK</span>') == 1
    assert response.content.count(b'<li class="health-warning">') == 2
    assert b"Authorization expires soon" in response.content
    assert b"Last refresh failed" in response.content
    # One word for all three; the colour says which need attention.
    assert response.content.count(b'data-state="linked">Linked<') == 3
    assert response.content.count(b'class="badge badge--attention"') == 2


def test_list_rows_without_a_linked_connection(admin_client, org_a, make_company, setup_sage):
    _integration, credential_set = setup_sage(org_a)
    make_company(org_a, "Alone Ltd")
    Connection.objects.create(
        company=make_company(org_a, "Waiting Ltd"),
        integration=credential_set.integration,
        credential_set=credential_set,
        api_version=ApiVersion.V31,
    )
    response = admin_client.get(LIST)
    rows = {row.name: row for row in response.context["rows"]}
    assert rows["Alone Ltd"].state.word == "Not linked yet"
    assert rows["Waiting Ltd"].state.word == "Waiting for the customer"
    assert not rows["Alone Ltd"].state.is_linked
    assert not rows["Waiting Ltd"].state.is_linked
    assert b'<span class="muted">OK</span>' not in response.content
    html = response.content.decode()
    assert '<span class="badge badge--none" data-state="not_linked">Not linked yet</span>' in html
    assert (
        '<span class="badge badge--waiting" data-state="waiting">Waiting for the customer</span>'
        in html
    )
    assert ">OK<" not in html
    french = admin_client.get(LIST, headers={"accept-language": "fr"}).content.decode()
    assert "Pas encore liée" in french
    assert "En attente du client" in french


def test_admin_creates_a_company(admin_client, org_a):
    response = admin_client.post(reverse("integrations:company_create"), {"name": "  New  Co "})
    company = Company.objects.get()
    assert response["Location"] == detail_url(company)
    assert company.name == "New Co"
    assert company.organization == org_a
    assert company.created_by == org_a.admin
    assert HistoryEvent.objects.filter(company=company, kind=HistoryEvent.Kind.COMPANY_CREATED)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_bad_name_saves_nothing(admin_client, name):
    url = reverse("integrations:company_create")
    response = admin_client.post(url, {"name": name})
    assert (response.status_code, response["Location"]) == (HTTPStatus.SEE_OTHER, url)
    assert not Company.objects.exists()


def test_member_cannot_create(member_client):
    response = member_client.post(reverse("integrations:company_create"), {"name": "X"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Company.objects.exists()


def test_company_page_shows_link_url_and_history(member_client, org_a, settings, make_company):
    settings.PORTAL_BASE_URL = "https://portal.example"
    company = make_company(org_a)
    response = member_client.get(detail_url(company), HTTP_HOST="localhost")
    link_url = f"https://portal.example/link/{company.link_token}/"
    assert link_url.encode() in response.content
    assert b'data-copy="#link-url"' in response.content
    assert b"Renew link" not in response.content  # members only read


@pytest.mark.parametrize("view", ["detail", "unlink", "renew"])
def test_another_organizations_company_is_a_404(admin_client, org_b, view, make_company):
    company = make_company(org_b)
    if view == "detail":
        response = admin_client.get(detail_url(company))
    elif view == "unlink":
        response = admin_client.post(unlink_url(company))
    else:
        response = admin_client.post(reverse("integrations:company_link_renew", args=[company.pk]))
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_renew_link_replaces_the_token(admin_client, org_a, make_company):
    company = make_company(org_a)
    old = company.link_token
    Company.objects.filter(pk=company.pk).update(link_expires_at=timezone.now())
    url = reverse("integrations:company_link_renew", args=[company.pk])
    admin_client.post(url, {"confirm": "on"})
    company.refresh_from_db()
    assert company.link_token != old
    assert company.link_is_valid
    assert admin_client.get(f"/link/{old}/").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("method", ["get", "post"])
def test_renewing_the_link_asks_first(admin_client, org_a, make_company, method):
    """Renewing kills the link URL the customer may hold: without `confirm`, a page asks."""
    company = make_company(org_a)
    old = company.link_token
    url = reverse("integrations:company_link_renew", args=[company.pk])

    response = getattr(admin_client, method)(url)

    assert response.status_code == HTTPStatus.OK
    assert b'data-testid="renew-confirm"' in response.content
    assert b'name="confirm"' in response.content
    company.refresh_from_db()
    assert company.link_token == old
    assert not HistoryEvent.objects.filter(company=company).exists()


def test_member_cannot_renew(member_client, org_a, make_company):
    company = make_company(org_a)
    old = company.link_token
    url = reverse("integrations:company_link_renew", args=[company.pk])
    assert member_client.post(url).status_code == HTTPStatus.FORBIDDEN
    company.refresh_from_db()
    assert company.link_token == old


def test_linked_company_page_shows_the_connection(
    admin_client, org_a, sage_sandbox, link, make_company, setup_sage
):
    company = make_company(org_a)
    setup_sage(org_a)
    connection = link(sage_sandbox, company)
    response = admin_client.get(detail_url(company))
    assert b'data-testid="connection-status">Linked' in response.content
    assert connection.business_name.encode() in response.content
    assert b"portal-app-v31" in response.content
    assert b"Linked" in response.content
    assert b"Link started" not in response.content  # the history holds outcomes, not starts
    assert connection.access_token.encode() not in response.content
    assert "live_data" in response.context


def test_unlink_asks_first_then_revokes(
    admin_client, org_a, sage_sandbox, link, make_company, setup_sage
):
    _integration, credential_set = setup_sage(org_a)
    company = make_company(org_a)
    connection = link(sage_sandbox, company)
    refresh_token = connection.refresh_token

    confirm = admin_client.get(unlink_url(company))
    assert confirm.status_code == HTTPStatus.OK
    assert Connection.objects.get().status == Connection.Status.LINKED

    response = admin_client.post(unlink_url(company), follow=True)

    [revoke] = [r for r in sage_sandbox.requests if r.route == "revoke"]
    assert revoke.form["token"] == refresh_token
    connection.refresh_from_db()
    assert connection.status == Connection.Status.UNLINKED
    assert not connection.access_token
    assert not connection.refresh_token
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.UNLINKED, company=company)
    assert b"The company was unlinked." in response.content
    # A voluntary unlink is not a relink to chase: the page says who unlinked it.
    assert b'data-testid="relink-prompt"' not in response.content
    assert b"Unlinked by admin@alphaltd.example on" in response.content
    with pytest.raises(SageOAuthError):
        oauth.refresh_tokens(credential_set=credential_set, refresh_token=refresh_token)


def test_a_failed_revoke_still_unlinks_and_says_so(
    admin_client, org_a, sage_sandbox, link, make_company, setup_sage
):
    setup_sage(org_a)
    company = make_company(org_a)
    link(sage_sandbox, company)
    sage_sandbox.fail_next("revoke", "status_500")

    response = admin_client.post(unlink_url(company), follow=True)

    assert Connection.objects.get().status == Connection.Status.UNLINKED
    assert b"could not be told to revoke" in response.content


def test_v30_unlink_does_not_call_revoke(
    admin_client, org_a, sage_sandbox, link, make_company, setup_sage
):
    setup_sage(org_a, version=ApiVersion.V30)
    company = make_company(org_a)
    link(sage_sandbox, company)
    admin_client.post(unlink_url(company))
    assert Connection.objects.get().status == Connection.Status.UNLINKED
    assert not [r for r in sage_sandbox.requests if r.route == "revoke"]


def test_member_cannot_unlink(member_client, org_a, sage_sandbox, link, make_company, setup_sage):
    setup_sage(org_a)
    company = make_company(org_a)
    link(sage_sandbox, company)
    assert member_client.post(unlink_url(company)).status_code == HTTPStatus.FORBIDDEN
    assert member_client.get(unlink_url(company)).status_code == HTTPStatus.FORBIDDEN
    assert Connection.objects.get().status == Connection.Status.LINKED
    assert not [r for r in sage_sandbox.requests if r.route == "revoke"]


def test_deauthorized_company_shows_a_relink_prompt(
    member_client, org_a, sage_sandbox, link, make_company, setup_sage
):
    setup_sage(org_a)
    company = make_company(org_a)
    link(sage_sandbox, company)
    Connection.objects.update(
        status=Connection.Status.DEAUTHORIZED, state=Connection.State.TOKENS_REFUSED
    )
    response = member_client.get(detail_url(company))
    assert b'data-testid="relink-prompt"' in response.content
    assert company.link_token.encode() in response.content


def test_the_company_page_names_the_country(
    admin_client, org_a, sage_sandbox, make_company, setup_sage
):
    setup_sage(org_a)
    company = make_company(org_a)
    Connection.objects.create(
        company=company,
        integration=org_a.integrations.get(),
        credential_set=org_a.integrations.get().credential_sets.get(),
        api_version="3.1",
        country="FR",
    )
    page = admin_client.get(reverse("integrations:company_detail", args=[company.pk]))
    assert "France" in page.content.decode()
