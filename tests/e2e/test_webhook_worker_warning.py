"""The Webhooks page's warning when deliveries wait and no worker runs, in Chromium:
English and French, 1280 and 390 px wide (no sideways scroll). SHOTS_DIR=<dir> keeps
the screenshots."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations.webhooks.models import WebhookDelivery
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

VIEWS = [("en-GB", 1280), ("en-GB", 390), ("fr-FR", 1280), ("fr-FR", 390)]
WORDS = {"en-GB": "no task worker has been seen lately", "fr-FR": "aucun processus de tâches"}


@pytest.mark.parametrize(("locale", "width"), VIEWS)
def test_the_warning_in_both_languages_and_widths(
    browser, live_server, org_a, make_endpoint, locale, width
):
    endpoint, _ = make_endpoint(org_a, "https://93.184.215.14/hooks")
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="company.created",
        payload={},
        next_attempt_at=timezone.now() - timedelta(minutes=10),
    )
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("input[name=login]").fill(org_a.admin.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        page.goto(f"{live_server.url}/settings/webhooks/")
        warning = page.get_by_test_id("webhook-no-worker")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text(WORDS[locale])
        expect(warning).to_contain_text("manage.py db_worker")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if shots := os.environ.get("SHOTS_DIR"):
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/webhooks-no-worker-{locale[:2]}-{width}.png")
    finally:
        context.close()
