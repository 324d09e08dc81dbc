"""Issue 21 item 7 in the browser: Unlink at the end of the Connection card, View data in
the company's header; the settings page's steps folded once keys are saved, its history paged."""

import pytest
from playwright.sync_api import expect

from integrations.audit.history import history_record
from integrations.models import HistoryEvent
from tests.e2e.pages21 import VIEW_IDS, VIEWS, axe_violations, open_page, shoot

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {"unlink": "Unlink", "view": "View data", "change": "Change keys"},
    "fr": {"unlink": "Délier", "view": "Voir les données", "change": "Modifier les clés"},
}


@pytest.mark.parametrize(("lang", "size"), VIEWS, ids=VIEW_IDS)
def test_unlink_sits_in_the_connection_card_and_the_settings_steps_fold(
    browser, live_server, sage_sandbox, org_a, link_connection, lang, size
):
    connection = link_connection(sage_sandbox, org_a)
    page = open_page(browser, live_server, lang=lang, size=size, user=org_a.admin)
    page.goto(f"{live_server.url}/companies/{connection.company_id}/")
    head = page.get_by_test_id("company-head")
    expect(head.get_by_role("link", name=WORDS[lang]["unlink"])).to_have_count(0)
    expect(head.get_by_test_id("view-data")).to_have_text(WORDS[lang]["view"])
    zone = page.get_by_test_id("unlink-zone")
    expect(zone.get_by_role("link", name=WORDS[lang]["unlink"])).to_be_visible()
    shoot(page, f"company-actions-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)
    head.get_by_test_id("view-data").click()
    expect(page.get_by_test_id("live-data")).to_be_in_viewport()

    for _ in range(25):
        history_record(
            organization=org_a,
            kind=HistoryEvent.Kind.CREDENTIALS_CHECKED,
            integration=connection.integration,
            details={"api_version": "3.1", "result": "accepted"},
        )
    page.goto(f"{live_server.url}/settings/integrations/accounting/sage/")
    expect(page.get_by_test_id("step-1")).to_be_hidden()
    expect(page.locator("ul[data-testid=history] > li")).to_have_count(20)
    expect(page.locator("a[rel=next]")).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    shoot(page, f"settings-folded-{lang}-{size}")
    assert axe_violations(page) == [], axe_violations(page)
    # Folded, with the sync schedule card (issue 19): was 4,200 and 2,800 px unfolded.
    assert height < (3000 if size == "phone" else 2300), height
    page.get_by_text(WORDS[lang]["change"], exact=True).click()
    expect(page.get_by_test_id("step-1")).to_be_visible()
