"""Security defaults: deploy checks, headers, CSP without inline code, cookies, login limits."""

import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import NoReverseMatch, reverse

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db

# What the tests relax (tests/environment.py) is dropped: the rest is production.
RELAXED = (
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_SECURE_COOKIES",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "STATIC_MANIFEST",
    "CACHE_URL",
    "OAUTHLIB_INSECURE_TRANSPORT",
)


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in RELAXED}
    env.update(
        DJANGO_ENV_FILE="",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="portal.example",
        PORTAL_BASE_URL="https://portal.example",
        SAGE_SANDBOX="0",
        CACHE_URL="rediscache://127.0.0.1:6379/1",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth counts attempts in the cache: leave none behind for the next test.
    yield
    cache.clear()


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(
        make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    )
    return client


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_about_a_per_process_cache():
    env = production_env()
    del env["CACHE_URL"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "portal.W001" in result.stderr


def test_production_settings_are_strict():
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({n: "
        "getattr(s, n) for n in ['SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY', "
        "'CSRF_COOKIE_SAMESITE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
        "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'X_FRAME_OPTIONS', "
        "'SECURE_REFERRER_POLICY', 'SECURE_CSP', 'DEBUG', 'SAGE_SANDBOX']} | "
        "{'cache': s.CACHES['default']['BACKEND']}))"
    )
    result = manage("shell", "-c", script, env=production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is values["CSRF_COOKIE_HTTPONLY"] is True
    # Strict would drop the session on the way back from Sage.
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["DEBUG"] is values["SAGE_SANDBOX"] is False
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    csp = values["SECURE_CSP"]
    # Forms may end only here; the link flow's country page adds Sage's origin itself.
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in json.dumps(csp)


def test_production_settings_refuse_to_start_without_secret_key():
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=""))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def _csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in header.split(";"))
        if part
    }


@pytest.mark.parametrize("who", ["anonymous", "admin", "staff"])
def test_security_headers_on_real_responses(client, org_a, make_user, who):
    url = reverse("account_login")
    if who == "admin":
        client.force_login(org_a.admin)
        url = reverse("integrations:company_list")
    elif who == "staff":
        client.force_login(make_user("support@portal.example", is_staff=True, two_factor=True))
        url = reverse("admin:index")
    response = client.get(url, secure=True)
    assert response.status_code == HTTPStatus.OK
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    csp = _csp(response)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["style-src"] == "'self'"
    assert re.fullmatch(r"'self' 'nonce-[\w+/=-]{16,}'", csp["script-src"])
    assert "unsafe" not in response["Content-Security-Policy"]


class InlineCode(HTMLParser):
    """Collect what a CSP without 'unsafe-inline' would block, and the script nonces."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.nonces: set[str] = set()
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            data_block = attrs.get("type", "").endswith("json")
            if not attrs.get("src") and not data_block:
                self._in_script = True
            if attrs.get("nonce"):
                self.nonces.add(attrs["nonce"])
        if tag == "a" and (attrs.get("href") or "").lower().startswith("javascript:"):
            self.problems.append("javascript: link")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def _portal_pages() -> list[str]:
    pages = []
    for name in [
        "integrations:company_list",
        "integrations:accounting_list",
        "integrations:integration_settings",
        "integrations:company_create",
        "account_change_password",
    ]:
        try:
            pages.append(reverse(name))
        except NoReverseMatch:
            continue
    return pages


def _admin_pages() -> list[str]:
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return pages


def _assert_no_inline_code(response, url):
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, url
    parser = InlineCode()
    parser.feed(response.content.decode())
    assert parser.problems == [], url
    # Django puts the nonce in the header only when the page used it.
    header_nonces = set(re.findall(r"'nonce-([^']+)'", response["Content-Security-Policy"]))
    assert parser.nonces <= header_nonces, url


def test_portal_pages_have_no_inline_script_or_style(client, org_a):
    client.force_login(org_a.admin)
    pages = _portal_pages()
    assert len(pages) >= 2
    for url in pages:
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        _assert_no_inline_code(response, url)


def test_login_page_has_no_inline_code_when_anonymous(client):
    url = reverse("account_login")
    _assert_no_inline_code(client.get(url), url)


def test_admin_works_under_csp(staff_client):
    pages = _admin_pages()
    assert len(pages) > 1
    for url in pages:
        response = staff_client.get(url)
        # Some models are read-only in the admin (no add page): 403 is their answer.
        assert response.status_code == HTTPStatus.OK or url.endswith("/add/"), url
        _assert_no_inline_code(response, url)
    # The admin's behaviour comes from script files, which the policy allows ('self').
    index = staff_client.get(_admin_pages()[1]).content.decode()
    assert re.search(r'<script src="/static/admin/js/[^"]+\.js"', index)


def test_session_and_csrf_cookies_are_httponly_and_lax(client, org_a):
    page = client.get(reverse("account_login"))
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    response = client.post(
        reverse("account_login"), {"login": org_a.admin.email, "password": PASSWORD}
    )
    assert response.status_code == HTTPStatus.FOUND
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    for cookie in (session, csrf):
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"


def test_session_key_changes_at_login(client, org_a):
    session = client.session
    session["language_hint"] = "en"
    session.save()
    before = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = before
    response = client.post(
        reverse("account_login"), {"login": org_a.admin.email, "password": PASSWORD}
    )
    assert response.status_code == HTTPStatus.FOUND
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert client.session["_auth_user_id"] == str(org_a.admin.pk)
    assert not Session.objects.filter(session_key=before).exists()


LOCKED = b"Too many wrong passwords. Try again in 5 minutes, or reset your password."


def _login(client, email, password, address="127.0.0.1"):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=address
    )


def test_someone_elses_wrong_passwords_do_not_lock_the_real_admin_out(client, org_a):
    for n in range(12):
        _login(client, org_a.admin.email, "wrong-password", address=f"203.0.113.{n // 5}")
    response = _login(client, org_a.admin.email, PASSWORD, address="198.51.100.7")
    assert response.status_code == HTTPStatus.FOUND
    assert client.session["_auth_user_id"] == str(org_a.admin.pk)


def test_a_locked_out_sign_in_says_how_long_and_links_to_password_reset(client, org_a):
    for _ in range(6):
        response = _login(client, org_a.admin.email, "wrong-password")
    page = response.content.decode()
    assert LOCKED.decode() in page
    assert f'href="{reverse("account_reset_password")}"' in page
    french = client.post(
        reverse("account_login"),
        {"login": org_a.admin.email, "password": "wrong-password"},
        headers={"accept-language": "fr"},
    ).content.decode()
    assert "Réessayez dans 5 minutes" in french


def test_guesses_spread_over_many_addresses_still_stop_at_thirty(client, org_a):
    for n in range(30):
        _login(client, org_a.admin.email, "wrong-password", address=f"203.0.113.{n}")
    response = _login(client, org_a.admin.email, PASSWORD, address="198.51.100.7")
    assert LOCKED in response.content
    assert "_auth_user_id" not in client.session


def test_sixth_wrong_password_is_refused(client, org_a):
    for _ in range(5):
        response = _login(client, org_a.admin.email, "wrong-password")
        assert LOCKED not in response.content
    response = _login(client, org_a.admin.email, "wrong-password")
    assert LOCKED in response.content
    # The limit holds even for the right password until the window passes.
    response = _login(client, org_a.admin.email, PASSWORD)
    assert response.status_code == HTTPStatus.OK
    assert LOCKED in response.content
    assert "_auth_user_id" not in client.session


def test_rate_limit_is_per_account_and_per_address(client, org_a, org_b, make_user):
    for _ in range(5):
        _login(client, org_a.admin.email, "wrong-password")
    # Another account from the same address still signs in...
    response = _login(client, org_b.admin.email, PASSWORD)
    assert response.status_code == HTTPStatus.FOUND
    client.logout()
    # ...but ten failures a minute from one address stop every account.
    for n in range(5):
        _login(client, f"nobody{n}@example.com", "wrong-password")
    response = _login(client, org_b.member.email, PASSWORD)
    assert LOCKED in response.content
    assert "_auth_user_id" not in client.session


def test_admin_login_cannot_bypass_allauth(client, make_user):
    staff = make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": staff.username, "password": PASSWORD}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_customer_and_company_pages_have_no_inline_code(
    client, org_a, make_integration, make_credential_set, make_company
):
    make_credential_set(make_integration(org_a))
    company = make_company(org_a, "Acme Ltd")
    pages = [
        reverse("integrations:link", args=[company.link_token]),
        reverse("integrations:link_country", args=[company.link_token, "sage"]),
        reverse("integrations:link", args=["unknown-token"]),
        reverse("integrations:oauth_callback") + "?state=nope",
    ]
    for url in pages:
        _assert_no_inline_code(client.get(url), url)
    client.force_login(org_a.admin)
    url = reverse("integrations:company_detail", args=[company.pk])
    _assert_no_inline_code(client.get(url), url)
