"""Linked connections for the lifecycle tests, with tokens from a real sandbox code exchange."""

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from django.utils import timezone

from integrations.models import Company, Connection, CredentialSet, Integration
from integrations.sage import oauth
from integrations.sage.versions import ApiVersion
from integrations.services.linking import callback_url

CLIENT_ID = "lifecycle-client-id"
CLIENT_SECRET = "lifecycle-client-secret-0123456789"


def make_integration(organization, *, api_version: str = ApiVersion.V31) -> Integration:
    integration, _ = Integration.objects.get_or_create(
        organization=organization,
        platform=Integration.Platform.SAGE,
        defaults={"new_links_api_version": api_version, "enabled": True},
    )
    return integration


def make_credential_set(integration, sandbox, *, api_version: str = ApiVersion.V31):
    extra = (
        {"signing_secret": "signing-secret-xyz", "subscription_key": "subscription-key-xyz"}
        if api_version == ApiVersion.V30
        else {}
    )
    client_id = f"{CLIENT_ID}-{integration.pk}-{api_version}"
    sandbox.register_client(client_id, CLIENT_SECRET)
    return CredentialSet.objects.create(
        integration=integration,
        api_version=api_version,
        client_id=client_id,
        client_secret=CLIENT_SECRET,
        **extra,
    )


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


def link_connection(
    sandbox, organization, *, name: str = "Acme Ltd", api_version: str = ApiVersion.V31
) -> Connection:
    """Create a company with a Linked connection holding live sandbox tokens."""
    integration = make_integration(organization, api_version=api_version)
    credential_set = integration.credential_sets.filter(api_version=api_version).first()
    if credential_set is None:
        credential_set = make_credential_set(integration, sandbox, api_version=api_version)
    tokens = exchange_through_sandbox(sandbox, credential_set)
    now = timezone.now()
    company = Company.objects.create(organization=organization, name=name)
    business = sandbox.businesses[0]
    return Connection.objects.create(
        company=company,
        integration=integration,
        credential_set=credential_set,
        status=Connection.Status.LINKED,
        country="GB",
        api_version=api_version,
        business_id=business["id"] if api_version == ApiVersion.V31 else "",
        business_name=business["name"],
        resource_owner_id=tokens.resource_owner_id or "",
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token or "",
        access_token_expires_at=now + timedelta(seconds=tokens.expires_in or 300),
        refresh_token_expires_at=(
            now + timedelta(seconds=tokens.refresh_token_expires_in)
            if tokens.refresh_token_expires_in
            else None
        ),
        last_refreshed_at=now,
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
