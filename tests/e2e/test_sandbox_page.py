"""The sandbox's authorize page in Chromium: its own CSP lets its styles apply, buttons work."""

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def authorize_url(sandbox, redirect_uri: str, **extra) -> str:
    query = {
        "response_type": "code",
        "client_id": "browser-client",
        "redirect_uri": redirect_uri,
        "scope": "full_access",
        "state": "browser-state",
        **extra,
    }
    return f"{sandbox.url}/oauth2/auth/central?{urlencode(query)}"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"filter": "apiv3.1"}, r"\?code=FR%2F[^&]+&country=FR&state=browser-state$"),
        ({}, r"\?code=[^&%]+&country=fr&state=browser-state$"),
    ],
)
def test_approve_in_the_browser(page, live_server, sage_sandbox, extra, expected):
    callback = f"{live_server.url}/sandbox-callback/"
    errors = []
    page.on("console", lambda message: errors.append(message.text))
    page.goto(authorize_url(sage_sandbox, callback, country="gb", **extra))
    expect(page.get_by_role("heading", name="Sage Accounting (sandbox)")).to_have_css(
        "color", "rgb(0, 138, 0)"
    )
    expect(page.get_by_text("browser-client")).to_be_visible()
    expect(page.get_by_label("Country")).to_have_value("GB")
    page.get_by_label("Country").select_option("FR")
    page.get_by_role("button", name="Approve").click()
    expect(page).to_have_url(re.compile(re.escape(callback) + expected))
    assert not [text for text in errors if "Content Security Policy" in text]


def test_deny_in_the_browser(page, live_server, sage_sandbox):
    callback = f"{live_server.url}/sandbox-callback/"
    page.goto(authorize_url(sage_sandbox, callback, filter="apiv3.1"))
    page.get_by_role("button", name="Deny").click()
    expect(page).to_have_url(f"{callback}?error=access_denied&state=browser-state")
