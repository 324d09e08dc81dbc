"""Issue 21 item 9 in the browser: a retry and a refused connection in words."""

import pytest
from playwright.sync_api import expect

from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {"retry": "Retrying (attempt 2 of 7)", "error": "Could not connect"},
    "fr": {"retry": "Nouvel essai (tentative 2 sur 7)", "error": "Connexion impossible"},
}


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_the_delivery_log_says_what_happens_in_words(
    browser, live_server, org_a, make_endpoint, settings, lang, size
):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True
    endpoint, _ = make_endpoint(org_a, "http://127.0.0.1:9/hooks")  # nothing listens on 9
    page = open_page(browser, live_server, lang=lang, size=size, user=org_a.admin)
    page.goto(f"{live_server.url}/settings/webhooks/{endpoint.pk}/")
    page.locator("form[action$='/test/'] button").click()
    log = page.get_by_test_id("webhook-deliveries")
    expect(log).to_contain_text(WORDS[lang]["retry"])
    expect(log).to_contain_text(WORDS[lang]["error"])
    expect(log).not_to_contain_text("connection_error")
    shoot(page, f"webhook-words-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)
