"""Issue 13 §2 in the browser: the numbered steps, the copy button, the confirmations and
where focus goes when they close, in English and French, at 1280 and 390 px."""

import pytest
from playwright.sync_api import expect

from integrations.models import CredentialSet, Integration
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SETTINGS = "/settings/integrations/accounting/sage/"
LIST = "/settings/integrations/accounting/"
WORDS = {
    "en": {
        "heading": "Integration settings",
        "step1": "Register an app on the Sage developer portal",
        "step2": "Paste your app's keys",
        "step3": "Save and enable",
        "copy": "Copy",
        "copied": "Copied",
        "callback": "Callback URL",
        "portal": "Open the Sage developer portal",
        "v31": "Client ID and client secret only (API v3.1 - UKI, US, CA, DE, ES, FR)",
        "v30": "Client ID, client secret, signing secret and subscription key (API v3 - UKI)",
        "save": "Save",
        "v30_dialog": "Use API v3.0 for new links?",
        "use_v30": "Use API v3.0",
        "cancel": "Cancel",
        "enable_dialog": "Enable Sage Accounting",
        "later": "Later",
        "accepted": "Accepted by Sage on",
        "disable_dialog": "Disable Sage Accounting?",
        "disable": "Disable",
        "switch": "Sage Accounting enabled",
        "enable_now": "Enable now",
    },
    "fr": {
        "heading": "Paramètres d'intégration",
        "step1": "Enregistrer une application sur le portail de développement Sage",
        "step2": "Coller les clés de votre application",
        "step3": "Enregistrer et activer",
        "copy": "Copier",
        "copied": "Copié",
        "callback": "URL de rappel",
        "portal": "Ouvrir le portail de développement Sage",
        "v31": "Client ID and client secret only (API v3.1 - UKI, US, CA, DE, ES, FR)",
        "v30": "Client ID, client secret, signing secret and subscription key (API v3 - UKI)",
        "save": "Enregistrer",
        "v30_dialog": "Utiliser l'API v3.0 pour les nouvelles liaisons\u00a0?",
        "use_v30": "Utiliser l'API v3.0",
        "cancel": "Annuler",
        "enable_dialog": "Activer Sage Accounting",
        "later": "Plus tard",
        "accepted": "Acceptées par Sage le",
        "disable_dialog": "Désactiver Sage Accounting\u00a0?",
        "disable": "Désactiver",
        "switch": "Sage Accounting activé",
        "enable_now": "Activer maintenant",
    },
}
SIZES = {1280: {"width": 1280, "height": 900}, 390: {"width": 390, "height": 844}}


@pytest.fixture(params=[("en", 1280), ("en", 390), ("fr", 1280), ("fr", 390)], ids=str)
def setting(request, browser, live_server):
    language, width = request.param
    context = browser.new_context(
        locale="fr-FR" if language == "fr" else "en-GB", viewport=SIZES[width]
    )
    context.set_default_timeout(10_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    yield context.new_page(), WORDS[language], width
    context.close()


def sign_in(page, live_server, email):
    """Sign in through the login form, whatever its language."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_three_steps_v30_confirmation_and_focus(setting, live_server, org_a, sage_sandbox):
    page, words, _ = setting
    sign_in(page, live_server, org_a.admin.email)
    page.goto(f"{live_server.url}{SETTINGS}")
    expect(page.get_by_role("heading", name=words["heading"], exact=True)).to_be_visible()
    for n in (1, 2, 3):
        expect(page.get_by_test_id(f"step-{n}")).to_be_visible()
    step_1 = page.get_by_test_id("step-1")
    expect(step_1.get_by_role("heading")).to_contain_text(words["step1"])
    expect(page.get_by_test_id("step-2").get_by_role("heading")).to_contain_text(words["step2"])
    expect(page.get_by_test_id("step-3").get_by_role("heading")).to_contain_text(words["step3"])
    expect(step_1.get_by_role("link", name=words["portal"])).to_have_attribute(
        "href", "https://developerselfservice.sageone.com/session/new"
    )
    expect(step_1.get_by_label(words["callback"])).to_have_value(
        "http://testserver/oauth/sage/callback/"
    )
    step_1.get_by_role("button", name=words["copy"], exact=True).click()
    expect(step_1.get_by_role("button", name=words["copied"])).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == (
        "http://testserver/oauth/sage/callback/"
    )
    no_horizontal_scroll(page)

    # First set-up with v3.1: saved, checked with Sage, then the enable dialog; Later → Save.
    page.get_by_label(words["v31"]).check()
    page.locator("#id_v31-client_id").fill("browser-v31")
    page.locator("#id_v31-client_secret").fill("browser-secret-v31")
    page.get_by_role("button", name=words["save"], exact=True).click()
    dialog = page.get_by_role("dialog", name=words["enable_dialog"])
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("credential-card-3.1")).to_contain_text(words["accepted"])
    dialog.get_by_role("button", name=words["later"]).click()
    expect(dialog).to_be_hidden()
    # Keys saved: the steps are folded, and focus goes back to what opens them.
    expect(page.locator("#change-keys")).to_be_focused()
    expect(page.get_by_test_id("step-1")).to_be_hidden()
    page.locator("#change-keys").click()

    # v3.0 for new links: the dialog asks; Cancel leaves everything as it was.
    page.get_by_label(words["v30"]).check()
    page.locator("#id_v30-client_id").fill("browser-v30")
    page.locator("#id_v30-client_secret").fill("browser-secret-v30")
    page.locator("#id_v30-signing_secret").fill("signing-v30")
    page.locator("#id_v30-subscription_key").fill("subscription-v30")
    page.locator("#save").click()
    confirm = page.get_by_role("dialog", name=words["v30_dialog"])
    expect(confirm).to_be_visible()
    no_horizontal_scroll(page)
    confirm.get_by_role("button", name=words["cancel"]).click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#save")).to_be_focused()
    assert not CredentialSet.objects.filter(api_version="3.0").exists()

    page.locator("#save").click()
    confirm.get_by_role("button", name=words["use_v30"]).click()
    expect(page.get_by_test_id("credential-card-3.0")).to_be_visible()
    assert Integration.objects.get(organization=org_a).new_links_api_version == "3.0"
    # Both sets are cards now; v3.0 is the one used for new links.
    expect(page.get_by_test_id("credential-card-3.1")).to_be_visible()
    no_horizontal_scroll(page)


def test_disabling_asks_and_focus_returns_to_the_switch(setting, live_server, org_a, setup_sage):
    page, words, _ = setting
    setup_sage(org_a)
    sign_in(page, live_server, org_a.admin.email)
    page.goto(f"{live_server.url}{LIST}")
    switch = page.get_by_role("button", name=words["switch"])
    switch.click()
    dialog = page.get_by_role("dialog", name=words["disable_dialog"])
    expect(dialog).to_be_visible()
    no_horizontal_scroll(page)
    dialog.get_by_role("button", name=words["cancel"]).click()
    expect(dialog).to_be_hidden()
    expect(switch).to_be_focused()
    assert Integration.objects.get().enabled

    switch.click()
    dialog.get_by_role("button", name=words["disable"], exact=True).click()
    expect(page.get_by_role("button", name=words["switch"])).to_have_attribute(
        "aria-pressed", "false"
    )
    assert not Integration.objects.get().enabled


def test_keys_rejected_on_save_then_enabling_asks(page, live_server, org_a, login, sage_sandbox):
    sage_sandbox.open_registration = False  # Sage knows no such client
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}{SETTINGS}")
    page.locator("#id_v31-client_id").fill("unknown-client")
    page.locator("#id_v31-client_secret").fill("unknown-secret")
    page.get_by_role("button", name="Save", exact=True).click()

    dialog = page.get_by_role("dialog", name="Enable Sage Accounting")
    expect(dialog.get_by_test_id("enable-keys-rejected")).to_be_visible()
    dialog.get_by_role("button", name="Fix the keys").click()
    expect(page.locator("#save")).to_be_focused()
    expect(page.get_by_test_id("credential-card-3.1")).to_contain_text("Rejected by Sage on")

    page.goto(f"{live_server.url}{LIST}")
    expect(page.get_by_test_id("keys-check")).to_contain_text("Rejected by Sage on")
    page.get_by_role("button", name="Sage Accounting enabled").click()
    confirm = page.get_by_role("dialog", name="Enable Sage Accounting with rejected keys?")
    confirm.get_by_role("button", name="Enable anyway").click()
    expect(page.get_by_test_id("integration-state")).to_have_text("Enabled · keys rejected")


def test_the_relink_box_appears_when_the_client_id_changes(
    page, live_server, org_a, login, setup_sage, make_company, make_connection
):
    _, credential_set = setup_sage(org_a)
    make_connection(make_company(org_a), credential_set)
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}{SETTINGS}")
    page.locator("#change-keys").click()  # keys saved: the steps are folded
    box = page.get_by_test_id("relink-box")
    expect(box).to_be_hidden()
    page.locator("#id_v31-client_id").fill("a-new-client-id")
    expect(box).to_be_visible()
    page.locator("#id_v31-client_id").fill(credential_set.client_id)
    expect(box).to_be_hidden()


def test_errors_listed_at_the_top_take_focus(page, live_server, org_a, login):
    login(page, org_a.admin.email, PASSWORD)
    page.goto(f"{live_server.url}{SETTINGS}")
    page.locator("#id_v31-client_id").fill("has space")
    page.locator("#id_v31-client_secret").fill("typed-secret")
    page.get_by_role("button", name="Save", exact=True).click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link").first.click()
    expect(page.locator("#id_v31-client_id")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("reenter-v31-client_secret")).to_be_visible()


def test_a_new_organization_lands_on_its_checklist(setting, live_server, org_a):
    page, _, _ = setting
    sign_in(page, live_server, org_a.admin.email)
    checklist = page.get_by_test_id("setup-checklist")
    expect(checklist).to_be_visible()
    no_horizontal_scroll(page)
    checklist.get_by_role("link").first.click()
    expect(page.get_by_test_id("step-1")).to_be_visible()
