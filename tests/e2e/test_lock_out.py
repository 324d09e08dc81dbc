"""Issue 21 item 8 in the browser: a lock-out says how long and links to password reset."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": "Too many wrong passwords. Try again in 5 minutes, or reset your password.",
    "fr": "Trop de mots de passe erronés. Réessayez dans 5 minutes, ou réinitialisez votre mot "
    "de passe.",
}


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_a_lock_out_says_how_long_and_links_to_password_reset(
    browser, live_server, org_a, lang, size
):
    page = open_page(browser, live_server, lang=lang, size=size)
    for _ in range(6):
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("input[name=login]").fill(org_a.admin.email)
        page.locator("input[name=password]").fill("wrong-password")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
    expect(page.get_by_text(WORDS[lang])).to_be_visible()
    shoot(page, f"lock-out-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)
    page.get_by_test_id("locked-out").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/reset/$"))
