"""The company page (issue 13 §6): its state first, the link card folded once linked, live
lists paged from Sage, dates in one 24-hour format in English and French, short version
labels, and a renewal of the link URL that asks first."""

import re
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from integrations.audit.history import history_details_text
from integrations.connections.live_data import LIST_PAGE_SIZE, PREVIEW_SIZE
from integrations.models import Company, Connection, HistoryEvent
from integrations.sage.versions import ApiVersion

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 11, 30, 17, 14, tzinfo=UTC)
FRENCH = {"accept-language": "fr"}


def detail(company):
    return reverse("integrations:company_detail", args=[company.pk])


def accounts(company):
    return reverse("integrations:company_ledger_accounts", args=[company.pk])


def test_the_when_filter_writes_a_24_hour_time_element_in_both_languages():
    template = Template("{% load dates %}{{ moment|when }}|{{ nothing|when }}")
    english = template.render(Context({"moment": MOMENT, "nothing": None}))
    assert english == '<time datetime="2026-11-30T17:14:00+00:00">30 Nov 2026, 17:14</time>|—'
    with translation.override("fr"):
        french = template.render(Context({"moment": MOMENT, "nothing": None}))
    assert ">30 nov. 2026, 17:14</time>" in french


def test_company_page_dates_are_24_hour_in_english_and_french(
    admin_client, org_a, sage_sandbox, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    Connection.objects.filter(pk=connection.pk).update(last_refreshed_at=MOMENT)
    Company.objects.filter(pk=connection.company_id).update(link_expires_at=MOMENT)
    company = connection.company

    english = admin_client.get(detail(company)).content.decode()
    french = admin_client.get(detail(company), headers=FRENCH).content.decode()

    assert ">30 Nov 2026, 17:14</time>" in english
    assert ">30 nov. 2026, 17:14</time>" in french
    for html in (english, french):
        assert "p.m." not in html
        assert "5:14" not in html


def test_history_entries_share_one_format_on_the_company_and_api_keys_pages(
    admin_client, org_a, make_company
):
    company = make_company(org_a)
    renew = reverse("integrations:company_link_renew", args=[company.pk])
    admin_client.post(renew, {"confirm": "on"})
    HistoryEvent.objects.filter(company=company).update(created_at=MOMENT)
    admin_client.post(reverse("integrations:api_key_create"), {"name": "Backend"})
    HistoryEvent.objects.filter(kind=HistoryEvent.Kind.API_KEY_CREATED).update(created_at=MOMENT)
    entry = re.compile(
        r'<li><time datetime="2026-11-30T17:14:00\+00:00">30 Nov 2026, 17:14</time> · '
        r"<strong>[^<]+</strong>.* · <span class=\"muted\">admin@alphaltd\.example</span></li>"
    )

    company_page = admin_client.get(detail(company)).content.decode()
    keys_page = admin_client.get(reverse("integrations:api_key_list")).content.decode()

    assert entry.search(company_page)
    assert entry.search(keys_page)


def test_the_page_leads_with_the_state_and_the_actions_that_fit_it(
    admin_client, org_a, sage_sandbox, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    html = admin_client.get(detail(connection.company)).content.decode()

    head = html[html.index('data-testid="company-head"') : html.index("</section>")]
    assert 'data-testid="connection-status">Linked' in head
    assert connection.business_name in head
    assert "United Kingdom" in head
    assert "API v3.1" in head
    assert "Copy the link URL" not in head  # a linked company needs no link URL
    # Unlink is not the page's main action: a danger action at the end of the Connection card.
    unlink = reverse("integrations:connection_unlink", args=[connection.company_id])
    assert unlink not in head
    assert 'data-testid="view-data"' in head
    zone = html[html.index('data-testid="unlink-zone"') :]
    assert unlink in zone[: zone.index("</section>")]
    assert "button--danger-outline" in zone[: zone.index("</section>")]


def test_a_company_not_linked_offers_its_link_url_first(admin_client, org_a, make_company):
    company = make_company(org_a)
    html = admin_client.get(detail(company)).content.decode()

    head = html[html.index('data-testid="company-head"') : html.index("</section>")]
    assert "Copy the link URL" in head
    assert "Unlink" not in head


def link_card(html: str) -> str:
    return re.search(r"<details [^>]*data-testid=\"link-card\"[^>]*>", html).group(0)


def test_the_link_card_is_open_until_the_company_is_linked_then_folds(
    admin_client, org_a, sage_sandbox, link_connection, make_company
):
    waiting = make_company(org_a, "Waiting Ltd")
    linked = link_connection(sage_sandbox, org_a).company

    assert " open" in link_card(admin_client.get(detail(waiting)).content.decode())
    folded = admin_client.get(detail(linked)).content.decode()
    assert " open" not in link_card(folded)
    assert linked.link_token in folded  # still there, one click away

    Connection.objects.filter(company=linked).update(
        status=Connection.Status.DEAUTHORIZED, state=Connection.State.TOKENS_REFUSED
    )
    assert " open" in link_card(admin_client.get(detail(linked)).content.decode())


@pytest.mark.parametrize(
    ("version", "label"), [(ApiVersion.V31, "API v3.1"), (ApiVersion.V30, "API v3.0 (legacy)")]
)
def test_versions_are_short_labels_on_the_page_and_in_the_admin(
    admin_client, client, make_user, org_a, sage_sandbox, link_connection, version, label
):
    connection = link_connection(sage_sandbox, org_a, api_version=version)

    page = admin_client.get(detail(connection.company)).content.decode()
    client.force_login(
        make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    )
    admin_list = client.get(reverse("admin:integrations_connection_changelist")).content.decode()

    for html in (page, admin_list):
        assert label in html
        assert "(API v3 - UKI)" not in html
        assert "API v3.1 - UKI" not in html


def test_live_data_shows_a_preview_and_a_link_to_every_account(
    admin_client, org_a, sage_sandbox, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    total = len(sage_sandbox.items(sage_sandbox.businesses[0], "ledger_accounts"))
    assert total > PREVIEW_SIZE

    html = admin_client.get(detail(connection.company)).content.decode()

    assert f"View all {total} accounts" in html
    assert accounts(connection.company) in html
    french = admin_client.get(detail(connection.company), headers=FRENCH).content.decode()
    assert f"Voir les {total} comptes" in french


def test_every_account_is_paged_from_sage(admin_client, org_a, sage_sandbox, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    ledger = sage_sandbox.items(sage_sandbox.businesses[0], "ledger_accounts")
    last = -(-len(ledger) // LIST_PAGE_SIZE)
    assert last >= 3

    first = admin_client.get(accounts(connection.company))
    middle = admin_client.get(accounts(connection.company), {"page": 2}).content.decode()
    end = admin_client.get(accounts(connection.company), {"page": last}).content.decode()

    assert first.status_code == HTTPStatus.OK
    body = first.content.decode()
    assert ledger[0]["name"] in body
    assert ledger[LIST_PAGE_SIZE]["name"] not in body
    assert f"Page 1 of {last}" in body
    assert 'rel="next"' in body
    assert 'rel="prev"' not in body
    assert ledger[LIST_PAGE_SIZE]["name"] in middle
    assert 'rel="next"' in middle
    assert 'rel="prev"' in middle
    assert ledger[-1]["name"] in end
    assert 'rel="next"' not in end
    lists = [r for r in sage_sandbox.requests if r.path.endswith("/ledger_accounts")]
    pages = [r.query.get("page") for r in lists]
    assert pages[-3:] == ["1", "2", str(last)]


@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999"])
def test_a_bad_page_number_shows_the_first_page(
    admin_client, org_a, sage_sandbox, link_connection, page
):
    connection = link_connection(sage_sandbox, org_a)
    response = admin_client.get(accounts(connection.company), {"page": page})
    assert response.status_code == HTTPStatus.OK
    assert "Page 1 of" in response.content.decode()


def test_contacts_are_paged_too(member_client, org_a, sage_sandbox, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    contacts = sage_sandbox.items(sage_sandbox.businesses[0], "contacts")
    url = reverse("integrations:company_contacts", args=[connection.company_id])

    html = member_client.get(url).content.decode()

    assert contacts[0]["name"] in html
    assert f"{len(contacts)} in all" in html


def test_another_organizations_lists_are_a_404(admin_client, org_b, sage_sandbox, link_connection):
    connection = link_connection(sage_sandbox, org_b)
    before = len(sage_sandbox.requests)
    assert admin_client.get(accounts(connection.company)).status_code == HTTPStatus.NOT_FOUND
    assert len(sage_sandbox.requests) == before


def test_a_company_not_linked_has_no_list_to_page(admin_client, org_a, make_company):
    company = make_company(org_a)
    response = admin_client.get(accounts(company))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == detail(company)


def test_renewal_is_confirmed_in_a_dialog_with_a_page_behind_it(admin_client, org_a, make_company):
    company = make_company(org_a)
    html = admin_client.get(detail(company)).content.decode()
    assert 'data-confirm-dialog="renew-dialog"' in html
    dialog = html[html.index('<dialog id="renew-dialog"') : html.index("</dialog>")]
    assert 'name="confirm"' in dialog
    assert "stops working at once" in dialog


def test_a_confirmed_renewal_is_recorded(admin_client, org_a, make_company):
    company = make_company(org_a)
    url = reverse("integrations:company_link_renew", args=[company.pk])

    response = admin_client.post(url, {"confirm": "on"}, follow=True)

    assert "the old one no longer works." in response.content.decode()
    assert HistoryEvent.objects.filter(company=company, kind=HistoryEvent.Kind.LINK_RENEWED)


def test_history_details_name_versions_by_their_short_labels(org_a):
    changed = HistoryEvent(
        organization=org_a,
        kind=HistoryEvent.Kind.CREDENTIAL_TYPE_CHANGED,
        details={"from": "3.0", "to": "3.1"},
    )
    checked = HistoryEvent(
        organization=org_a,
        kind=HistoryEvent.Kind.CREDENTIALS_CHECKED,
        details={"api_version": "3.0"},
    )

    assert history_details_text(changed) == "before: API v3.0 (legacy); after: API v3.1."
    assert history_details_text(checked) == "API version: API v3.0 (legacy)."
    with translation.override("fr"):
        assert "API v3.0 (obsolète)" in history_details_text(checked)


@pytest.mark.parametrize(
    ("cookie", "shown"),
    [("Europe/Paris", "30 Nov 2026, 18:14"), ("", "30 Nov 2026, 17:14"), ("Mars/Olympus", "17:14")],
)
def test_times_are_in_the_readers_time_zone_when_the_browser_said_it(
    admin_client, org_a, make_company, cookie, shown
):
    company = make_company(org_a)
    admin_client.post(
        reverse("integrations:company_link_renew", args=[company.pk]), {"confirm": "on"}
    )
    HistoryEvent.objects.filter(company=company).update(created_at=MOMENT)
    admin_client.cookies["tz"] = cookie

    html = admin_client.get(detail(company)).content.decode()

    assert f"{shown}</time>" in html


def test_the_companies_pager_keeps_the_search(member_client, org_a, make_company):
    for i in range(30):
        make_company(org_a, f"Bakery {i:02d}")
    url = reverse("integrations:company_list")

    first = member_client.get(url, {"q": "bakery"}).content.decode()
    second = member_client.get(url, {"q": "bakery", "page": 2}).content.decode()

    assert 'href="?q=bakery&amp;page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    assert 'href="?q=bakery&amp;page=1" rel="prev"' in second
    assert "Page 2 of 2" in second


def test_the_country_shows_a_flag_image_not_an_emoji(
    admin_client, org_a, link_connection, sage_sandbox
):
    connection = link_connection(sage_sandbox, org_a)

    html = admin_client.get(
        reverse("integrations:company_detail", args=[connection.company.pk])
    ).content.decode()

    assert f"portal/flags/{connection.country.lower()}" in html
    assert "\U0001f1ec\U0001f1e7" not in html  # the regional-indicator letters of 🇬🇧
    assert "United Kingdom" in html
