"""In the browser: support asks a relink with a reason; the organization reads it."""

import pytest
from playwright.sync_api import expect

from integrations.models import Connection
from tests.common.factories import PASSWORD
from tests.portal.two_factor import totp_code

pytestmark = pytest.mark.django_db(transaction=True)
REASON = "Ticket 4411: the customer moved to a new Sage subscription."


def sign_in(page, base: str, email: str, totp_secret: str = "") -> None:
    """The login form in any language (found by its fields' names), then the
    authenticator app's code when the account has one (staff do)."""
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    if totp_secret:
        page.locator("input[name=code]").fill(totp_code(totp_secret))
        page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/" not in url)


@pytest.mark.parametrize(
    ("locale", "width", "words"),
    [
        ("en-GB", 1280, f"Relink requested by support: {REASON}"),
        ("fr-FR", 390, f"Nouvelle liaison demandée par le support\u00a0: {REASON}"),
    ],
)
def test_support_asks_a_relink_with_a_reason_the_organization_reads(
    browser, live_server, sage_sandbox, org_a, make_user, link_connection, locale, width, words
):
    connection = link_connection(sage_sandbox, org_a, name="Harbour Customer")
    staff = make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    support = browser.new_context(locale=locale, viewport={"width": width, "height": 844})
    page = support.new_page()
    sign_in(page, live_server.url, "support@portal.example", staff.totp_secret)

    page.goto(f"{live_server.url}/admin/integrations/connection/{connection.pk}/change/")
    page.get_by_test_id("support-action").click()
    page.locator("input[type=submit]").click()  # no reason
    expect(page.locator(".errorlist")).to_be_visible()
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.LINKED
    page.locator("input[name=reason]").fill(REASON)
    page.locator("input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("1")
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.DEAUTHORIZED
    support.close()

    organization = browser.new_context(locale=locale, viewport={"width": width, "height": 844})
    page = organization.new_page()
    sign_in(page, live_server.url, org_a.admin.email)
    page.goto(f"{live_server.url}/companies/{connection.company.pk}/")
    expect(page.get_by_test_id("connection-state")).to_have_text(words)
    organization.close()
