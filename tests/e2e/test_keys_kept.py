"""Issue 21 item 1 in the browser: a typo in new keys never breaks the keys in use."""

import pytest
from playwright.sync_api import expect

from integrations.models import Connection, CredentialSet
from tests.common.factories import CLIENT_ID, CLIENT_SECRET
from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {"kept": "your previous keys are still in use", "badge": "Enabled · keys rejected"},
    "fr": {"kept": "vos clés précédentes restent utilisées", "badge": "Activée · clés refusées"},
}


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_rejected_new_keys_keep_the_keys_in_use_then_save_anyway_turns_the_badge_amber(
    browser, live_server, sage_sandbox, org_a, setup_sage, make_company, link, lang, size
):
    _, credential_set = setup_sage(org_a)
    sage_sandbox.register_client(credential_set.client_id, CLIENT_SECRET)
    page = open_page(browser, live_server, lang=lang, size=size, user=org_a.admin)
    page.goto(f"{live_server.url}/settings/integrations/accounting/sage/")
    page.locator("#change-keys").click()  # the steps are folded once keys are saved
    page.locator("#id_v31-client_id").fill(CLIENT_ID["3.1"])
    page.locator("#id_v31-client_secret").fill("a-typo-in-the-secret")
    page.locator("#save").click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text(WORDS[lang]["kept"])
    expect(page.locator(".messages, [data-testid=messages]")).to_have_count(0)
    shoot(page, f"keys-kept-{lang}-{size}")
    assert axe_violations(page) == []
    assert CredentialSet.objects.get(pk=credential_set.pk).client_secret == CLIENT_SECRET
    # A customer who links now still succeeds with the keys in use.
    assert link(sage_sandbox, make_company(org_a)).status == Connection.Status.LINKED

    page.locator("#id_v31-client_secret").fill("a-typo-in-the-secret")
    page.get_by_test_id("rejected-box").locator("input").check()
    page.locator("#save").click()
    expect(page.get_by_test_id("integration-state")).to_have_text(WORDS[lang]["badge"])
    page.goto(f"{live_server.url}/settings/integrations/accounting/")
    expect(page.get_by_test_id("integration-state")).to_have_text(WORDS[lang]["badge"])
    shoot(page, f"keys-rejected-badge-{lang}-{size}")
    assert axe_violations(page) == []
