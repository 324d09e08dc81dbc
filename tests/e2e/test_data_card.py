"""The company page's Data card in Chromium, in English and French, at 1280 and 390 px: an
admin syncs a linked company now (the sandbox serves its records), the card shows each
type's count and last sync; while a sync runs, a progress bar, and the card reloads itself
(static/portal/poll.js, under the CSP) until the sync ends, with its error in words.

With SCREENSHOTS_DIR set, the card's states are saved there as PNG files.
"""

import os
import re
from pathlib import Path

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from integrations.sync.models import SyncedRecord, SyncRun
from tests.common.factories import PASSWORD
from tests.e2e.csp import csp_refusals

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("SCREENSHOTS_DIR", "")
CASES = [("en", 1280), ("en", 390), ("fr", 1280), ("fr", 390)]


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def _shot(page, language, width, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        card = page.get_by_test_id("data-card")
        card.scroll_into_view_if_needed()
        card.screenshot(path=f"{SHOTS}/{name}-{language}-{width}.png")
        page.screenshot(path=f"{SHOTS}/{name}-page-{language}-{width}.png", full_page=True)


@pytest.mark.parametrize(("language", "width"), CASES, ids=[f"{lang}-{w}" for lang, w in CASES])
def test_sync_now_then_a_running_sync_then_its_error(
    browser, live_server, login, sage_sandbox, org_a, link_connection, language, width
):
    connection = link_connection(sage_sandbox, org_a, name="Harbour Customer")
    # Signed in in English, then the page's language by its cookie (as the switch sets it).
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = csp_refusals(page)
    login(page, org_a.admin.email, PASSWORD)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/companies/{connection.company.pk}/")

    card = page.get_by_test_id("data-card")
    expect(card.get_by_role("heading", name=_t(language, "Synced data"))).to_be_visible()
    expect(card.get_by_test_id("data-type-contacts")).to_contain_text(_t(language, "Never"))

    # Sync now: the tests' task backend runs the sync as the request commits, at the sandbox.
    card.get_by_role("button", name=_t(language, "Sync now")).click()
    expect(page).to_have_url(re.compile(r"#data$"))
    contacts = SyncedRecord.objects.filter(connection=connection, data_type="contacts").count()
    assert contacts > 0
    row = page.get_by_test_id("data-type-contacts")
    expect(row).to_contain_text(str(contacts))
    expect(row.locator("time")).to_be_visible()
    expect(
        page.get_by_text(_t(language, "Sync started. The Data card shows its progress."))
    ).to_be_visible()
    _shot(page, language, width, "data-card-synced")

    # A sync running (as a worker leaves it): a progress bar, and the card reloads itself.
    run = SyncRun.objects.create(
        connection=connection,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.RUNNING,
        started_at=timezone.now(),
    )
    page.goto(f"{live_server.url}/companies/{connection.company.pk}/")
    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("value", "0")
    expect(page.get_by_role("button", name=_t(language, "Sync now"))).to_be_disabled()
    _shot(page, language, width, "data-card-running")

    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error_code="sage",
        error="Sage answered 500",
    )
    error = page.get_by_test_id("sync-error")  # no reload: the card fetched itself
    expect(error).to_contain_text(
        _t(language, "Sage answered with an error. The next sync tries again.")
    )
    expect(progress).to_be_hidden()
    expect(page.get_by_role("button", name=_t(language, "Sync now"))).to_be_enabled()
    _shot(page, language, width, "data-card-failed")

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert refused == []
    context.close()


@pytest.mark.parametrize(("language", "width"), CASES, ids=[f"{lang}-{w}" for lang, w in CASES])
def test_an_admin_sets_the_sync_schedule(
    browser, live_server, login, org_a, setup_sage, language, width
):
    integration, _ = setup_sage(org_a)
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = csp_refusals(page)
    login(page, org_a.admin.email, PASSWORD)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/settings/integrations/accounting/sage/")

    section = page.get_by_test_id("sync-schedule")
    schedule = section.get_by_label(_t(language, "Sync the linked companies' data"))
    expect(schedule).to_have_value("60")
    schedule.select_option(label=_t(language, "Every 15 minutes"))
    section.get_by_role("button", name=_t(language, "Save schedule")).click()

    expect(page.get_by_text(_t(language, "Sync schedule saved."))).to_be_visible()
    expect(page.get_by_test_id("sync-schedule").get_by_role("combobox")).to_have_value("15")
    history = page.get_by_test_id("history")
    expect(history).to_contain_text(_t(language, "Sync schedule changed"))
    expect(history).to_contain_text(_t(language, "Every 15 minutes"))
    integration.refresh_from_db()
    assert integration.sync_interval == 15
    if SHOTS:
        page.get_by_test_id("sync-schedule").scroll_into_view_if_needed()
        page.screenshot(path=f"{SHOTS}/sync-schedule-{language}-{width}.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert refused == []
    context.close()
