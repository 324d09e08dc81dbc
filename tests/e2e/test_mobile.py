"""At 390 px, in English and French (issue 13 §6): a real menu, lists as cards, nothing wider
than the screen; and the confirmation before a link URL is renewed."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.utils.formats import date_format
from playwright.sync_api import expect

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
WORDS = {
    "en": {"menu": "Menu", "main": "Main", "accounting": "Accounting", "companies": "Companies"},
    "fr": {
        "menu": "Menu",
        "main": "Principal",
        "accounting": "Comptabilité",
        "companies": "Entreprises",
    },
}


@pytest.fixture
def phone(browser, live_server, login):
    """Return a function: a 390 px wide page, signed in as `user`, reading `language`."""
    contexts = []

    def open_page(user, language: str):
        context = browser.new_context(locale="en-GB", viewport=PHONE)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        login(page, user.email, PASSWORD)
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        return page

    yield open_page
    for context in contexts:
        context.close()


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_menu_opens_and_its_links_work(phone, live_server, org_a, language):
    words = WORDS[language]
    page = phone(org_a.admin, language)
    page.goto(f"{live_server.url}/companies/")
    nav = page.get_by_role("navigation", name=words["main"])
    menu = page.get_by_role("button", name=words["menu"])

    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    nav.get_by_role("link", name=words["accounting"]).click()

    expect(page).to_have_url(re.compile("/settings/integrations/accounting/$"))
    expect(nav).to_be_hidden()  # a new page starts with the menu closed
    menu.click()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_pages_fit_the_phone_and_lists_are_cards(
    phone, live_server, sage_sandbox, org_a, link_connection, make_company, language
):
    connection = link_connection(sage_sandbox, org_a, name="Harbour Customer")
    make_company(org_a, "An Extraordinarily Long Company Name Limited Liability Partnership")
    page = phone(org_a.admin, language)

    page.goto(f"{live_server.url}/companies/")
    row = page.get_by_test_id("companies").locator("tbody tr").first
    expect(row).to_have_css("flex-direction", "column")  # a card, not a table row
    expect(page.get_by_test_id("companies").locator("thead")).to_have_css("position", "absolute")
    assert page_width(page) <= PHONE["width"]

    page.goto(f"{live_server.url}/companies/{connection.company_id}/")
    expect(page.get_by_test_id("live-data")).to_be_visible()
    expect(page.get_by_test_id("connection-status")).to_be_visible()
    assert page_width(page) <= PHONE["width"]

    page.goto(f"{live_server.url}/settings/integrations/accounting/")
    expect(page.get_by_test_id("integration-sage")).to_be_visible()
    assert page_width(page) <= PHONE["width"]


def test_renewing_the_link_url_asks_first_and_gives_focus_back(
    page, live_server, org_a, login, make_company
):
    company = make_company(org_a, "Renewal Ltd")
    old = company.link_token
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/companies/{company.pk}/")
    renew = page.get_by_test_id("link-card").get_by_role("button", name="Renew link URL")
    dialog = page.get_by_test_id("renew-dialog")

    renew.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("stops working at once")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(renew).to_be_focused()
    company.refresh_from_db()
    assert company.link_token == old

    renew.click()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(renew).to_be_focused()

    renew.click()
    dialog.get_by_role("button", name="Renew link URL").click()
    expect(page.get_by_role("status")).to_contain_text("the old one no longer works.")
    company.refresh_from_db()
    assert company.link_token != old


def test_the_link_card_folds_once_linked(
    page, live_server, sage_sandbox, org_a, login, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/companies/{connection.company_id}/")
    link_url = page.locator("#link-url")

    expect(link_url).to_be_hidden()
    page.get_by_test_id("link-card").locator("summary").click()
    expect(link_url).to_be_visible()
    expect(link_url).to_have_value(re.compile(connection.company.link_token))


def test_times_are_shown_on_the_readers_clock(
    browser, live_server, sage_sandbox, org_a, login, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    paris = ZoneInfo("Europe/Paris")
    expected = date_format(connection.last_refreshed_at.astimezone(paris), "DATETIME_FORMAT")
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris")
    page = context.new_page()
    login(page, org_a.admin.email, PASSWORD)  # the first page tells the server the zone

    page.goto(f"{live_server.url}/companies/{connection.company_id}/")

    expect(page.get_by_test_id("company-head")).to_contain_text(expected)
    context.close()
