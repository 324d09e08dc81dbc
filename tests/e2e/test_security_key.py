"""In Chromium with a virtual authenticator: add a security key, then sign in with it."""

import os
import re

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from tests.common.factories import PASSWORD
from tests.e2e.csp import csp_refusals

pytestmark = pytest.mark.django_db(transaction=True)


def test_add_a_security_key_then_sign_in_with_it(page, context, live_server, org_a, login):
    refused = csp_refusals(page)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    login(page, org_a.member.email, PASSWORD)
    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/2fa/webauthn/add/"))
    page.locator("input[name=name]").fill("My key")
    page.locator("main form button").first.click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    assert Authenticator.objects.filter(
        user=org_a.member, type=Authenticator.Type.WEBAUTHN
    ).exists()
    if shots := os.environ.get("SCREENSHOTS_DIR"):
        page.goto(f"{live_server.url}/accounts/2fa/")
        page.screenshot(path=f"{shots}/two-factor-index-en-1280.png", full_page=True)

    page.locator("details.usermenu summary").click()
    page.get_by_role("button", name="Sign out").click()
    login(page, org_a.member.email, PASSWORD)
    assert "/2fa/authenticate/" in page.url
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_test_id("org-name")).to_have_text("Alpha Ltd")
    assert refused == []
