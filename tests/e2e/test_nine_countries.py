"""Issue 21 item 2 in the browser: Portugal and the United Arab Emirates link at the sandbox,
whose sign-in asks for the country (Sage's `country` parameter does not name them)."""

import re

import pytest
from playwright.sync_api import expect

from integrations.models import Connection
from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = {
    "en": {"PT": "Portugal", "AE": "United Arab Emirates"},
    "fr": {"PT": "Portugal", "AE": "Émirats arabes unis"},
}


@pytest.fixture
def portal(live_server, settings, sage_sandbox):
    settings.PORTAL_BASE_URL = live_server.url
    return live_server


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_portugal_and_the_uae_link_through_sages_sign_in(
    browser, portal, sage_sandbox, org_a, setup_sage, make_company, lang, size
):
    setup_sage(org_a)
    for country in ("PT", "AE"):
        company = make_company(org_a, f"Empresa {country}")
        customer = open_page(browser, portal, lang=lang, size=size)
        customer.goto(f"{portal.url}/link/{company.link_token}/sage/")
        flags = customer.locator("ul.flags button")
        expect(flags).to_have_count(9)
        if country == "PT":
            shoot(customer, f"countries-{lang}-{size}")
            assert axe_violations(customer) == []
        tile = customer.locator(f"button[value={country}]")
        expect(tile).to_have_text(NAMES[lang][country])
        expect(tile.locator("img")).to_have_attribute("src", re.compile(f"{country.lower()}.svg"))
        tile.click()

        expect(customer).to_have_url(re.compile(re.escape(sage_sandbox.url)))
        assert "country=" not in customer.url
        customer.locator("#country").select_option(country)
        customer.get_by_role("button", name="Approve").click()
        expect(customer).to_have_url(f"{portal.url}/oauth/sage/done/")
        expect(customer.get_by_test_id("link-result")).to_be_visible()
        connection = Connection.objects.get(company=company)
        assert (connection.status, connection.country) == (Connection.Status.LINKED, country)
        customer.context.close()
