"""Issue 21 §4 in Chromium, in English and French, at 1280 and 390 px: one word per state on
the companies list, the company page and the API; the history names who acted; after an
unlink the business reads as "previously linked to …"."""

import os
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from integrations.connections.lifecycle import connection_unlink
from integrations.connections.states import State
from tests.e2e.test_states_and_dead_ends import VIEWS, no_sideways_scroll, sign_in
from tests.linking.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(os.environ.get("STATE_SHOTS", "/work/wt/shots/state"))


@pytest.fixture
def companies(org_a, sage_sandbox, setup_sage, make_company, link_connection):
    setup_sage(org_a)
    cancelled = make_company(org_a, "Shy Ltd")
    browser = Client()
    browser.get(callback_path(sage_sandbox.deny(authorize_query(browser, cancelled))))
    linked = link_connection(sage_sandbox, org_a, name="Linked Ltd").company
    gone = link_connection(sage_sandbox, org_a, name="Gone Ltd")
    connection_unlink(connection=gone, actor=org_a.admin)
    return {State.CANCELLED: cancelled, State.LINKED: linked, State.UNLINKED: gone.company}


@pytest.mark.parametrize(("locale", "language", "width"), VIEWS)
def test_one_word_per_state_on_the_list_the_page_and_the_api(
    browser, live_server, org_a, companies, make_api_key, locale, language, width
):
    api = Client(headers={"Authorization": f"Api-Key {make_api_key(org_a)[1]}"})
    with translation.override(language):
        words = {state: str(state.label) for state in companies}
        customer = gettext("the customer, through the link URL")
        previously = gettext("Previously linked to %(business)s.").split("%(business)s")[0]
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 844})
    page = context.new_page()
    sign_in(page, live_server.url, org_a.admin.email)

    page.goto(f"{live_server.url}{reverse('integrations:company_list')}")
    no_sideways_scroll(page, width)
    page.screenshot(path=SHOTS / f"list-{language}-{width}.png", full_page=True)
    for state, company in companies.items():
        row = page.get_by_role("row").filter(has_text=company.name)
        expect(row.locator("[data-state]")).to_have_text(words[state])
        assert api.get(f"/api/v1/companies/{company.pk}").json()["state"] == state.value
    gone_row = page.get_by_role("row").filter(has_text="Gone Ltd")
    expect(gone_row).to_contain_text(previously.strip())

    for state, company in companies.items():
        page.goto(f"{live_server.url}{reverse('integrations:company_detail', args=[company.pk])}")
        no_sideways_scroll(page, width)
        expect(page.get_by_test_id("connection-status")).to_have_text(words[state])
        history = page.get_by_test_id("history")
        if state == State.CANCELLED:
            expect(history).to_contain_text(words[state])
            expect(history).to_contain_text(customer)
        page.screenshot(
            path=SHOTS / f"company-{state.value}-{language}-{width}.png", full_page=True
        )
    expect(page.get_by_test_id("previously-linked")).to_contain_text(previously.strip())
    context.close()
