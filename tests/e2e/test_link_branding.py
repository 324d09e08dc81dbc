"""The branded link pages in Chromium: logo, steps, equal flag tiles, hover and keyboard focus."""

import pytest
from playwright.sync_api import expect

from tests.common.factories import PASSWORD
from tests.e2e.csp import csp_refusals
from tests.views.test_branding import png_with_metadata

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = [390, 1280]
WORDS = {
    "en": {
        "heading": "Alpha Pay would like to connect to your Sage Accounting",
        "countries": "Countries",
        "steps": "Steps",
        "not_listed": "Your country is not listed?",
    },
    "fr": {
        "heading": "Alpha Pay souhaite se connecter à votre Sage Accounting",
        "countries": "Pays",
        "steps": "Étapes",
        "not_listed": "Votre pays ne figure pas dans la liste",
    },
}


@pytest.fixture
def branded_link(page, login, live_server, org_a, sage_sandbox, setup_sage, make_company, tmp_path):
    """Org A's branding set on its settings page in the browser; return a company's link URL."""
    setup_sage(org_a)
    logo = tmp_path / "logo.png"
    logo.write_bytes(png_with_metadata())
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/branding/")
    page.get_by_label("Display name").fill("Alpha Pay")
    page.get_by_label("Logo").set_input_files(str(logo))
    page.get_by_label("Privacy page").fill("https://alpha.example/privacy")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your branding was saved.")
    # The logo says the name (its text alternative); the name is not repeated beside it.
    expect(page.get_by_test_id("brand-preview").get_by_test_id("brand-logo")).to_have_attribute(
        "alt", "Alpha Pay"
    )
    company = make_company(org_a, "Acme Bakery")
    return f"{live_server.url}/link/{company.link_token}/"


def image_loaded(locator) -> bool:
    return locator.evaluate("img => img.complete && img.naturalWidth > 0")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_customer_sees_who_asks_and_equal_flag_tiles(browser, branded_link, width, language):
    words = WORDS[language]
    context = browser.new_context(
        locale="fr-FR" if language == "fr" else "en-GB",
        viewport={"width": width, "height": 900},
    )
    customer = context.new_page()
    refused = csp_refusals(customer)
    customer.goto(branded_link)
    expect(customer.get_by_role("heading", level=1)).to_have_text(words["heading"])
    assert image_loaded(customer.get_by_test_id("brand-logo"))
    customer.get_by_role("link", name="Sage Accounting").click()

    expect(customer.get_by_role("heading", level=1)).to_have_text(words["heading"])
    steps = customer.get_by_role("list", name=words["steps"]).get_by_role("listitem")
    expect(steps).to_have_count(3)
    expect(steps.nth(1)).to_have_attribute("aria-current", "step")
    expect(customer.get_by_test_id("unsupported")).to_contain_text(words["not_listed"])
    expect(customer.get_by_test_id("privacy-link")).to_have_attribute(
        "href", "https://alpha.example/privacy"
    )

    tiles = customer.get_by_role("list", name=words["countries"]).get_by_role("button")
    expect(tiles).to_have_count(9)
    boxes = [tiles.nth(i).bounding_box() for i in range(7)]
    assert {(round(b["width"]), round(b["height"])) for b in boxes} == {
        (round(boxes[0]["width"]), round(boxes[0]["height"]))
    }
    for i in range(7):
        assert image_loaded(tiles.nth(i).locator("img"))
    # Nothing wider than the window: no sideways scrolling at 390 px.
    assert customer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    first = tiles.nth(0)
    resting = first.evaluate("b => getComputedStyle(b).borderColor")
    first.hover()
    expect(first).not_to_have_css("border-color", resting)

    customer.mouse.move(0, 0)
    for _ in range(20):  # from the top of the page, with the keyboard only
        customer.keyboard.press("Tab")
        if first.evaluate("b => b === document.activeElement"):
            break
    expect(first).to_be_focused()
    expect(first).not_to_have_css("box-shadow", "none")
    customer.keyboard.press("Tab")
    expect(tiles.nth(1)).to_be_focused()
    expect(first).to_have_css("box-shadow", "none")
    assert refused == []  # the logo and the flags load under the page's policy
    context.close()
