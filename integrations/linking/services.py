"""Linking a company: the start of a trip to Sage, and the callback's state check.

What the pages before Sage read is in `linking.selectors`."""

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations.accounting import oauth
from integrations.connections.link import connection_for_trip
from integrations.linking.outcomes import LinkUnavailable, Unavailable
from integrations.linking.selectors import link_integration
from integrations.models import AuthorizationRequest, Company, Connection
from portal.public_urls import public_url

if TYPE_CHECKING:
    pass  # annotations only


def callback_url() -> str:
    """The redirect URI to register with Sage: built from PORTAL_BASE_URL, never the Host header."""
    return public_url("integrations:oauth_callback")


class BadState(Exception):
    """The callback's state is missing, unknown, used, expired or from another browser."""


def link_token_hash(token: str) -> str:
    """What an authorization request keeps of the link URL it started from."""
    return hashlib.sha256(token.encode()).hexdigest()


def browser_binding(secret: str) -> str:
    """Hash the per-browser secret kept in the session; only the hash is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


class CountryNotOffered(Exception):
    """The chosen country is not offered by the credential set that new links use."""


@sensitive_variables("verifier", "browser_secret")
@transaction.atomic
def link_start(
    *, company: Company, platform: str, country: str, offered_version: str, browser_secret: str
) -> str:
    """Create the authorization request for this browser; return Sage's authorize URL.

    `country` is one of the countries offered for `offered_version` (the country form
    checked it against the list it showed): the list is not worked out again here.
    """
    company = Company.objects.select_for_update().select_related("organization").get(pk=company.pk)
    if not company.link_is_valid:
        raise LinkUnavailable(Unavailable.EXPIRED)
    integration, credential_set = link_integration(company=company, platform=platform)
    if credential_set.api_version != offered_version:
        # The admin switched the credential type while the customer chose a flag.
        raise CountryNotOffered(country)
    connection = connection_for_trip(
        company=company, integration=integration, credential_set=credential_set
    )
    if connection.status == Connection.Status.LINKED:
        raise LinkUnavailable(Unavailable.LINKED)
    verifier, challenge = oauth.pkce_pair()
    state = secrets.token_urlsafe(32)
    AuthorizationRequest.objects.create(
        state=state,
        code_verifier=verifier,
        browser_binding=browser_binding(browser_secret),
        connection=connection,
        credential_set=credential_set,
        client_id=credential_set.client_id,
        country=country,
        link_token_hash=link_token_hash(company.link_token),
    )
    # No history here: the callback records the outcome. Anyone holding the link URL
    # can start, so a record per start would let them push the real events away.
    return oauth.authorization_url(
        credential_set=credential_set,
        state=state,
        code_challenge=challenge,
        country=country,
        redirect_uri=callback_url(),
    )


@sensitive_variables("browser_secret")
def authorization_consume(*, state: str, browser_secret: str | None) -> AuthorizationRequest:
    """Check the state (exists, unused, unexpired, this browser) and mark it used, atomically.

    The request comes back with its connection, company, organization, credential set
    and integration, read as this callback begins: the callback's checks and writes
    use them rather than reading those rows again.
    """
    # NUL: PostgreSQL refuses it in a query parameter (a 500 instead of a 400).
    if not state or not browser_secret or len(state) > 64 or "\x00" in state:
        raise BadState
    try:
        # get(), not first(): the state is unique, so no ORDER BY to build or run.
        authorization = (
            AuthorizationRequest.objects.usable()
            .select_related("connection__company__organization", "credential_set__integration")
            .get(state=state)
        )
    except AuthorizationRequest.DoesNotExist:
        raise BadState from None
    if not hmac.compare_digest(authorization.browser_binding, browser_binding(browser_secret)):
        raise BadState
    # A conditional UPDATE: of two concurrent replays, only one sees a row to change.
    now = timezone.now()
    consumed = AuthorizationRequest.objects.filter(
        pk=authorization.pk, consumed_at__isnull=True, expires_at__gt=now
    ).update(consumed_at=now)
    if consumed != 1:
        raise BadState
    authorization.consumed_at = now
    return authorization
