"""The way back: after the trip to Sage, the customer goes to the platform's redirect URL.

Against the Sage sandbox over HTTP, through the real link pages and callback.
"""

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations.configuration.services import integration_disable
from integrations.models import Company, Connection, Integration
from integrations.redirect_urls import redirect_url_fill, validate_redirect_url
from integrations.sage.versions import ApiVersion
from tests.linking.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db

DONE = reverse("integrations:link_done")
TEMPLATE = "https://app.example.com/back?company={companyId}&ext={externalId}&status={status}"


@pytest.fixture
def integration(org_a, sage_sandbox, setup_sage):
    integration, _ = setup_sage(org_a)
    Integration.objects.filter(pk=integration.pk).update(redirect_url=TEMPLATE)
    integration.refresh_from_db()
    return integration


@pytest.fixture
def company(org_a, integration, make_company):
    company = make_company(org_a)
    company.external_id = "cust 42/é&x"
    company.save()
    return company


def finish(client, response):
    """Follow the callback's redirect to the done page; return where it sends the customer."""
    assert response.status_code == HTTPStatus.FOUND
    if response["Location"] == reverse("integrations:link_business"):
        return response
    assert response["Location"] == DONE
    return client.get(DONE)


def query_of(response) -> dict[str, list[str]]:
    assert response.status_code == HTTPStatus.FOUND, response.status_code
    return parse_qs(urlsplit(response["Location"]).query)


def test_linked_goes_to_the_integrations_redirect_url(client, company, sage_sandbox):
    query = authorize_query(client, company)
    back = finish(client, client.get(callback_path(sage_sandbox.approve(query))))

    assert back["Location"].startswith("https://app.example.com/back?")
    assert query_of(back) == {
        "company": [str(company.pk)],
        "ext": ["cust 42/é&x"],
        "status": ["linked"],
    }
    # URL-encoded: the external ID's slash, space and ampersand do not split the URL.
    assert "ext=cust%2042%2F%C3%A9%26x&" in back["Location"]
    assert Connection.objects.get(company=company).status == Connection.Status.LINKED


def test_nothing_of_the_trip_to_sage_goes_back(client, company, sage_sandbox):
    query = authorize_query(client, company)
    callback = callback_path(sage_sandbox.approve(query))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    back = finish(client, client.get(callback))

    location = back["Location"]
    for secret in (code, query["state"], company.link_token, "code=", "state="):
        assert secret not in location
    connection = Connection.objects.get(company=company)
    assert connection.access_token not in location


def test_the_companys_redirect_url_wins(client, company, sage_sandbox):
    Company.objects.filter(pk=company.pk).update(
        redirect_url="https://crm.example.org/sage/{status}/{companyId}"
    )
    query = authorize_query(client, company)
    back = finish(client, client.get(callback_path(sage_sandbox.approve(query))))

    assert back["Location"] == f"https://crm.example.org/sage/linked/{company.pk}"


def test_the_customer_who_denies_at_sage_is_cancelled(client, company, sage_sandbox):
    query = authorize_query(client, company)
    back = finish(client, client.get(callback_path(sage_sandbox.deny(query))))

    assert query_of(back)["status"] == ["cancelled"]
    assert Connection.objects.get(company=company).status == Connection.Status.PENDING_AUTH


def test_an_error_from_sage_is_failed(client, company, sage_sandbox):
    query = authorize_query(client, company)
    path = f"{reverse('integrations:oauth_callback')}?error=server_error&state={query['state']}"
    assert query_of(finish(client, client.get(path)))["status"] == ["failed"]


def test_a_token_endpoint_failure_is_failed(client, company, sage_sandbox):
    query = authorize_query(client, company)
    redirect = sage_sandbox.approve(query)
    sage_sandbox.fail_next("token", "invalid_grant")
    back = finish(client, client.get(callback_path(redirect)))

    assert query_of(back)["status"] == ["failed"]
    assert not Connection.objects.get(company=company).access_token


def test_a_refused_link_is_failed(client, org_a, company, integration, sage_sandbox):
    query = authorize_query(client, company)
    integration_disable(integration=integration, actor=org_a.admin)
    back = finish(client, client.get(callback_path(sage_sandbox.approve(query))))
    assert query_of(back)["status"] == ["failed"]


def test_the_way_back_comes_after_the_business_choice(client, company, sage_sandbox):
    businesses = sage_sandbox.set_businesses(2)
    query = authorize_query(client, company)
    choose = finish(client, client.get(callback_path(sage_sandbox.approve(query))))
    assert choose["Location"] == reverse("integrations:link_business")

    # Not linked yet: the done page sends back to the choice, not to the platform.
    assert client.get(DONE)["Location"] == reverse("integrations:link_business")
    page = client.get(choose["Location"])
    # The business form may end at the platform's origin (CSP form-action).
    assert "https://app.example.com" in page["Content-Security-Policy"]
    chosen = client.post(choose["Location"], {"business": businesses[1]["id"]})
    assert chosen["Location"] == DONE
    back = client.get(DONE)
    assert query_of(back)["status"] == ["linked"]
    assert Connection.objects.get(company=company).business_id == businesses[1]["id"]


def test_without_a_redirect_url_the_result_page_stays(client, company, integration, sage_sandbox):
    Integration.objects.filter(pk=integration.pk).update(redirect_url="")
    query = authorize_query(client, company)
    page = finish(client, client.get(callback_path(sage_sandbox.approve(query))))

    assert page.status_code == HTTPStatus.OK
    assert b"is now linked" in page.content


def test_a_redirect_url_no_longer_valid_is_not_used(client, company, integration, sage_sandbox):
    # Saved under DEBUG, served without: the customer sees our page, not plain http.
    Company.objects.filter(pk=company.pk).update(redirect_url="http://127.0.0.1:9/{status}")
    query = authorize_query(client, company)
    page = finish(client, client.get(callback_path(sage_sandbox.approve(query))))
    assert page.status_code == HTTPStatus.OK


def test_another_organizations_redirect_url_is_not_used(
    client, org_a, org_b, company, sage_sandbox, setup_sage
):
    other, _ = setup_sage(org_b)
    Integration.objects.filter(pk=other.pk).update(
        redirect_url="https://other.example.net/{status}"
    )
    query = authorize_query(client, company)
    back = finish(client, client.get(callback_path(sage_sandbox.approve(query))))
    assert back["Location"].startswith("https://app.example.com/back?")


def test_v30_links_go_back_too(client, org_a, sage_sandbox, setup_sage, make_company):
    integration, _ = setup_sage(org_a, version=ApiVersion.V30)
    Integration.objects.filter(pk=integration.pk).update(
        redirect_url="https://app.example.com/{companyId}?s={status}"
    )
    company = make_company(org_a)
    query = authorize_query(client, company)
    back = finish(client, client.get(callback_path(sage_sandbox.approve(query))))
    assert back["Location"] == f"https://app.example.com/{company.pk}?s=linked"


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example.com/done",
        "https://app.example.com/{companyId}/{externalId}?s={status}#top",
        "https://127.0.0.1:8443/back",
        "",
    ],
)
def test_valid_redirect_urls(url):
    validate_redirect_url(url)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://app.example.com/back", "https"),
        ("http://127.0.0.1:9000/back", "https"),  # loopback http: DEBUG or the setting only
        ("https://app.example.com/{company_id}", "placeholder"),
        ("https://app.example.com/{token}", "placeholder"),
        ("https://app.example.com/{status", "brace"),
        ("https://app.example.com/status}", "brace"),
        ("https://{companyId}.example.com/", "invalid"),
        ("javascript:alert(1)", "invalid"),
        ("ftp://app.example.com/", "invalid"),
        ("/relative/path", "invalid"),
        ("https:///no-host", "invalid"),
        ("https://app.example.com:99999/", "invalid"),
        ("https://user:pw@app.example.com/", "auth"),
        ("https://app.example.com/a b", "characters"),
        ("https://app.example.com/\u00e9", "characters"),
        ("https://app.example.com/" + "a" * 2000, "max_length"),
    ],
)
def test_refused_redirect_urls(url, code):
    with pytest.raises(ValidationError) as refused:
        validate_redirect_url(url)
    assert refused.value.code == code


@pytest.mark.parametrize("setting", ["DEBUG", "REDIRECT_URLS_ALLOW_LOOPBACK_HTTP"])
def test_loopback_http_under_debug_or_the_setting(settings, setting):
    setattr(settings, setting, True)
    validate_redirect_url("http://127.0.0.1:9000/back?s={status}")
    validate_redirect_url("http://localhost/back")
    with pytest.raises(ValidationError):
        validate_redirect_url("http://app.example.com/back")


def test_the_unknown_placeholder_is_named():
    with pytest.raises(ValidationError) as refused:
        validate_redirect_url("https://app.example.com/{company}")
    assert "{company}" in refused.value.messages[0]


def test_fill_encodes_every_value():
    url = redirect_url_fill(
        "https://a.example/{externalId}?x={externalId}",
        company_id=7,
        external_id="a?b=c#d",
        status="x",
    )
    assert url == "https://a.example/a%3Fb%3Dc%23d?x=a%3Fb%3Dc%23d"
