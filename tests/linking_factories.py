"""Helpers for the linking tests: set up Sage credentials, walk the link pages with a client."""

from urllib.parse import parse_qsl, urlsplit

from django.urls import reverse

from integrations.models import Company
from integrations.sage.versions import ApiVersion
from integrations.services.credentials import credentials_save, integration_enable

CLIENT_ID = {ApiVersion.V31: "portal-app-v31", ApiVersion.V30: "portal-app-v30"}
CLIENT_SECRET = "s3cret-client-secret-value-1234"


def setup_sage(org, *, version: str = ApiVersion.V31, enable: bool = True):
    """Save a complete credential set for `version`, choose it, and enable the integration."""
    extra = {}
    if version == ApiVersion.V30:
        extra = {"signing_secret": "signing-secret-5678", "subscription_key": "sub-key-9012"}
    result = credentials_save(
        organization=org,
        actor=org.admin,
        api_version=version,
        client_id=CLIENT_ID[ApiVersion(version)],
        client_secret=CLIENT_SECRET,
        **extra,
    )
    if enable:
        integration_enable(integration=result.integration, actor=org.admin)
    return result.integration, result.credential_set


def make_company(org, name: str = "Acme Bakery") -> Company:
    return Company.objects.create(organization=org, name=name, created_by=org.admin)


def start(client, company, country: str = "GB"):
    """POST the country step; return the response (a redirect to Sage when it worked)."""
    url = reverse("integrations:link_country", args=[company.link_token, "sage"])
    return client.post(url, {"country": country})


def authorize_query(client, company, country: str = "GB") -> dict:
    """Start a link and return the query of the authorize URL it redirects to."""
    response = start(client, company, country)
    assert response.status_code == 302, response.status_code
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def callback_path(redirect_url: str) -> str:
    """The path and query of the sandbox's redirect back to the portal (for the test client)."""
    parts = urlsplit(redirect_url)
    return f"{parts.path}?{parts.query}"


def link(sandbox, company, country: str = "GB"):
    """Link `company` through the real pages with a fresh browser; return its connection."""
    from django.test import Client

    browser = Client()
    query = authorize_query(browser, company, country)
    response = browser.get(callback_path(sandbox.approve(query, country=country)))
    assert response.status_code == 302, response.status_code
    return company.__class__.objects.get(pk=company.pk).connection
