"""Settings › Webhooks in Chromium: add an endpoint, its secret shown once, a test event logged."""

import re

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from integrations.webhooks.models import WebhookEndpoint
from tests.common.factories import PASSWORD
from tests.e2e.csp import csp_refusals

pytestmark = pytest.mark.django_db(transaction=True)


def test_add_an_endpoint_then_send_a_test_event(
    page, context, live_server, org_a, login, webhook_receiver
):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    refused = csp_refusals(page)
    login(page, org_a.admin.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_label("Endpoint URL").fill(webhook_receiver.url)
    page.get_by_role("checkbox", name="connection.linked ·").check()
    page.get_by_role("checkbox", name="connection.unlinked ·").check()
    page.get_by_role("button", name="Add endpoint").click()

    shown = page.get_by_test_id("new-secret")
    expect(shown).to_be_visible()
    secret = page.locator("#new-secret").input_value()
    endpoint = WebhookEndpoint.objects.get(organization=org_a)
    assert secret == endpoint.signing_secret
    assert secret.startswith("whsec_")
    assert endpoint.events == ["connection.linked", "connection.unlinked"]
    shown.get_by_role("button", name="Copy").click()
    expect(shown.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_role("status")).to_contain_text("A test event was sent")
    # Shown once: the page after the redirect no longer holds the secret.
    expect(page.get_by_test_id("new-secret")).to_have_count(0)
    assert secret not in page.content()
    log = page.get_by_test_id("webhook-deliveries")
    expect(log).to_contain_text("webhook.test")
    expect(log).to_contain_text("Delivered")
    expect(log.get_by_role("cell", name=re.compile(r"^200 \d+ ms$"))).to_be_visible()

    (received,) = webhook_receiver.requests
    assert Webhook(secret).verify(received.body, received.headers)["type"] == "webhook.test"
    assert received.headers["webhook-id"] in log.inner_text()
    assert refused == []
