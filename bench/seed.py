"""Seed the bench database with the ORM and count each page's SQL queries.

Runs inside the bench process, after Django is set up with the same production
environment (and the same database) as the server under load.
"""

from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.connections.states import state_after
from integrations.models import Company, Connection, CredentialSet, Integration
from integrations.sage.versions import ApiVersion
from portal.organizations.models import Membership, Organization

from . import credentials

BATCH = 2000
# Companies cycle through these: no connection yet, then each connection status.
STATUSES = [None, *Connection.Status.values]


@dataclass
class World:
    organization: Organization
    admin: User
    integration: Integration
    credential_set: CredentialSet
    session_cookie: str  # "sessionid=..." of the logged-in admin


def prepare():
    """Create the schema and collect static files, as a deploy does."""
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)


def session_for(user) -> str:
    """Return the Cookie header value of a fresh logged-in session for `user`."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def world_create(*, name: str = "Bench Ltd") -> World:
    """One organization with an admin and an enabled Sage integration with v3.1 keys."""
    organization = Organization.objects.create(name=name)
    admin = get_user_model().objects.create_user(
        username=f"admin@{organization.pk}.bench.example",
        email=f"admin@{organization.pk}.bench.example",
        password=None,
    )
    Membership.objects.create(organization=organization, user=admin, role=Membership.Role.ADMIN)
    integration = Integration.objects.create(
        organization=organization, enabled=True, new_links_api_version=ApiVersion.V31
    )
    credential_set = CredentialSet.objects.create(
        integration=integration,
        api_version=ApiVersion.V31,
        client_id=credentials.CLIENT_ID,
        client_secret=credentials.CLIENT_SECRET,
    )
    return World(organization, admin, integration, credential_set, session_for(admin))


def companies_add(*, world: World, total: int) -> int:
    """Add companies (and their connections) until the organization has `total`."""
    start = Company.objects.filter(organization=world.organization).count()
    now = timezone.now()
    for first in range(start, total, BATCH):
        numbers = range(first, min(first + BATCH, total))
        companies = Company.objects.bulk_create(
            Company(
                organization=world.organization, name=f"Company {n:05d}", created_by=world.admin
            )
            for n in numbers
        )
        connections = [
            _connection(world, company, status, now)
            for company, n in zip(companies, numbers, strict=True)
            if (status := STATUSES[n % len(STATUSES)]) is not None
        ]
        Connection.objects.bulk_create(connections)
    return total


def _connection(world: World, company: Company, status: str, now) -> Connection:
    linked = status != Connection.Status.PENDING_AUTH
    connection = Connection(
        company=company,
        integration=world.integration,
        credential_set=world.credential_set,
        status=status,
        api_version=ApiVersion.V31,
        country="GB" if linked else "",
        business_id=f"biz-{company.pk}" if linked else "",
        business_name=f"{company.name} (Sage)" if linked else "",
        access_token=f"bench-access-{company.pk}" if status == Connection.Status.LINKED else "",
        refresh_token=f"bench-refresh-{company.pk}" if status == Connection.Status.LINKED else "",
        access_token_expires_at=now + timedelta(minutes=5) if linked else None,
        refresh_token_expires_at=now + timedelta(days=31) if linked else None,
        last_refreshed_at=now if linked else None,
    )
    connection.state = state_after(connection)  # as the writers store it (no event seeded)
    return connection


def client_for(cookie: str, host: str | None = None) -> Client:
    client = Client(SERVER_NAME="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    if host:
        client.defaults["HTTP_HOST"] = host
    name, value = cookie.split("=", 1)
    client.cookies[name] = value
    return client


def queries_count(
    *, cookie: str, path: str, expect: HTTPStatus = HTTPStatus.OK, host: str | None = None
) -> int:
    """Count the SQL queries of one GET of `path` through the test client (Host: `host`)."""
    client = client_for(cookie, host)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != expect:
        raise RuntimeError(f"GET {path} answered {response.status_code}, expected {expect}")
    return len(queries)
