"""Issue 21's browser tests, shared: a page at 1280 or 390 px in English or French, signed in
without the login form (so that the French page is reached the same way), a screenshot
where `SHOTS_DIR` says, and axe-core's findings on the page."""

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
VIEWS = [(lang, size) for lang in ("en", "fr") for size in SIZES]
VIEW_IDS = [f"{lang}-{size}" for lang, size in VIEWS]
# axe-core's rules that judge our pages (best-practice rules included); none is skipped.
AXE_OPTIONS = {"resultTypes": ["violations"]}


def open_page(browser, live_server, *, lang: str, size: str, user=None):
    """A new page of its own context, reading `lang`, `size` wide, signed in as `user`."""
    context = browser.new_context(locale="en-GB", viewport=SIZES[size])
    context.set_default_timeout(10_000)
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}]
    if user is not None:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies.append(
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}
        )
    context.add_cookies(cookies)
    return context.new_page()


def shoot(page, name: str) -> None:
    """Save the whole page as SHOTS_DIR/<name>.png when SHOTS_DIR is set."""
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def axe_violations(page) -> list[str]:
    """axe-core's violations on the page as it is now: "rule: target" lines (empty: none)."""
    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']}: {node['target']}"
        for v in results.response["violations"]
        for node in v["nodes"]
    ]
