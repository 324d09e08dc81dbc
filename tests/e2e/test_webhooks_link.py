"""In Chromium: a company created through the API links at the sandbox, and the platform's
receiver hears `company.created` then `connection.linked`, both signed."""

import json

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from integrations.sage.versions import ApiVersion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(live_server, settings, sage_sandbox):
    settings.PORTAL_BASE_URL = live_server.url
    return live_server


def test_the_receiver_hears_about_the_link(
    browser,
    portal,
    org_a,
    sage_sandbox,
    setup_sage,
    make_api_key,
    api_client,
    make_endpoint,
    webhook_receiver,
):
    setup_sage(org_a, version=ApiVersion.V31)
    _endpoint, secret = make_endpoint(
        org_a, webhook_receiver.url, events=["company.created", "connection.linked"]
    )
    _api_key, key = make_api_key(org_a)
    response = api_client(key).post(
        "/api/v1/companies",
        {"name": "Acme Bakery", "external_id": "cus_42"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    company = response.json()

    customer = browser.new_context(locale="en-GB").new_page()
    customer.goto(company["link_url"])
    customer.get_by_role("link", name="Sage Accounting").click()
    customer.get_by_role("list", name="Countries").get_by_role(
        "button", name="United Kingdom"
    ).click()
    customer.get_by_role("button", name="Approve").click()
    expect(customer.get_by_test_id("link-result")).to_contain_text("is now linked")
    customer.context.close()

    events = [Webhook(secret).verify(r.body, r.headers) for r in webhook_receiver.requests]
    assert [e["type"] for e in events] == ["company.created", "connection.linked"]
    linked = events[1]["data"]
    # Described as the REST API describes it, without the customer's bearer link.
    described = linked["company"]
    assert {k: described[k] for k in ("id", "external_id", "name")} == {
        "id": company["id"],
        "external_id": "cus_42",
        "name": "Acme Bakery",
    }
    assert described["connection_status"] == "Linked"
    assert "link_url" not in described
    assert set(described) <= set(company)
    assert linked["connection"]["status"] == "Linked"
    assert linked["connection"]["country"] == "GB"
    assert "token" not in json.dumps(linked)
    ids = [r.headers["webhook-id"] for r in webhook_receiver.requests]
    assert len(set(ids)) == 2
