import re

import pytest
from playwright.sync_api import expect

from integrations.models import Integration
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_set_up_v31_then_enable_from_the_dialog(page, live_server, org_a, login):
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/integrations/accounting/")
    row = page.get_by_test_id("integration-sage")
    expect(row.get_by_test_id("integration-state")).to_have_text("Not configured")
    row.get_by_role("link", name="Set up").click()

    expect(page.get_by_role("heading", name="Integration settings")).to_be_visible()
    page.get_by_label(
        "Client ID and client secret only (API v3.1 - UKI, US, CA, DE, ES, FR)"
    ).check()
    # Only the chosen set's fields are shown.
    expect(page.get_by_test_id("group-3.0")).to_be_hidden()
    expect(page.get_by_test_id("group-3.1")).to_be_visible()
    page.locator("#id_v31-client_id").fill("  my-client-id ")
    page.locator("#id_v31-client_secret").fill("my-client-secret-1a2b")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Settings saved.")).to_be_visible()
    dialog = page.get_by_role("dialog", name="Enable Sage Accounting")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("masked-v31-client_secret")).to_have_text("•••• 1a2b")
    dialog.get_by_role("button", name="Enable now").click()

    expect(page.get_by_text("Sage Accounting is enabled.")).to_be_visible()
    row = page.get_by_test_id("integration-sage")
    expect(row.get_by_test_id("integration-state")).to_have_text("Enabled")
    expect(row.get_by_role("button", name="Sage Accounting enabled")).to_have_attribute(
        "aria-pressed", "true"
    )
    integration = Integration.objects.get(organization=org_a)
    assert integration.enabled
    assert integration.chosen_credential_set().client_id == "my-client-id"


def test_set_up_v30_and_later_leaves_it_disabled(page, live_server, org_a, login):
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/integrations/accounting/sage/")
    page.get_by_label(
        "Client ID, client secret, signing secret and subscription key (API v3 - UKI)"
    ).check()
    expect(page.get_by_test_id("group-3.1")).to_be_hidden()
    expect(
        page.get_by_test_id("step-2").get_by_text("Sage deprecated API v3 on 31 July 2026")
    ).to_be_visible()
    page.locator("#id_v30-client_id").fill("legacy-id")
    page.locator("#id_v30-client_secret").fill("legacy-secret")
    page.locator("#id_v30-signing_secret").fill("with space")
    page.locator("#id_v30-subscription_key").fill("sub-key")
    page.get_by_role("button", name="Save").click()
    # v3.0 for new links is confirmed in a dialog (issue 13), once.
    page.get_by_role("dialog", name="Use API v3.0 for new links?").get_by_role(
        "button", name="Use API v3.0"
    ).click()
    expect(
        page.get_by_test_id("group-3.0").get_by_text(
            "Signing secret: secure keys must not contain spaces."
        )
    ).to_be_visible()
    assert not Integration.objects.exists()

    # Secrets are never rendered back, not even after an error: type them again.
    expect(page.locator("#id_v30-subscription_key")).to_have_value("")
    page.locator("#id_v30-client_secret").fill("legacy-secret")
    page.locator("#id_v30-signing_secret").fill("signing")
    page.locator("#id_v30-subscription_key").fill("sub-key")
    page.get_by_role("button", name="Save").click()
    dialog = page.get_by_role("dialog", name="Enable Sage Accounting")
    dialog.get_by_role("button", name="Later").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("integration-state")).to_have_text("Disabled")

    # The toggle enables it from the list, without a dialog.
    page.goto(f"{live_server.url}/settings/integrations/accounting/")
    page.get_by_role("button", name="Sage Accounting enabled").click()
    expect(page.get_by_test_id("integration-state")).to_have_text("Enabled")


def test_copy_button_copies_the_callback_url(page, context, live_server, org_a, login):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/integrations/accounting/sage/")
    field = page.get_by_label("Callback URL")
    expect(field).to_have_value("http://testserver/oauth/sage/callback/")
    expect(field).to_have_attribute("readonly", "")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == (
        "http://testserver/oauth/sage/callback/"
    )


def test_the_same_pages_in_french(page, live_server, org_a, login):
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/integrations/accounting/")
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", name="Intégrations comptables")).to_be_visible()
    page.get_by_role("link", name="Configurer").click()
    expect(page.get_by_role("heading", name="Paramètres d'intégration")).to_be_visible()
    expect(page.get_by_role("group", name="Quels identifiants avez-vous ?")).to_be_visible()
    expect(
        page.get_by_text("Assurez-vous que vos clés sécurisées ne contiennent aucun espace.")
    ).to_be_visible()
    page.locator("#id_v31-client_id").fill("fr-client")
    page.locator("#id_v31-client_secret").fill("fr-secret")
    page.get_by_role("button", name="Enregistrer").click()
    dialog = page.get_by_role("dialog", name="Activer Sage Accounting")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Activer maintenant").click()
    expect(page.get_by_test_id("integration-state")).to_have_text("Activée")
    expect(page.get_by_role("link", name="Gérer")).to_be_visible()
    expect(page).to_have_url(re.compile("/settings/integrations/accounting/$"))
