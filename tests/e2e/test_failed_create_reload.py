"""Issue 21 item 10 in the browser: a refused create comes back through a GET (Post/Redirect/
Get), with its errors under their fields and what was typed; a reload asks nothing, sends
no POST and shows a clean form."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from integrations.webhooks.forms import URL_REFUSALS
from integrations.webhooks.http import Refusal
from integrations.webhooks.models import WebhookEndpoint
from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot

pytestmark = pytest.mark.django_db(transaction=True)

TYPED_URL = "ftp://hooks.example/in"


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_a_refused_endpoint_then_a_reload_that_asks_nothing(
    browser, live_server, org_a, settings, lang, size
):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    with translation.override(lang):
        refusal = str(URL_REFUSALS[Refusal.NOT_HTTPS])
    page = open_page(browser, live_server, lang=lang, size=size, user=org_a.admin)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    requests: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda r: requests.append((r.method, r.url)) if r.is_navigation_request() else None,
    )
    create = f"{live_server.url}/settings/webhooks/new/"
    page.goto(create)

    page.locator("#id_url").fill(TYPED_URL)
    page.locator("input[name=events]").first.check()
    page.locator("form.card button[type=submit]").click()

    # The POST was answered with a redirect: the page the browser shows came from a GET.
    expect(page.locator("#id_url_error")).to_have_text(refusal)
    assert requests[-2:] == [("POST", create), ("GET", create)]
    assert page.url == create
    expect(page.locator("#id_url")).to_have_value(TYPED_URL)
    expect(page.locator("input[name=events]").first).to_be_checked()
    field = page.locator(".field--error")
    input_box = field.locator("input").bounding_box()
    error_box = field.locator(".errorlist").bounding_box()
    assert error_box["y"] >= input_box["y"] + input_box["height"]  # under the field
    kind = page.evaluate("performance.getEntriesByType('navigation')[0].type")
    assert kind == "navigate"
    shoot(page, f"failed-create-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)

    requests.clear()
    response = page.reload()

    # A reload of a GET: no "resend the form?" question, no POST, a clean form.
    assert response is not None
    assert response.request.method == "GET"
    assert [method for method, _ in requests] == ["GET"]
    assert dialogs == []
    expect(page.locator(".errorlist")).to_have_count(0)
    expect(page.locator("#id_url")).to_have_value("")
    assert not WebhookEndpoint.objects.exists()
    shoot(page, f"failed-create-reloaded-{lang}-{size}")
