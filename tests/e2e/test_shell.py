import re

import pytest
from playwright.sync_api import expect

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_switch_to_french_and_see_the_navigation_in_french(page, live_server, org_a, login):
    login(page, org_a.admin.email, PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Companies")).to_be_visible()
    expect(page.get_by_test_id("org-name")).to_have_text("Alpha Ltd")

    page.get_by_label("Language").select_option("fr")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    nav = page.get_by_role("navigation", name="Principal")
    expect(nav.get_by_role("link", name="Entreprises")).to_be_visible()
    expect(nav.get_by_role("link", name="Comptabilité")).to_be_visible()
    expect(nav).to_contain_text(re.compile("Paramètres"))

    page.get_by_text(org_a.admin.email).click()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile("/accounts/login/"))
