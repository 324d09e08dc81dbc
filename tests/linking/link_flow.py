"""Steps of the link flow for tests: the link pages with a test client, the sandbox's consent."""

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from django.urls import reverse
from django.utils import timezone

from integrations.linking.services import callback_url
from integrations.models import Connection
from integrations.sage import oauth


def start(client, company, country: str = "GB", **extra):
    """POST the country step; return the response (a redirect to Sage when it worked)."""
    url = reverse("integrations:link_country", args=[company.link_token, "sage"])
    return client.post(url, {"country": country}, **extra)


def authorize_query(client, company, country: str = "GB") -> dict:
    """Start a link and return the query of the authorize URL it redirects to."""
    response = start(client, company, country)
    assert response.status_code == 302, response.status_code
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def callback_path(redirect_url: str) -> str:
    """The path and query of the sandbox's redirect back to the portal (for the test client)."""
    parts = urlsplit(redirect_url)
    return f"{parts.path}?{parts.query}"


def exchange_through_sandbox(sandbox, credential_set) -> oauth.TokenSet:
    """Do what the link flow does: authorize at the sandbox (Approve), exchange the code."""
    verifier, challenge = oauth.pkce_pair()
    redirect_uri = callback_url()
    url = oauth.authorization_url(
        credential_set=credential_set,
        state="lifecycle-test-state",
        code_challenge=challenge,
        country="GB",
        redirect_uri=redirect_uri,
    )
    redirect = sandbox.approve(dict(parse_qsl(urlsplit(url).query)), country="GB")
    code = dict(parse_qsl(urlsplit(redirect).query))["code"]
    return oauth.exchange_code(
        credential_set=credential_set,
        code=code,
        code_verifier=verifier,
        redirect_uri=redirect_uri,
    )


def expire_access_token(connection: Connection, sandbox=None) -> Connection:
    """Make the stored access token look (and, in the sandbox, be) expired."""
    if sandbox is not None:
        sandbox.expire_access_tokens()
    Connection.objects.filter(pk=connection.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    connection.refresh_from_db()
    return connection
