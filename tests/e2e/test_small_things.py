"""Issue 21 item 10 in the browser: errors under their field, a favicon, Sign out in the
menu's own style on a phone."""

import pytest
from playwright.sync_api import expect

from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_an_error_sits_under_its_field_and_the_menu_reads_as_one(
    browser, live_server, org_a, lang, size
):
    page = open_page(browser, live_server, lang=lang, size=size, user=org_a.admin)
    page.goto(f"{live_server.url}/settings/api-keys/")
    page.locator("form.card button[type=submit]").first.click()
    field = page.locator(".field--error")
    expect(field).to_have_count(1)
    input_box = field.locator("input").bounding_box()
    error_box = field.locator(".errorlist").bounding_box()
    assert error_box["y"] >= input_box["y"] + input_box["height"]  # under the field
    shoot(page, f"field-error-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)

    favicon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{live_server.url}{favicon}").status == 200

    if size == "phone":
        page.locator(".usermenu summary").click()
        panel = page.locator(".usermenu__panel")
        link_size = panel.locator("a").first.evaluate("e => getComputedStyle(e).fontSize")
        button = panel.locator("button.linkbutton")
        assert button.evaluate("e => getComputedStyle(e).fontSize") == link_size
        assert button.evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"
        shoot(page, f"usermenu-{lang}-{size}")
