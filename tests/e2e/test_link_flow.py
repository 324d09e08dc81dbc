"""The whole link flow in Chromium: the admin's pages, the customer's, and the sandbox."""

import re

import pytest
from playwright.sync_api import expect

from integrations.models import Company, Connection
from integrations.sage.versions import ApiVersion
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(live_server, settings, sage_sandbox):
    """The live server, with callback and link URLs built on its own origin."""
    settings.PORTAL_BASE_URL = live_server.url
    return live_server


def create_company(page, login, portal, admin, name: str) -> str:
    """Create a company through the admin's pages; return its link URL."""
    login(page, admin.email, PASSWORD)
    page.goto(f"{portal.url}/companies/")
    page.get_by_role("link", name="Create a company").click()
    page.get_by_label("Company name").fill(name)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    link_url = page.locator("#link-url").input_value()
    assert link_url.startswith(f"{portal.url}/link/")
    return link_url


def open_country_page(browser, link_url):
    """Open the link URL as the customer and choose Sage; return the page and its flags."""
    customer = browser.new_context(locale="en-GB").new_page()
    customer.goto(link_url)
    customer.get_by_role("link", name="Sage Accounting").click()
    return customer, customer.get_by_role("list", name="Countries").get_by_role("button")


def test_link_with_v31_choosing_one_of_two_businesses(
    browser, page, login, portal, org_a, sage_sandbox, setup_sage
):
    setup_sage(org_a, version=ApiVersion.V31)
    businesses = sage_sandbox.set_businesses(2)
    link_url = create_company(page, login, portal, org_a.admin, "Acme Bakery")

    customer, flags = open_country_page(browser, link_url)
    expect(flags).to_have_count(9)
    expect(customer.get_by_test_id("unsupported")).to_contain_text("Australia")
    customer.get_by_role("button", name="United Kingdom").click()

    expect(customer).to_have_url(re.compile(re.escape(sage_sandbox.url) + "/oauth2/auth/central"))
    expect(customer.get_by_label("Country")).to_have_value("GB")
    customer.get_by_role("button", name="Approve").click()

    expect(customer).to_have_url(f"{portal.url}/oauth/sage/business/")
    customer.get_by_label(businesses[1]["displayed_as"]).check()
    customer.get_by_role("button", name="Link this business").click()
    expect(customer).to_have_url(f"{portal.url}/oauth/sage/done/")
    expect(customer.get_by_test_id("link-result")).to_contain_text(
        f"{businesses[1]['displayed_as']} is now linked"
    )
    customer.context.close()

    page.reload()
    expect(page.get_by_test_id("connection-status")).to_have_text("Linked")
    connection = Connection.objects.get(company__name="Acme Bakery")
    assert connection.business_id == businesses[1]["id"]
    assert connection.country == "GB"


def test_link_with_v30_offers_only_uk_and_ireland(
    browser, page, login, portal, org_a, sage_sandbox, setup_sage
):
    setup_sage(org_a, version=ApiVersion.V30)
    link_url = create_company(page, login, portal, org_a.admin, "Legacy Ltd")

    customer, flags = open_country_page(browser, link_url)
    expect(flags).to_have_count(2)
    expect(flags.nth(0)).to_contain_text("United Kingdom")
    expect(flags.nth(1)).to_contain_text("Ireland")
    customer.get_by_role("button", name="Ireland").click()
    customer.get_by_role("button", name="Approve").click()

    expect(customer).to_have_url(f"{portal.url}/oauth/sage/done/")
    expect(customer.get_by_test_id("link-result")).to_have_attribute("data-result", "linked")
    customer.context.close()

    page.reload()
    expect(page.get_by_test_id("connection-status")).to_have_text("Linked")
    connection = Connection.objects.get(company=Company.objects.get(name="Legacy Ltd"))
    assert connection.api_version == ApiVersion.V30
    assert connection.resource_owner_id == sage_sandbox.businesses[0]["id"]
    assert [r.path for r in sage_sandbox.token_requests()] == ["/v30/token"]


def test_cancel_at_sage_offers_to_try_again(
    browser, page, login, portal, org_a, sage_sandbox, setup_sage
):
    setup_sage(org_a)
    link_url = create_company(page, login, portal, org_a.admin, "Shy Ltd")

    customer = browser.new_context(locale="en-GB").new_page()
    customer.goto(link_url)
    customer.get_by_role("link", name="Sage Accounting").click()
    customer.get_by_role("button", name="France").click()
    customer.get_by_role("button", name="Deny").click()

    expect(customer.get_by_role("heading", level=1)).to_have_text("Linking cancelled")
    customer.get_by_role("link", name="Try again").click()
    expect(customer.get_by_role("link", name="Sage Accounting")).to_be_visible()
    customer.context.close()
    assert sage_sandbox.token_requests() == []
