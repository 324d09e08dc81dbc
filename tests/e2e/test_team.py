"""In Chromium, in English and French, wide and narrow: an admin invites a colleague who
sets a password and signs in; a member turns on two-factor sign-in and signs in with a code.

With SCREENSHOTS_DIR set, the pages are saved there as PNG files.
"""

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from portal.organizations.models import Membership
from tests.common.factories import PASSWORD
from tests.e2e.csp import csp_refusals
from tests.portal.two_factor import totp_code, wrong_code

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-long-unusual-passphrase-77"
SHOTS = os.environ.get("SCREENSHOTS_DIR", "")
CASES = [("en", 1280), ("en", 390), ("fr", 1280), ("fr", 390)]


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


@pytest.fixture(params=CASES, ids=[f"{lang}-{width}" for lang, width in CASES])
def case(request, browser):
    language, width = request.param
    contexts = []

    def new_page():
        context = browser.new_context(
            locale="fr-FR" if language == "fr" else "en-GB",
            viewport={"width": width, "height": 900},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield language, width, new_page
    for context in contexts:
        context.close()


def _shot(page, language, width, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}-{language}-{width}.png", full_page=True)


def _sign_in(page, url, language, email, password):
    page.goto(f"{url}/accounts/login/")
    page.get_by_label(_t(language, "Email")).fill(email)
    page.get_by_label(_t(language, "Password")).fill(password)
    page.get_by_role("button", name=_t(language, "Sign In")).click()
    page.wait_for_url(lambda u: "/accounts/login/" not in u)


def _sign_out(page, language):
    page.locator("details.usermenu summary").click()
    page.get_by_role("button", name=_t(language, "Sign out")).click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_invite_then_the_invitee_sets_a_password_and_signs_in(case, live_server, org_a):
    language, width, new_page = case
    url = live_server.url
    admin = new_page()
    _sign_in(admin, url, language, org_a.admin.email, PASSWORD)
    admin.goto(f"{url}/settings/team/")
    admin.get_by_label(_t(language, "Email"), exact=True).fill("newcomer@alpha.example")
    admin.get_by_label(_t(language, "Role"), exact=True).select_option("admin")
    admin.get_by_role("button", name=_t(language, "Send invitation")).click()
    expect(admin.locator(".messages")).to_contain_text("newcomer@alpha.example")
    expect(admin.get_by_test_id("team-invitations")).to_contain_text("newcomer@alpha.example")
    _shot(admin, language, width, "team-admin")

    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)
    invitee = new_page()
    invitee.goto(url + "/" + link.split("/", 3)[3])
    # The token is gone from the address bar.
    assert invitee.url.endswith("/invitations/accept/")
    expect(invitee.get_by_test_id("invitation-summary")).to_contain_text("newcomer@alpha.example")
    _shot(invitee, language, width, "invitation-accept")
    invitee.get_by_role("link", name=_t(language, "Set a password")).click()
    expect(invitee.locator("input[name=email]")).to_have_value("newcomer@alpha.example")
    invitee.locator("input[name=password1]").fill(NEW_PASSWORD)
    invitee.locator("input[name=password2]").fill(NEW_PASSWORD)
    _shot(invitee, language, width, "invitation-signup")
    invitee.locator("main form button[type=submit]").click()
    expect(invitee.get_by_test_id("org-name")).to_have_text("Alpha Ltd")
    assert Membership.objects.get(user__email="newcomer@alpha.example").is_admin

    # The link works once; the new password signs in.
    _sign_out(invitee, language)
    invitee.goto(url + "/" + link.split("/", 3)[3])
    expect(invitee.get_by_test_id("invitation-unusable")).to_be_visible()
    _shot(invitee, language, width, "invitation-used")
    _sign_in(invitee, url, language, "newcomer@alpha.example", NEW_PASSWORD)
    expect(invitee.get_by_test_id("org-name")).to_have_text("Alpha Ltd")


def test_turn_on_two_factor_then_sign_in_with_a_code(case, live_server, org_a):
    language, width, new_page = case
    url = live_server.url
    page = new_page()
    refused = csp_refusals(page)
    _sign_in(page, url, language, org_a.member.email, PASSWORD)
    page.locator("details.usermenu summary").click()
    page.get_by_role("link", name=_t(language, "Two-factor sign-in")).click()
    page.locator("main").get_by_role("link", name=_t(language, "Activate")).first.click()
    # allauth asks for the password again before a security change.
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    secret = page.locator("#authenticator_secret").input_value()
    _shot(page, language, width, "totp-activate")
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/2fa/recovery-codes/"))
    _shot(page, language, width, "totp-recovery-codes")

    _sign_out(page, language)
    _sign_in(page, url, language, org_a.member.email, PASSWORD)
    assert "/2fa/authenticate/" in page.url
    page.locator("input[name=code]").fill(wrong_code(secret))
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".errorlist")).to_be_visible()
    _shot(page, language, width, "totp-wrong-code")
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_test_id("org-name")).to_have_text("Alpha Ltd")
    # The QR code (a data: image) and allauth's pages need nothing the policy refuses.
    assert refused == []
