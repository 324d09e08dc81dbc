"""Issue 21 item 6 in the browser: the companies list at 1,000 companies, filtered with
counts, needing attention first, and compact cards on a phone."""

import re

import pytest
from playwright.sync_api import expect

from integrations.connections.states import state_after
from integrations.models import Company, Connection
from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {"linked": "Linked", "attention": "Needs attention", "all": "All"},
    "fr": {"linked": "Liée", "attention": "À traiter", "all": "Toutes"},
}


@pytest.fixture
def thousand(org_a, setup_sage):
    """1,000 companies of org A: 400 linked (10 of them with a failed refresh), 100
    needing a relink, 100 unlinked, the rest not linked yet."""
    _, credential_set = setup_sage(org_a)
    companies = Company.objects.bulk_create(
        Company(organization=org_a, name=f"Customer {i:04d}", created_by=org_a.admin)
        for i in range(1000)
    )
    statuses = [Connection.Status.LINKED] * 400 + [Connection.Status.DEAUTHORIZED] * 100
    statuses += [Connection.Status.UNLINKED] * 100
    connections = [
        Connection(
            company=company,
            integration=credential_set.integration,
            credential_set=credential_set,
            api_version=credential_set.api_version,
            status=status,
            last_error="timeout" if i < 10 else "",
        )
        for i, (company, status) in enumerate(zip(companies, statuses, strict=False))
    ]
    for connection in connections:
        connection.state = state_after(connection)  # as its writer would store it
    Connection.objects.bulk_create(connections)
    return companies


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_a_thousand_companies_filtered_with_counts(
    browser, live_server, org_a, thousand, lang, size
):
    page = open_page(browser, live_server, lang=lang, size=size, user=org_a.admin)
    page.goto(f"{live_server.url}/companies/")
    filters = page.get_by_test_id("company-filters")
    expect(filters.locator("[data-filter=all]")).to_contain_text("1000")
    expect(filters.locator("[data-filter=linked]")).to_contain_text("400")
    expect(filters.locator("[data-filter=waiting]")).to_contain_text("400")
    expect(filters.locator("[data-filter=attention]")).to_contain_text("110")
    expect(filters.locator("[data-filter=unlinked]")).to_contain_text("100")
    expect(filters.locator("[data-filter=cancelled]")).to_contain_text("0")
    # Those needing attention come first.
    expect(page.locator("tbody tr").first).to_contain_text(WORDS[lang]["attention"])
    rows_height = page.locator("tbody").bounding_box()["height"]
    shoot(page, f"companies-1000-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)
    if size == "phone":
        assert rows_height < 25 * 150  # compact cards: no row of empty fields

    filters.locator("[data-filter=linked]").click()
    expect(filters.locator("[aria-current=page]")).to_have_attribute("data-filter", "linked")
    expect(page.locator("tbody tr")).to_have_count(25)
    expect(page.locator("tbody [data-state=linked]")).to_have_count(25)
    page.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"status=linked&page=2"))
    expect(page.locator("tbody [data-state=linked]")).to_have_count(25)
