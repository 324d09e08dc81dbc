"""Settings › API keys in Chromium: a key is shown once with a working copy button, then revoked."""

import pytest
from playwright.sync_api import expect

from integrations.models import OrganizationAPIKey
from tests.common.factories import PASSWORD
from tests.e2e.csp import csp_refusals

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_copy_and_revoke_a_key(page, context, live_server, org_a, login):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    refused = csp_refusals(page)
    login(page, org_a.admin.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("Production backend")
    page.get_by_role("button", name="Create key").click()

    shown = page.get_by_test_id("new-key")
    expect(shown).to_be_visible()
    key = page.locator("#new-key").input_value()
    api_key = OrganizationAPIKey.objects.get(organization=org_a)
    assert key.startswith(api_key.prefix + ".")
    shown.get_by_role("button", name="Copy").click()
    expect(shown.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key

    # Shown once: back on the list, only the prefix is left.
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_test_id("new-key")).to_have_count(0)
    expect(page.get_by_test_id("api-keys")).to_contain_text(api_key.prefix)
    assert key not in page.content()

    page.get_by_role("link", name="Revoke Production backend").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Production backend")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_test_id("api-keys")).to_contain_text("Revoked")
    assert refused == []
