"""In a real browser, the Content Security Policy blocks nothing the portal or the admin needs."""

import pytest
from playwright.sync_api import expect

from integrations.models import Integration
from portal.organizations.models import Membership
from tests.common.factories import PASSWORD
from tests.e2e.csp import csp_refusals
from tests.portal.two_factor import totp_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_portal_pages_run_under_the_policy(page, live_server, org_a, login):
    refused = csp_refusals(page)
    login(page, org_a.admin.email, PASSWORD)
    for path in ["/companies/", "/settings/integrations/accounting/", "/companies/new/"]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main")).to_be_visible()
    # portal.js (a file, with the nonce) ran: the language select submits by itself.
    page.get_by_label("Language").select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert refused == []


def test_admin_works_under_the_policy(page, live_server, org_a, org_b, make_user, login):
    staff = make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    Membership.objects.create(organization=org_a, user=staff, role=Membership.Role.MEMBER)
    for org in (org_a, org_b):
        Integration.objects.create(organization=org)
    refused = csp_refusals(page)
    login(page, staff.email, PASSWORD)
    # Support staff sign in with their authenticator app's code too.
    page.locator("input[name=code]").fill(totp_code(staff.totp_secret))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/2fa/" not in url)

    page.goto(f"{live_server.url}/admin/integrations/integration/")
    expect(page.locator("input.action-select")).to_have_count(2)
    # The admin's actions.js ran: "select all" ticks every row and updates the counter.
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select:checked")).to_have_count(2)
    expect(page.locator(".action-counter")).to_contain_text("2 of 2")

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#content")).to_be_visible()
    assert refused == []
