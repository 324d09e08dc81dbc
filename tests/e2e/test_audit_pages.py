"""Browser checks added by the audit: the company's copy button, a link page in French."""

import pytest
from playwright.sync_api import expect

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_copy_button_copies_the_company_link_url(
    page, context, live_server, org_a, login, make_company
):
    company = make_company(org_a, "Copy Ltd")
    link_url = f"http://testserver/link/{company.link_token}/"
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/companies/{company.pk}/")

    field = page.locator("#link-url")
    expect(field).to_have_value(link_url)
    expect(field).to_have_attribute("readonly", "")
    section = page.get_by_test_id("link-card")  # open: the company is not linked yet
    section.get_by_role("button", name="Copy", exact=True).click()
    expect(section.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link_url
    page.evaluate("navigator.clipboard.writeText('')")
    # The page's head offers the same copy first, as the state's action.
    head = page.get_by_test_id("company-head")
    head.get_by_role("button", name="Copy the link URL").click()
    expect(head.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link_url


def test_the_customer_switches_the_country_page_to_french(
    page, live_server, org_a, sage_sandbox, make_company, setup_sage
):
    setup_sage(org_a)
    company = make_company(org_a, "Bonjour SARL")
    page.goto(f"{live_server.url}/link/{company.link_token}/sage/")
    expect(page.get_by_role("heading", level=2).first).to_have_text(
        "Where is your Sage business based?"
    )

    page.get_by_label("Language").select_option("fr")

    expect(page.get_by_role("heading", level=2).first).to_have_text(
        "Où est établie votre entreprise Sage ?"
    )
    flags = page.get_by_role("list", name="Pays").get_by_role("button")
    expect(flags).to_have_count(9)
    expect(page.get_by_role("button", name="Royaume-Uni")).to_be_visible()
    expect(page.get_by_test_id("unsupported")).to_contain_text("Australie")
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_the_whole_v31_flow_from_not_configured_to_linked(
    browser, page, live_server, settings, org_a, login, sage_sandbox
):
    """Issue 4's flow with every step in the browser, the admin's set-up included."""
    settings.PORTAL_BASE_URL = live_server.url
    businesses = sage_sandbox.set_businesses(2)
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/integrations/accounting/")
    page.get_by_test_id("integration-sage").get_by_role("link", name="Set up").click()
    page.get_by_label(
        "Client ID and client secret only (API v3.1 - UKI, US, CA, DE, ES, FR)"
    ).check()
    page.locator("#id_v31-client_id").fill("browser-client")
    page.locator("#id_v31-client_secret").fill("browser-secret-9f8e")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("dialog", name="Enable Sage Accounting").get_by_role(
        "button", name="Enable now"
    ).click()
    expect(page.get_by_test_id("integration-state")).to_have_text("Enabled")

    page.goto(f"{live_server.url}/companies/")
    page.get_by_role("link", name="Create a company").click()
    page.get_by_label("Company name").fill("Full Flow Ltd")
    page.get_by_role("button", name="Create").click()
    link_url = page.locator("#link-url").input_value()

    customer = browser.new_context(locale="en-GB").new_page()
    customer.goto(link_url)
    customer.get_by_role("link", name="Sage Accounting").click()
    customer.get_by_role("button", name="United Kingdom").click()
    expect(customer.get_by_text("browser-client")).to_be_visible()  # the sandbox's page
    customer.get_by_role("button", name="Approve").click()
    customer.get_by_label(businesses[0]["displayed_as"]).check()
    customer.get_by_role("button", name="Link this business").click()
    expect(customer.get_by_test_id("link-result")).to_have_attribute("data-result", "linked")
    customer.context.close()

    page.reload()
    expect(page.get_by_test_id("connection-status")).to_have_text("Linked")
    # The first asked Sage about the keys on Save (issue 13), the second linked.
    check, token_request = sage_sandbox.token_requests()
    assert check.form["code"].startswith("portal-credentials-check-")
    assert token_request.form["client_id"] == "browser-client"
    assert token_request.form["redirect_uri"] == f"{live_server.url}/oauth/sage/callback/"
