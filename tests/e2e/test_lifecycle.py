"""In the browser: a linked company's live Sage data, and "Check credentials"."""

import pytest
from playwright.sync_api import expect

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_company_page_shows_live_chart_of_accounts_and_contacts(
    page, live_server, sage_sandbox, org_a, login, link_connection
):
    connection = link_connection(sage_sandbox, org_a, name="Harbour Customer")
    business = sage_sandbox.businesses[0]
    ledger = sage_sandbox.items(business, "ledger_accounts")
    contacts = sage_sandbox.items(business, "contacts")

    login(page, org_a.member.email, PASSWORD)
    page.goto(f"{live_server.url}/companies/{connection.company.pk}/")

    live = page.get_by_test_id("live-data")
    expect(live.get_by_test_id("business-name")).to_have_text(business["name"])
    expect(live.get_by_test_id("ledger-accounts")).to_contain_text(ledger[0]["name"])
    expect(live.get_by_test_id("ledger-accounts-total")).to_contain_text(f"of {len(ledger)}")
    expect(live.get_by_test_id("contacts")).to_contain_text(contacts[0]["name"])
    expect(live.get_by_test_id("contacts-total")).to_contain_text(f"of {len(contacts)}")


def test_revoked_company_shows_a_relink_prompt(
    page, live_server, sage_sandbox, org_a, login, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.revoke_all()
    sage_sandbox.expire_access_tokens()
    connection.access_token_expires_at = None
    connection.save()

    login(page, org_a.member.email, PASSWORD)
    page.goto(f"{live_server.url}/companies/{connection.company.pk}/")

    expect(page.get_by_test_id("relink-prompt")).to_contain_text(
        "This company must link its Sage business again."
    )


def test_check_credentials_says_sage_accepted_them(
    page, live_server, sage_sandbox, org_a, login, make_credential_set, make_integration
):
    make_credential_set(make_integration(org_a), sage_sandbox)

    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/integrations/accounting/sage/")
    page.get_by_role("button", name="Check credentials").click()

    expect(page.get_by_text("Sage accepted this client ID and secret.")).to_be_visible()
    assert [r.route for r in sage_sandbox.requests] == ["token"]
