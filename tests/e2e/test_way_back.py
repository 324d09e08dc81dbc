"""The way back in Chromium: a company created through the API, linked at the sandbox, and
the browser lands on the platform's redirect URL (a receiver on loopback), while the
platform's webhook receiver hears `connection.linked`, signed."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from integrations.models import Connection
from integrations.sage.versions import ApiVersion
from tests.e2e.csp import csp_refusals

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform():
    """The platform's app on loopback: records the paths it is sent to."""
    visits: list[str] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/favicon.ico":
                visits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"<h1>Back in the platform's app</h1>")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.visits = visits
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def portal(live_server, settings, sage_sandbox):
    settings.PORTAL_BASE_URL = live_server.url
    settings.REDIRECT_URLS_ALLOW_LOOPBACK_HTTP = True  # the receiver is plain http
    return live_server


@pytest.mark.parametrize("businesses", [1, 2])
def test_linked_through_the_api_lands_on_the_platforms_redirect_url(
    browser,
    playwright_request,
    portal,
    platform,
    org_a,
    setup_sage,
    make_api_key,
    sage_sandbox,
    businesses,
    make_endpoint,
    webhook_receiver,
):
    setup_sage(org_a, version=ApiVersion.V31)
    _endpoint, secret = make_endpoint(org_a, webhook_receiver.url, events=["connection.linked"])
    sage_sandbox.set_businesses(businesses)
    key = make_api_key(org_a)[1]
    template = f"{platform.url}/sage/done?company={{companyId}}&ext={{externalId}}&s={{status}}"
    created = playwright_request.post(
        f"{portal.url}/api/v1/companies",
        headers={"Authorization": f"Api-Key {key}"},
        data={"name": "Acme Bakery", "external_id": "cust 42&x", "redirect_url": template},
    )
    assert created.status == 201, created.text()
    company = created.json()

    customer = browser.new_context(locale="en-GB").new_page()
    refused = csp_refusals(customer)
    customer.goto(company["link_url"])
    customer.get_by_role("link", name="Sage Accounting").click()
    customer.get_by_role("button", name="United Kingdom").click()
    customer.get_by_role("button", name="Approve").click()
    if businesses > 1:
        # The way back comes at the end: after the business is chosen, not before.
        expect(customer).to_have_url(f"{portal.url}/oauth/sage/business/")
        assert platform.visits == []
        customer.get_by_label(sage_sandbox.businesses[1]["displayed_as"]).check()
        customer.get_by_role("button", name="Link this business").click()

    expect(customer).to_have_url(
        f"{platform.url}/sage/done?company={company['id']}&ext=cust%2042%26x&s=linked"
    )
    expect(customer.get_by_role("heading")).to_have_text("Back in the platform's app")
    assert len(platform.visits) == 1
    query = parse_qs(urlsplit(platform.visits[0]).query)
    assert query == {"company": [str(company["id"])], "ext": ["cust 42&x"], "s": ["linked"]}
    assert refused == []
    customer.context.close()
    assert Connection.objects.get(company_id=company["id"]).status == Connection.Status.LINKED
    (hook,) = [Webhook(secret).verify(r.body, r.headers) for r in webhook_receiver.requests]
    assert hook["type"] == "connection.linked"
    assert hook["data"]["company"]["id"] == company["id"]
    assert hook["data"]["company"]["external_id"] == "cust 42&x"


@pytest.fixture
def playwright_request(browser):
    """An HTTP client for the platform's backend calls (Playwright's, over real HTTP)."""
    context = browser.new_context()
    yield context.request
    context.close()
