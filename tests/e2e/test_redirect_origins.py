"""Settings › Branding's allowed redirect origins in Chromium, EN and FR, wide and narrow."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(__file__).resolve().parents[3] / "shots" / "api-b"
WORDS = {
    "en": {"field": "Allowed redirect origins", "save": "Save", "refused": "is not an origin"},
    "fr": {
        "field": "Origines de redirection autorisées",
        "save": "Enregistrer",
        "refused": "n’est pas une origine",
    },
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_sets_the_origins(browser, live_server, login, org_a, language, width):
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
    page = context.new_page()
    words = WORDS[language]
    login(page, org_a.admin.email, PASSWORD)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/settings/branding/")
    field = page.get_by_label(words["field"])
    field.fill("https://app.example.com/path")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_text(words["refused"])).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SHOTS / f"branding-origins-refused-{language}-{width}.png"), full_page=True
    )
    page.get_by_label(words["field"]).fill("https://app.example.com\nhttps://b.example.org:8443")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_label(words["field"])).to_have_value(
        "https://app.example.com\nhttps://b.example.org:8443"
    )
    page.screenshot(
        path=str(SHOTS / f"branding-origins-saved-{language}-{width}.png"), full_page=True
    )
    org_a.refresh_from_db()
    assert org_a.allowed_redirect_origins == [
        "https://app.example.com",
        "https://b.example.org:8443",
    ]
    context.close()
