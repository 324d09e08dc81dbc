"""Bad-input sweep: arbitrary text into every field of the portal's forms and link pages.

Huge, unicode, control characters, markup: never a 500 (the test client raises
any view exception), never reflected unescaped, and nothing saved unless the
page accepted the input (a redirect).
"""

from http import HTTPStatus
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from integrations.models import (
    AuthorizationRequest,
    Company,
    Connection,
    CredentialSet,
    HistoryEvent,
    Integration,
)
from integrations.sage.versions import ApiVersion
from tests.common.factories import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.django_db

SWEEP = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "{{ request }}{% debug %}",
    "javascript:alert(1)",
    "&lt;b&gt;&amp;",
    "'; DROP TABLE integrations_company; --",
    "\u202egnp.exe\u200b\ufeff",
    "%00%0d%0aSet-Cookie: x=1",
]
NASTY = st.one_of(
    st.text(max_size=80),
    st.text(st.characters(categories=("Cc", "Cf", "Zs", "Zl", "Zp", "Co")), max_size=40),
    st.tuples(st.text(max_size=8), st.sampled_from(MARKUP)).map("".join),
    st.integers(min_value=256, max_value=100_000).map(lambda n: ("é<\x00a" * n)[:n]),
    st.integers(min_value=201, max_value=50_000).map(lambda n: ("🙂<b>x" * n)[:n]),
)


# Refused (303 to the form's page, which shows it again), or saved.
FORM = (HTTPStatus.SEE_OTHER, HTTPStatus.FOUND)
PAGE = (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)


def send_and_check(send, url: str, data: dict, value: str, allowed: tuple) -> tuple:
    """Send `data` (carrying `value`) to `url`; check the status and that the page does not
    echo the value. Return the rows as they were before (see snapshot) and the response.
    """
    before = snapshot()
    response = send(url, data)
    assert response.status_code in allowed
    assert_not_reflected(value, shown_after(send.__self__, response))
    return before, response


def shown_after(client, response):
    """The page the user sees: after a refused POST, the GET its 303 leads to."""
    if response.status_code == HTTPStatus.SEE_OTHER:
        return client.get(response["Location"])
    return response


def sweeps_values(test):
    """Run `test(value)` under SWEEP for nasty strings, NUL and markup always among them."""
    return SWEEP(given(value=NASTY)(example(value="ab\x00cd")(example(value=MARKUP[1])(test))))


V31 = {"v31-client_id": CLIENT_ID[ApiVersion.V31], "v31-client_secret": CLIENT_SECRET}
V30 = {
    "confirm_v30": "on",  # choosing v3.0 for new links is confirmed
    "v30-client_id": "sweep-v30-client-id",
    "v30-client_secret": "sweep-v30-secret-0123",
    "v30-signing_secret": "sweep-signing-secret-0123",
    "v30-subscription_key": "sweep-subscription-key-0123",
}


def body_of(response) -> str:
    return response.content.decode("utf-8", "replace")


def assert_not_reflected(value: str, response):
    # Text with characters HTML must escape may only come back escaped.
    if len(value) >= 6 and any(c in value for c in "<>\"'&"):
        assert value not in body_of(response)


def snapshot() -> tuple:
    """Everything a form or link page may write, to compare before and after."""
    return (
        list(
            Integration.objects.values_list("pk", "enabled", "new_links_api_version", "updated_at")
        ),
        list(CredentialSet.objects.values_list("pk", "client_id", "updated_at")),
        Company.objects.count(),
        list(Connection.objects.values_list("pk", "status", "business_id", "updated_at")),
        AuthorizationRequest.objects.count(),
        HistoryEvent.objects.count(),
    )


@pytest.fixture
def enabled_integration(org_a, sage_sandbox, make_integration, make_credential_set):
    integration = make_integration(org_a)
    make_credential_set(integration)
    return integration


@pytest.mark.parametrize(
    ("base", "field"),
    [
        (V31, "v31-client_id"),
        (V31, "v31-client_secret"),
        (V30, "v30-client_id"),
        (V30, "v30-client_secret"),
        (V30, "v30-signing_secret"),
        (V30, "v30-subscription_key"),
        (V31, "credential_type"),
        (V31, "confirm_relink"),
    ],
)
def test_credentials_form(admin_client, org_a, base, field):
    url = reverse("integrations:integration_settings")
    version = ApiVersion.V31 if base is V31 else ApiVersion.V30

    @sweeps_values
    def sweep(value):
        before = snapshot()
        data = {"credential_type": version.value, **base, field: value}
        response = admin_client.post(url, data)
        assert response.status_code in (HTTPStatus.SEE_OTHER, HTTPStatus.FOUND)
        if "secret" in field or "key" in field:
            # A secret is never kept for the page after a refusal.
            assert len(value.strip()) < 12 or value.strip() not in str(dict(admin_client.session))
        shown = shown_after(admin_client, response)
        assert_not_reflected(value, shown)
        if "secret" in field or "key" in field:
            # A secret is never rendered back, valid or not.
            assert len(value.strip()) < 12 or value.strip() not in body_of(shown)
        if response.status_code == HTTPStatus.SEE_OTHER:
            assert snapshot() == before
        else:
            stored = CredentialSet.objects.get(integration__organization=org_a, api_version=version)
            if field.endswith("client_id"):
                assert stored.client_id == value.strip()

    sweep()


def test_company_form(admin_client):
    url = reverse("integrations:company_create")

    @sweeps_values
    def sweep(value):
        before, response = send_and_check(admin_client.post, url, {"name": value}, value, FORM)
        if response.status_code == HTTPStatus.FOUND:  # saved; else refused (303)
            assert Company.objects.order_by("-pk").first().name == " ".join(value.split())
        else:
            assert snapshot() == before

    sweep()


@sweeps_values
def test_company_search(admin_client, value):
    url = reverse("integrations:company_list")
    before, _ = send_and_check(admin_client.get, url, {"q": value}, value, PAGE)
    assert snapshot() == before


@pytest.fixture
def company(org_a, enabled_integration, make_company):
    return make_company(org_a, "Sweep Ltd")


def test_link_url_token_and_platform(client, company):
    @sweeps_values
    def sweep(value):
        before = snapshot()
        for path in (
            f"/link/{quote(value, safe='')}/",
            f"/link/{company.link_token}/{quote(value, safe='')}/",
        ):
            response = client.get(path)
            assert response.status_code in (HTTPStatus.NOT_FOUND, HTTPStatus.OK), path
            assert_not_reflected(value, response)
        assert snapshot() == before

    sweep()


def test_link_country(client, company):
    url = reverse("integrations:link_country", args=[company.link_token, "sage"])

    @sweeps_values
    def sweep(value):
        before = snapshot()
        response = client.post(url, {"country": value})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert_not_reflected(value, response)
        assert snapshot() == before

    sweep()


CALLBACK_KEYS = st.sampled_from(
    ["code", "state", "error", "error_description", "country", "scope", "x"]
)


def test_callback_query_without_a_valid_state(client, company, sage_sandbox):
    # This browser started a link, so only the state can be wrong.
    start = reverse("integrations:link_country", args=[company.link_token, "sage"])
    assert client.post(start, {"country": "GB"}).status_code == HTTPStatus.FOUND

    @SWEEP
    @given(params=st.dictionaries(CALLBACK_KEYS, NASTY, max_size=4))
    @example(params={"state": "ab\x00cd", "code": "\x00"})
    @example(params={"error": MARKUP[0], "state": MARKUP[1]})
    def sweep(params):
        before = snapshot()
        response = client.get(f"/oauth/sage/callback/?{urlencode(params)}")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        for value in params.values():
            assert_not_reflected(value, response)
        assert snapshot() == before

    sweep()


def test_callback_query_with_a_valid_state(client, company, sage_sandbox):
    start = reverse("integrations:link_country", args=[company.link_token, "sage"])

    @SWEEP
    @given(params=st.dictionaries(st.sampled_from(["code", "error", "country", "x"]), NASTY))
    @example(params={"code": "GB/\x00", "country": "\x00"})
    @example(params={"error": MARKUP[0]})
    def sweep(params):
        cache.clear()  # each example is one customer's start, under the starts' rate limit
        response = client.post(start, {"country": "GB"})
        assert response.status_code == HTTPStatus.FOUND
        state = dict(parse_qsl(urlsplit(response["Location"]).query))["state"]
        response = client.get(f"/oauth/sage/callback/?{urlencode({**params, 'state': state})}")
        assert response.status_code == HTTPStatus.FOUND
        page = client.get(response["Location"])
        assert page.status_code == HTTPStatus.OK
        for value in params.values():
            assert_not_reflected(value, page)
        connection = Connection.objects.get(company=company)
        # A made-up code or error never links and never stores a token.
        assert connection.status != Connection.Status.LINKED
        assert connection.access_token == connection.refresh_token == ""

    sweep()


def test_business_choice(client, company, sage_sandbox):
    sage_sandbox.set_businesses(3)
    start = reverse("integrations:link_country", args=[company.link_token, "sage"])
    query = dict(parse_qsl(urlsplit(client.post(start, {"country": "GB"})["Location"]).query))
    callback = urlsplit(sage_sandbox.approve(query, country="GB"))
    response = client.get(f"{callback.path}?{callback.query}")
    assert response["Location"] == reverse("integrations:link_business")

    @sweeps_values
    def sweep(value):
        before = snapshot()
        response = client.post(reverse("integrations:link_business"), {"business": value})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert_not_reflected(value, response)
        assert snapshot() == before

    sweep()
    assert Connection.objects.get(company=company).business_id == ""
