"""Issue 13 §1 and §5 in Chromium, in English and French, at 1280 and 390 px: each
company's state in the reader's words with only the actions that fit it, and a page in
the portal's layout at every dead end."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from integrations.connections.lifecycle import connection_mark_for_relink
from integrations.models import HistoryEvent
from tests.common.factories import PASSWORD
from tests.linking.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db(transaction=True)

VIEWS = [("en-GB", "en", 1280), ("en-GB", "en", 390), ("fr-FR", "fr", 1280), ("fr-FR", "fr", 390)]
REASON = "Ticket 51: the customer changed their Sage subscription."


def sign_in(page, base: str, email: str) -> None:
    """The login form in any language (found by its fields' names)."""
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def companies(org_a, sage_sandbox, setup_sage, make_company, link_connection):
    """One company in each state a reader meets most: waiting, cancelled, linked, and a
    relink support asked for, with its reason."""
    setup_sage(org_a)
    waiting = make_company(org_a, "Waiting Ltd")
    authorize_query(Client(), waiting)  # the customer went to Sage, not back yet
    cancelled = make_company(org_a, "Shy Ltd")
    browser = Client()
    browser.get(callback_path(sage_sandbox.deny(authorize_query(browser, cancelled))))
    linked = link_connection(sage_sandbox, org_a, name="Linked Ltd").company
    support = link_connection(sage_sandbox, org_a, name="Support Ltd")
    connection_mark_for_relink(
        connection=support, actor=None, reason=HistoryEvent.Reason.SUPPORT, note=REASON
    )
    return {
        "waiting": waiting,
        "cancelled": cancelled,
        "linked": linked,
        "support": support.company,
    }


@pytest.mark.parametrize(("locale", "language", "width"), VIEWS)
def test_each_state_in_the_readers_words_with_the_actions_that_fit(
    browser, live_server, org_a, companies, locale, language, width
):
    with translation.override(language):
        waiting = gettext("Waiting for the customer")
        cancelled = gettext("Customer cancelled on %(date)s").split("%(date)s")[0].strip()
        linked = gettext("Linked")
        support = gettext("Relink requested by support: %(note)s") % {"note": REASON}
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 844})
    page = context.new_page()
    sign_in(page, live_server.url, org_a.admin.email)

    page.goto(f"{live_server.url}{reverse('integrations:company_list')}")
    rows = {
        name: page.get_by_role("row").filter(has_text=name)
        for name in ("Waiting Ltd", "Shy Ltd", "Linked Ltd", "Support Ltd")
    }
    expect(rows["Waiting Ltd"]).to_contain_text(waiting)
    expect(rows["Shy Ltd"]).to_contain_text(cancelled)
    expect(rows["Linked Ltd"]).to_contain_text(linked)
    no_sideways_scroll(page, width)

    def company_page(key):
        page.goto(
            f"{live_server.url}{reverse('integrations:company_detail', args=[companies[key].pk])}"
        )
        no_sideways_scroll(page, width)
        return page.locator(
            f"a[href$='{reverse('integrations:connection_unlink', args=[companies[key].pk])}']"
        )

    assert company_page("linked").count() == 1  # linked: Unlink is offered
    # PendingAuth → Unlinked is in the transition table: offered here as by the API.
    assert company_page("waiting").count() == 1
    expect(page.get_by_text(waiting).first).to_be_visible()
    company_page("support")
    expect(page.get_by_text(support).first).to_be_visible()
    context.close()


@pytest.mark.parametrize(("locale", "language", "width"), VIEWS)
def test_every_dead_end_is_a_page_in_the_portals_layout(
    browser, live_server, org_a, make_user, locale, language, width
):
    make_user("nobody@example.com")  # signed in, but no organization
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 844})
    page = context.new_page()
    with translation.override(language):
        not_found = gettext("Page not found")
        staff_only = gettext(
            "This part is for the portal's support staff. Your account belongs to an organization: "
            "use the portal's pages."
        )

    # An unknown URL, signed out.
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(not_found)
    expect(page.locator("html")).to_have_attribute("lang", language)
    no_sideways_scroll(page, width)

    # A member at an admin action: who the admins are.
    sign_in(page, live_server.url, org_a.member.email)
    response = page.goto(f"{live_server.url}{reverse('integrations:company_create')}")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text(org_a.admin.email)
    no_sideways_scroll(page, width)

    # A client user at the support admin: told it is support's, in the portal's layout.
    response = page.goto(f"{live_server.url}/admin/")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text(staff_only)
    no_sideways_scroll(page, width)
    context.close()

    # Signed in without an organization: what to do next.
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 844})
    page = context.new_page()
    sign_in(page, live_server.url, "nobody@example.com")
    expect(page.locator("main")).to_be_visible()
    assert page.locator("main h1").count() == 1
    no_sideways_scroll(page, width)
    context.close()
