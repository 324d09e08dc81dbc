"""Issue 21 item 3 in the browser: support staff sign in and land on the admin, whose
two-factor set-up opens without asking for the password again."""

import re

import pytest
from playwright.sync_api import expect

from tests.common.factories import PASSWORD
from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_support_lands_on_the_admin_and_sets_up_two_factor_without_the_password_again(
    browser, live_server, make_user, lang, size
):
    staff = make_user(f"support-{lang}-{size}@portal.example", is_staff=True, is_superuser=True)
    page = open_page(browser, live_server, lang=lang, size=size)
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=login]").fill(staff.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()

    # The admin asks for two-factor sign-in first; its set-up page, not the password.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    expect(page.locator("input[name=password]")).to_have_count(0)
    expect(page.locator("input[name=code]")).to_be_visible()
    shoot(page, f"support-2fa-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)
