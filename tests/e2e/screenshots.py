"""`make screenshots`: the README's pictures, from the current code, in Chromium.

A throwaway portal (temporary SQLite database and settings, the Sage sandbox on, a free
port, `runserver` as `make run` starts it) with the demo organization; Playwright walks
the journey a newcomer makes: Sage settings, the enable dialog after Save, the
customer's link page, then the company page once linked. Each step is taken at 1280
and 390 px wide into docs/screenshots/. Pages are found by URL, role and label, so
that a restyled page still works.
"""

import base64
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
WIDTHS = {"desktop": (1280, 800), "mobile": (390, 844)}
TALLEST = 2.2  # a page is cut at this many screen heights (the company's live data is long)
ADMIN = "admin@demo.example"
COMPANY = "Acme Bakery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def portal_env(tmp: Path, port: int) -> dict[str, str]:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return {
        **os.environ,
        "DJANGO_ENV_FILE": "",  # not the developer's .env
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": key,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "SAGE_SANDBOX": "1",
        "DEMO_ADMIN_PASSWORD": secrets.token_urlsafe(12),
    }


def manage(env: dict[str, str], *args: str, quiet: bool = False) -> None:
    out = subprocess.DEVNULL if quiet else None
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=out)


def wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    for _ in range(150):
        if server.poll() is not None:
            sys.exit(f"The portal stopped:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"The portal did not answer at {url}:\n{log.read_text()[-2000:]}")


def shoot(page: Page, name: str, *, whole: bool = True) -> None:
    """`name`-desktop.png and `name`-mobile.png of the page as it is now.

    `whole`: the page down to TALLEST screens; else the screen only (a modal dialog).
    """
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for size, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # a relayout, and any transition, settle
        path = OUT / f"{name}-{size}.png"
        if whole:
            full = page.evaluate("document.documentElement.scrollHeight")
            clip = {"x": 0, "y": 0, "width": width, "height": min(full, int(height * TALLEST))}
            page.screenshot(path=path, full_page=True, clip=clip)
        else:
            page.screenshot(path=path)
        smaller(path)
        print(f"  {path}")
    page.set_viewport_size({"width": WIDTHS["desktop"][0], "height": WIDTHS["desktop"][1]})


def smaller(path: Path) -> None:
    """Down to 256 colours: a page's flat colours survive, the file is a third the size."""
    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


def visible(locator):
    return locator.filter(visible=True).first


def sign_in(page: Page, base: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=False).click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def settings_and_dialog(page: Page, base: str) -> None:
    page.goto(f"{base}/settings/integrations/accounting/sage/")
    v31 = page.get_by_role("radio", name=re.compile(r"v3\.1"))
    if v31.count():
        v31.first.check()
    visible(page.get_by_label("Client ID", exact=True)).fill("demo-client-id")
    visible(page.get_by_label("Client secret", exact=True)).fill("demo-client-secret-1a2b")
    shoot(page, "settings")
    visible(page.get_by_role("button", name="Save", exact=True)).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    shoot(page, "enable-dialog", whole=False)
    dialog.get_by_role("button", name="Enable now").click()
    page.wait_for_load_state()


def create_company(page: Page, base: str) -> tuple[str, str]:
    """Create the company; return its page's URL and its link URL."""
    page.goto(f"{base}/companies/new/")
    page.get_by_label("Company name").fill(COMPANY)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(COMPANY)
    return page.url, page.get_by_role("textbox", name="Link URL").input_value()


def customer_links(customer: Page, link_url: str) -> None:
    customer.goto(link_url)
    shoot(customer, "link-page")
    customer.get_by_role("link", name=re.compile("Sage Accounting")).click()
    customer.get_by_role("button", name=re.compile("United Kingdom")).click()
    customer.get_by_role("button", name="Approve").click()
    customer.wait_for_url(re.compile(r"/oauth/sage/done/"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="portal-screenshots-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = portal_env(tmp, port)
        manage(env, "migrate", "--verbosity", "0")
        manage(env, "create_demo", quiet=True)
        log = tmp / "server.log"
        with log.open("w") as log_file:
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_up(f"{base}/accounts/login/", server, log)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                admin = browser.new_context(locale="en-GB").new_page()
                admin.set_default_timeout(10_000)
                sign_in(admin, base, env["DEMO_ADMIN_PASSWORD"])
                settings_and_dialog(admin, base)
                company_url, link_url = create_company(admin, base)
                customer = browser.new_context(locale="en-GB").new_page()
                customer.set_default_timeout(10_000)
                customer_links(customer, link_url)
                admin.goto(company_url)
                shoot(admin, "company")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"Screenshots written in {time.monotonic() - started:.0f} s.")


if __name__ == "__main__":
    main()
