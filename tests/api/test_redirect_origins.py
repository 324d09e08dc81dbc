"""An organization's allowed redirect origins (issue 20 §4): set on Settings › Branding,
enforced by the one validator for the API's companies and the integration's settings form."""

from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations.models import Company, Integration
from integrations.redirect_urls import origin_of, validate_origin, validate_redirect_url

pytestmark = pytest.mark.django_db

COMPANIES = "/api/v1/companies"
BRANDING = "/settings/branding/"
ALLOWED = "https://app.example.com"
SAVE_URL = reverse("integrations:integration_redirect_url")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://App.Example.com/x?y=1", "https://app.example.com"),
        ("https://app.example.com:443/", "https://app.example.com"),
        ("https://app.example.com:8443/a", "https://app.example.com:8443"),
    ],
)
def test_origin_of(url, origin):
    assert origin_of(url) == origin


def test_the_validator_refuses_a_url_outside_the_origins():
    validate_redirect_url("https://app.example.com/done", allowed_origins=[ALLOWED])
    validate_redirect_url("https://anywhere.example.net/done")  # none listed: any
    for url in (
        "https://evil.example.com/done",
        "https://app.example.com.evil.net/done",
        "https://app.example.com:8443/done",
    ):
        with pytest.raises(ValidationError) as refused:
            validate_redirect_url(url, allowed_origins=[ALLOWED])
        assert refused.value.code == "origin"


@pytest.mark.parametrize(
    "value",
    [
        "app.example.com",
        "https://app.example.com/path",
        "https://a.com?x=1",
        "ftp://a.com",
        "https://user@a.com",
        "http://app.example.com",
    ],
)
def test_an_origin_is_only_an_origin(value):
    with pytest.raises(ValidationError):
        validate_origin(value)


def test_the_api_refuses_a_redirect_url_outside_the_origins(api_a, api_b, org_a):
    org_a.redirect_origins = ALLOWED
    org_a.save()
    refused = api_a.post(
        COMPANIES,
        {"name": "Acme", "redirect_url": "https://evil.example.com/back"},
        content_type="application/json",
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.json()["errors"][0]["field"] == "redirect_url"
    assert "app.example.com" in refused.json()["errors"][0]["detail"]
    assert not Company.objects.exists()
    created = api_a.post(
        COMPANIES,
        {"name": "Acme", "redirect_url": f"{ALLOWED}/back/{{status}}"},
        content_type="application/json",
    )
    assert created.status_code == HTTPStatus.CREATED
    changed = api_a.patch(
        f"{COMPANIES}/{created.json()['id']}",
        {"redirect_url": "https://evil.example.com/"},
        content_type="application/json",
    )
    assert changed.status_code == HTTPStatus.BAD_REQUEST
    # Another organization's list does not apply to org B.
    other = api_b.post(
        COMPANIES,
        {"name": "Beta", "redirect_url": "https://evil.example.com/back"},
        content_type="application/json",
    )
    assert other.status_code == HTTPStatus.CREATED


def test_the_branding_page_sets_the_origins(admin_client, org_a):
    response = admin_client.post(
        BRANDING,
        {
            "display_name": "",
            "privacy_url": "",
            "redirect_origins": "https://App.example.com/\n https://app.example.com \nhttps://b.example.org:8443",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    org_a.refresh_from_db()
    assert org_a.allowed_redirect_origins == [
        "https://app.example.com",
        "https://b.example.org:8443",
    ]
    page = admin_client.get(BRANDING).content.decode()
    assert "https://b.example.org:8443" in page


def test_the_branding_page_refuses_a_bad_origin(admin_client, org_a):
    response = admin_client.post(
        BRANDING,
        {"display_name": "", "privacy_url": "", "redirect_origins": "https://a.example.com/path"},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "is not an origin" in response.content.decode()
    org_a.refresh_from_db()
    assert org_a.redirect_origins == ""


def test_the_integration_settings_form_refuses_a_url_outside(admin_client, org_a, setup_sage):
    setup_sage(org_a)
    org_a.redirect_origins = ALLOWED
    org_a.save()
    response = admin_client.post(SAVE_URL, {"redirect_url": "https://evil.example.com/x"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert Integration.objects.get(organization=org_a).redirect_url == ""
    admin_client.post(SAVE_URL, {"redirect_url": f"{ALLOWED}/x"})
    assert Integration.objects.get(organization=org_a).redirect_url == f"{ALLOWED}/x"
