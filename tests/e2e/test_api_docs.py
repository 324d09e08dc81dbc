"""The REST API's documentation page renders the schema in Chromium, under the site's CSP."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_docs_page_loads_without_csp_violations(page, live_server):
    refused, failed = [], []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.get_by_text("Integrations portal API")).to_be_visible()
    expect(page.get_by_text("/api/v1/companies/{id}/link-url")).to_be_visible()
    assert page.evaluate("document.querySelector('script[src*=swagger-ui-bundle]') !== null")
    assert refused == []
    assert failed == []
