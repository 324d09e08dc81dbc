"""Fixtures that return factories, and the one set of values the tests share.

Registered for every test by `pytest_plugins` in tests/conftest.py. A factory
fixture returns a function: ask for `make_company` and call
`make_company(org_a, "Acme Bakery")`. Ready-made rows (`org_a`, `org_b`) and
signed-in clients (`admin_client`, `member_client`) are built with them.

- `make_user(email, password=PASSWORD, two_factor=False, **extra)`: a user with a
  verified email; with `two_factor`, an authenticator app too (its secret on
  `user.totp_secret`: `tests.portal.two_factor.totp_code(user.totp_secret)`).
- `make_org(name)`: an organization with `.admin` and `.member`.
- `setup_sage(org, version=, enable=)`: credentials saved through the service,
  chosen and enabled; returns `(integration, credential_set)`.
- `make_integration(org, api_version=)`, `make_credential_set(integration,
  sandbox=None, api_version=)`: rows written directly (the set is registered
  with the sandbox when one is given).
- `make_company(org, name=)`, `make_connection(company, credential_set,
  status=, **fields)`: a connection in any status,
  `make_authorization_request(connection, **fields)`.
- `link(sandbox, company, country=)`: link through the real pages and the
  sandbox's consent; returns the connection.
- `link_connection(sandbox, org, name=, api_version=)`: a Linked connection
  holding live sandbox tokens, written directly.
- `make_api_key(org, name=)`: an API key through the service; returns `(api_key, key)`.
- `api_client(key)`: a test client that sends `Authorization: Api-Key <key>` (JSON).
"""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from integrations.api_keys.services import api_key_create
from integrations.configuration.services import credentials_save, integration_enable
from integrations.connections.states import state_after
from integrations.models import (
    AuthorizationRequest,
    Company,
    Connection,
    CredentialSet,
    Integration,
)
from integrations.sage.versions import ApiVersion
from portal.organizations.models import Membership, Organization
from tests.linking.link_flow import authorize_query, callback_path, exchange_through_sandbox

PASSWORD = "correct-horse-battery-staple-42"
CLIENT_ID = {ApiVersion.V31: "portal-app-v31", ApiVersion.V30: "portal-app-v30"}
CLIENT_SECRET = "s3cret-client-secret-value-1234"
SIGNING_SECRET = "signing-secret-5678"
SUBSCRIPTION_KEY = "sub-key-9012"
# Sage's error array for a business without a subscription, as the sandbox's fail_next takes it.
NO_SUBSCRIPTION = {
    "status": 401,
    "data_code": "AuthorizationFailure",
    "message": "No active subscription",
}
V30_SECRETS = {"signing_secret": SIGNING_SECRET, "subscription_key": SUBSCRIPTION_KEY}


@pytest.fixture
def make_user(db):
    def make(email: str, *, password: str = PASSWORD, two_factor: bool = False, **extra):
        user = get_user_model().objects.create_user(
            username=email, email=email, password=password, **extra
        )
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        if two_factor:
            user.totp_secret = generate_totp_secret()
            TOTP.activate(user, user.totp_secret)
        return user

    return make


@pytest.fixture
def make_org(db, make_user):
    """Return a factory: an organization with an admin and a member."""

    def make(name: str):
        org = Organization.objects.create(name=name)
        slug = name.lower().replace(" ", "")
        admin = make_user(f"admin@{slug}.example")
        member = make_user(f"member@{slug}.example")
        Membership.objects.create(organization=org, user=admin, role=Membership.Role.ADMIN)
        Membership.objects.create(organization=org, user=member, role=Membership.Role.MEMBER)
        org.admin, org.member = admin, member
        return org

    return make


@pytest.fixture
def org_a(make_org):
    return make_org("Alpha Ltd")


@pytest.fixture
def org_b(make_org):
    return make_org("Beta Ltd")


@pytest.fixture
def admin_client(client, org_a):
    client.force_login(org_a.admin)
    return client


@pytest.fixture
def member_client(client, org_a):
    client.force_login(org_a.member)
    return client


@pytest.fixture
def setup_sage(db):
    """Return a factory: a complete credential set saved, chosen and (by default) enabled."""

    def setup(org, *, version: str = ApiVersion.V31, enable: bool = True):
        extra = V30_SECRETS if version == ApiVersion.V30 else {}
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

    return setup


@pytest.fixture
def keys_rejected_company(sage_sandbox, org_a, setup_sage, make_company):
    """A company of org A, whose integration's client secret Sage no longer accepts."""
    _, credential_set = setup_sage(org_a)
    sage_sandbox.register_client(credential_set.client_id, "the-secret-sage-now-expects")
    return make_company(org_a)


@pytest.fixture
def make_integration(db):
    def make(organization, *, api_version: str = ApiVersion.V31) -> Integration:
        integration, _ = Integration.objects.get_or_create(
            organization=organization,
            platform=Integration.Platform.SAGE,
            defaults={"new_links_api_version": api_version, "enabled": True},
        )
        return integration

    return make


@pytest.fixture
def make_credential_set(db):
    """Return a factory: a credential set with a client ID of its own, known to `sandbox`."""

    def make(integration, sandbox=None, *, api_version: str = ApiVersion.V31) -> CredentialSet:
        extra = V30_SECRETS if api_version == ApiVersion.V30 else {}
        client_id = f"{CLIENT_ID[ApiVersion(api_version)]}-{integration.pk}"
        if sandbox is not None:
            sandbox.register_client(client_id, CLIENT_SECRET)
        return CredentialSet.objects.create(
            integration=integration,
            api_version=api_version,
            client_id=client_id,
            client_secret=CLIENT_SECRET,
            **extra,
        )

    return make


@pytest.fixture
def make_company(db):
    def make(org, name: str = "Acme Bakery") -> Company:
        return Company.objects.create(organization=org, name=name, created_by=org.admin)

    return make


@pytest.fixture
def make_connection(db):
    """Return a factory: `company`'s connection through `credential_set`, in any status.

    Its stored state is the one its status and tokens lead to (`state_after`, no event):
    pass `state` for one a lifecycle event decides (cancelled, failed, relink requested).
    """

    def make(
        company, credential_set, *, status: str = Connection.Status.LINKED, **fields
    ) -> Connection:
        connection = Connection(
            company=company,
            integration=credential_set.integration,
            credential_set=credential_set,
            api_version=credential_set.api_version,
            status=status,
            **fields,
        )
        if "state" not in fields:
            connection.state = state_after(connection)
        connection.save()
        return connection

    return make


@pytest.fixture
def make_authorization_request(db):
    def make(connection, **fields) -> AuthorizationRequest:
        values = {
            "state": "state-value-1h6H",
            "code_verifier": "pkce-verifier-3a8F",
            "browser_binding": "binding",
            "credential_set": connection.credential_set,
            "client_id": connection.credential_set.client_id,
            "country": "GB",
            **fields,
        }
        return AuthorizationRequest.objects.create(connection=connection, **values)

    return make


@pytest.fixture
def link(db):
    """Return a function: link `company` through the real pages with a fresh browser."""

    def link_company(sandbox, company, country: str = "GB") -> Connection:
        browser = Client()
        query = authorize_query(browser, company, country)
        response = browser.get(callback_path(sandbox.approve(query, country=country)))
        assert response.status_code == 302, response.status_code
        return Company.objects.get(pk=company.pk).connection

    return link_company


@pytest.fixture
def link_connection(make_integration, make_credential_set):
    """Return a factory: a company with a Linked connection holding live sandbox tokens."""

    def make(
        sandbox, organization, *, name: str = "Acme Ltd", api_version: str = ApiVersion.V31
    ) -> Connection:
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
            state=Connection.State.LINKED,
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

    return make


@pytest.fixture
def make_api_key(db):
    """Return a factory: an API key of `org`, created by its admin; `(api_key, key)`."""

    def make(org, name: str = "Backend"):
        return api_key_create(organization=org, name=name, actor=org.admin)

    return make


@pytest.fixture
def api_client(db):
    """Return a factory: a client whose every request carries `Authorization: Api-Key <key>`."""

    def make(key: str | None) -> Client:
        headers = {"Authorization": f"Api-Key {key}"} if key is not None else {}
        return Client(headers=headers)

    return make
