"""Issue 21 item 5 in the browser: the platform's brand owns the customer's link pages."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot
from tests.views.test_branding import png_with_metadata, upload

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {"return": "Return to Alpha Pay", "sent": "This link was sent to you by Alpha Pay"},
    "fr": {"return": "Revenir à Alpha Pay", "sent": "Ce lien vous a été envoyé par Alpha Pay"},
}


@pytest.fixture
def branded(client, org_a, settings, live_server, sage_sandbox, setup_sage):
    settings.PORTAL_BASE_URL = live_server.url
    client.force_login(org_a.admin)
    upload(client, png_with_metadata(), "logo.png", display_name="Alpha Pay")
    client.logout()
    org_a.refresh_from_db()
    org_a.website_url = "https://alpha.example/"
    org_a.save()
    setup_sage(org_a)
    return org_a


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_the_customer_reads_the_platforms_brand_to_the_end(
    browser, live_server, sage_sandbox, branded, make_company, lang, size
):
    company = make_company(branded, "Acme Bakery")
    page = open_page(browser, live_server, lang=lang, size=size)
    page.goto(f"{live_server.url}/link/{company.link_token}/")
    expect(page.locator(".topbar")).to_have_count(0)
    expect(page.get_by_test_id("brand-logo")).to_have_attribute("alt", "Alpha Pay")
    expect(page.get_by_test_id("brand-name")).to_have_count(0)
    expect(page).to_have_title(f"{page.title().split(' · ')[0]} · Alpha Pay")
    expect(page.locator("section[data-testid=shared] li").first).to_be_visible()
    shoot(page, f"link-first-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)

    page.locator("a.platform").first.click()
    shared = page.get_by_test_id("shared")
    expect(shared).not_to_have_attribute("open", "")
    expect(shared.locator("li").first).to_be_hidden()
    shoot(page, f"link-country-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)
    page.locator("button[value=GB]").click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("link-result")).to_be_visible()
    back = page.get_by_test_id("return-to")
    expect(back).to_have_text(WORDS[lang]["return"])
    expect(back).to_have_attribute("href", "https://alpha.example/")
    shoot(page, f"link-done-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_an_expired_link_names_the_platform(
    browser, live_server, branded, make_company, lang, size
):
    company = make_company(branded, "Late Ltd")
    company.link_expires_at = timezone.now() - timedelta(days=1)
    company.save()
    page = open_page(browser, live_server, lang=lang, size=size)
    page.goto(f"{live_server.url}/link/{company.link_token}/")
    expect(page.get_by_test_id("who-sent-it")).to_contain_text(WORDS[lang]["sent"])
    expect(page.get_by_test_id("return-to")).to_have_text(WORDS[lang]["return"])
    shoot(page, f"link-expired-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)
