"""The company page when one of its three live reads fails: the other two are shown, and the
failed part says why, in English and French, at 1280 and 390 px (issue 19 §2)."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[3] / "shots" / "proxy"
WORDS = {
    "en": "Sage could not give us this part just now:",
    "fr": "Sage n’a pas pu nous donner cette partie pour le moment :",
}


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_one_failed_read_leaves_the_others_on_the_page(
    browser, live_server, login, sage_sandbox, org_a, link_connection, language, width
):
    connection = link_connection(sage_sandbox, org_a, name="Harbour Customer")
    sage_sandbox.fail_next("api", "status_500", times=1, path="contacts")
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        login(page, org_a.admin.email, PASSWORD)
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        path = reverse("integrations:company_detail", args=[connection.company_id])
        page.goto(f"{live_server.url}{path}")
        failed = page.get_by_test_id("live-part-error-contacts")
        expect(failed).to_be_visible()
        expect(failed).to_contain_text(WORDS[language])
        expect(page.get_by_test_id("business-name")).to_be_visible()
        expect(page.get_by_test_id("ledger-accounts-total")).to_be_visible()
        expect(page.get_by_test_id("contacts-total")).to_have_count(0)
        expect(page.get_by_test_id("live-data-error")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if SHOTS.parent.is_dir():
            SHOTS.mkdir(exist_ok=True)
            page.get_by_test_id("live-data").screenshot(
                path=str(SHOTS / f"live-data-partial-{language}-{width}.png")
            )
    finally:
        context.close()
