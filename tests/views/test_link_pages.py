"""The business customer's link pages: link URL, integration, country, start."""

import hashlib
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.configuration.services import integration_disable
from integrations.linking.session import BROWSER_KEY
from integrations.models import (
    AuthorizationRequest,
    Connection,
    HistoryEvent,
)
from integrations.sage.versions import ApiVersion
from tests.linking.link_flow import start

pytestmark = pytest.mark.django_db


def link_url(company):
    return reverse("integrations:link", args=[company.link_token])


def country_url(company):
    return reverse("integrations:link_country", args=[company.link_token, "sage"])


def assert_nothing_created():
    assert not AuthorizationRequest.objects.exists()
    assert not Connection.objects.exists()
    assert not HistoryEvent.objects.filter(company__isnull=False).exclude(
        kind=HistoryEvent.Kind.COMPANY_CREATED
    )


@pytest.mark.parametrize("page", ["link", "country", "start"])
def test_unknown_token_is_a_404_page(client, org_a, sage_sandbox, page, setup_sage):
    setup_sage(org_a)
    urls = {
        "link": "/link/not-a-real-token/",
        "country": "/link/not-a-real-token/sage/",
        "start": "/link/not-a-real-token/sage/",
    }
    if page == "start":
        response = client.post(urls[page], {"country": "GB"})
    else:
        response = client.get(urls[page])
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"This link is not valid" in response.content
    assert_nothing_created()


@pytest.mark.parametrize("method", ["get", "post"])
def test_expired_link_is_a_410_page(client, org_a, sage_sandbox, method, make_company, setup_sage):
    setup_sage(org_a)
    company = make_company(org_a)
    company.link_expires_at = timezone.now() - timedelta(minutes=1)
    company.save()
    for url in (link_url(company), country_url(company)):
        response = getattr(client, method)(url, {"country": "GB"} if method == "post" else None)
        if method == "post" and url == link_url(company):
            assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
            continue
        assert response.status_code == HTTPStatus.GONE
        assert b"This link has expired" in response.content
    assert_nothing_created()


def test_no_enabled_integration_says_so(client, org_a, sage_sandbox, make_company, setup_sage):
    setup_sage(org_a, enable=False)
    company = make_company(org_a)
    response = client.get(link_url(company))
    assert response.status_code == HTTPStatus.OK
    assert b"No accounting integration is available" in response.content
    assert country_url(company).encode() not in response.content


@pytest.mark.parametrize("method", ["get", "post"])
def test_disabled_integration_cannot_be_started(
    client, org_a, sage_sandbox, method, make_company, setup_sage
):
    integration, _set = setup_sage(org_a)
    integration_disable(integration=integration, actor=org_a.admin)
    company = make_company(org_a)
    response = getattr(client, method)(country_url(company), {"country": "GB"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"not available for linking" in response.content
    assert_nothing_created()


def test_another_organizations_integration_is_not_offered(
    client, org_a, org_b, sage_sandbox, make_company, setup_sage
):
    setup_sage(org_b)
    company = make_company(org_a)
    assert b"No accounting integration" in client.get(link_url(company)).content
    assert client.get(country_url(company)).status_code == HTTPStatus.NOT_FOUND


def test_enabled_integration_is_offered(client, org_a, sage_sandbox, make_company, setup_sage):
    setup_sage(org_a)
    company = make_company(org_a)
    response = client.get(link_url(company))
    assert b"Sage Accounting" in response.content
    assert country_url(company).encode() in response.content
    assert b'class="sidenav"' not in response.content


@pytest.mark.parametrize(
    ("version", "offered", "not_offered"),
    [
        (ApiVersion.V31, ["GB", "IE", "US", "CA", "DE", "ES", "FR"], []),
        (ApiVersion.V30, ["GB", "IE"], ["US", "CA", "DE", "ES", "FR"]),
    ],
)
def test_countries_follow_the_chosen_credential_set(
    client, org_a, sage_sandbox, version, offered, not_offered, make_company, setup_sage
):
    setup_sage(org_a, version=version)
    company = make_company(org_a)
    response = client.get(country_url(company))
    content = response.content.decode()
    for code in offered:
        assert f'name="country" value="{code}"' in content
    for code in not_offered:
        assert f'name="country" value="{code}"' not in content
    for region in ("Australia", "New Zealand", "South Africa", "Hong Kong"):
        assert region in content


def test_only_the_country_page_lets_a_form_end_at_sage(
    client, org_a, sage_sandbox, make_company, setup_sage
):
    setup_sage(org_a)
    company = make_company(org_a)
    parts = urlsplit(sage_sandbox.url)
    sage = f"{parts.scheme}://{parts.netloc}"

    def form_action(response) -> str:
        policy = response["Content-Security-Policy"]
        return next(p for p in policy.split("; ") if p.startswith("form-action"))

    assert form_action(client.get(country_url(company))) == f"form-action 'self' {sage}"
    assert form_action(client.get(link_url(company))) == "form-action 'self'"


def test_a_country_not_offered_is_refused(client, org_a, sage_sandbox, make_company, setup_sage):
    setup_sage(org_a, version=ApiVersion.V30)
    company = make_company(org_a)
    response = start(client, company, country="US")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"Choose one of the countries" in response.content
    assert_nothing_created()


def test_start_binds_the_request_to_this_browser(
    client, org_a, sage_sandbox, make_company, setup_sage
):
    setup_sage(org_a)
    company = make_company(org_a)

    response = start(client, company, country="FR")

    assert response.status_code == HTTPStatus.FOUND
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{sage_sandbox.url}/oauth2/auth/central"
    )
    query = dict(parse_qsl(location.query))
    authorization = AuthorizationRequest.objects.get()
    secret = client.session[BROWSER_KEY]
    assert authorization.browser_binding == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in authorization.browser_binding
    assert authorization.state == query["state"]
    assert authorization.country == "FR"
    assert query["country"] == "fr"
    assert authorization.client_id == query["client_id"]
    assert authorization.expires_at - timezone.now() <= timedelta(minutes=10)
    assert authorization.code_verifier not in response["Location"]
    assert Connection.objects.get(company=company).status == Connection.Status.PENDING_AUTH
    # A start is not an event of the company's history: only its outcome will be.
    assert not HistoryEvent.objects.filter(company=company).exclude(
        kind=HistoryEvent.Kind.COMPANY_CREATED
    )


def test_a_get_never_starts(client, org_a, sage_sandbox, make_company, setup_sage):
    setup_sage(org_a)
    company = make_company(org_a)
    assert client.get(country_url(company), {"country": "GB"}).status_code == HTTPStatus.OK
    assert_nothing_created()


def test_a_linked_company_is_not_linked_twice(
    client, org_a, sage_sandbox, make_company, setup_sage, make_connection
):
    _integration, credential_set = setup_sage(org_a)
    company = make_company(org_a)
    make_connection(company, credential_set)
    response = start(client, company)
    assert response.status_code == HTTPStatus.CONFLICT
    assert b"already linked" in response.content
    assert not AuthorizationRequest.objects.exists()


def test_link_pages_speak_french(client, org_a, sage_sandbox, make_company, setup_sage):
    setup_sage(org_a)
    company = make_company(org_a)
    client.cookies["django_language"] = "fr"
    response = client.get(country_url(company))
    assert "Où est établie votre entreprise Sage ?" in response.content.decode()
    assert "Australie" in response.content.decode()
    assert 'name="language"' in response.content.decode()


def test_start_refuses_a_country_the_chosen_set_does_not_offer(
    org_a, sage_sandbox, make_company, setup_sage
):
    from integrations.linking.services import CountryNotOffered, link_start
    from integrations.models import AuthorizationRequest, Connection

    setup_sage(org_a, version=ApiVersion.V30)
    company = make_company(org_a)

    with pytest.raises(CountryNotOffered):  # the form offered v3.1's countries, then it changed
        link_start(
            company=company,
            platform="sage",
            country="US",
            offered_version=ApiVersion.V31,
            browser_secret="b" * 32,
        )

    assert not Connection.objects.exists()
    assert not AuthorizationRequest.objects.exists()


def test_starts_are_limited_per_link_url(client, org_a, sage_sandbox, make_company, setup_sage):
    setup_sage(org_a)
    company, other = make_company(org_a, "Busy Ltd"), make_company(org_a, "Quiet Ltd")
    for _ in range(10):
        assert start(client, company).status_code == HTTPStatus.FOUND

    refused = start(client, company)

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert b"Too many attempts" in refused.content
    assert AuthorizationRequest.objects.count() == 10
    assert start(client, other).status_code == HTTPStatus.FOUND  # another link URL goes on


def test_starts_are_limited_per_address(client, org_a, sage_sandbox, make_company, setup_sage):
    setup_sage(org_a)
    companies = [make_company(org_a, f"Company {i}") for i in range(4)]
    for i in range(30):
        assert start(client, companies[i % 3]).status_code == HTTPStatus.FOUND

    refused = start(client, companies[3])

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert AuthorizationRequest.objects.count() == 30
    other_address = start(client, companies[3], REMOTE_ADDR="203.0.113.9")
    assert other_address.status_code == HTTPStatus.FOUND
