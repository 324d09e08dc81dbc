"""Linking a company: its link URL, the pages before Sage, and the callback's state check."""

import hashlib
import hmac
import secrets
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from integrations.accounting import countries_for, oauth
from integrations.models import AuthorizationRequest, Company, Connection, Integration

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from integrations.models import CredentialSet  # annotations only


def callback_url() -> str:
    """The redirect URI to register with Sage: built from PORTAL_BASE_URL, never the Host header."""
    base_url: str = settings.PORTAL_BASE_URL
    return base_url + reverse("integrations:oauth_callback")


class Wording(NamedTuple):
    """What a link page says: its heading and its message (translated when shown)."""

    title: "StrOrPromise"
    message: "StrOrPromise"


class Unavailable(StrEnum):
    """Why a link URL cannot be used."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    DISABLED = "disabled"
    LINKED = "linked"
    TOO_MANY = "too_many"  # too many starts for this link URL or from this address


_CANNOT_BE_USED = _("This link cannot be used")
UNAVAILABLE_WORDING = {
    Unavailable.UNKNOWN: Wording(
        _CANNOT_BE_USED,
        _(
            "This link is not valid. Check that you copied it completely, "
            "or ask the company that sent it to you for a new one."
        ),
    ),
    Unavailable.EXPIRED: Wording(
        _CANNOT_BE_USED,
        _("This link has expired. Ask the company that sent it to you for a new one."),
    ),
    Unavailable.DISABLED: Wording(
        _CANNOT_BE_USED,
        _(
            "This integration is not available for linking at the moment. "
            "Please contact the company that sent you this link."
        ),
    ),
    Unavailable.LINKED: Wording(
        _CANNOT_BE_USED,
        _("This company is already linked to Sage. There is nothing more to do."),
    ),
    Unavailable.TOO_MANY: Wording(
        _("Too many attempts"),
        _("This link was used too often just now. Wait a few minutes, then try again."),
    ),
}


class LinkUnavailable(Exception):
    """The link URL cannot be used, for `reason`; `company` when its link URL was found."""

    def __init__(self, reason: Unavailable, company: Company | None = None):
        super().__init__(reason)
        self.reason = reason
        self.company = company


class BadState(Exception):
    """The callback's state is missing, unknown, used, expired or from another browser."""


def company_for_link_token(*, token: str) -> Company:
    """Return the company of a link token, or raise LinkUnavailable (unknown or expired)."""
    if len(token) > 64 or "\x00" in token:  # never a token; PostgreSQL refuses NUL
        raise LinkUnavailable(Unavailable.UNKNOWN)
    company = (
        Company.objects.select_related("organization", "connection").filter(link_token=token)
    ).first()
    if company is None:
        raise LinkUnavailable(Unavailable.UNKNOWN)
    if not company.link_is_valid:
        raise LinkUnavailable(Unavailable.EXPIRED, company)
    return company


def _usable(integration: Integration) -> "CredentialSet | None":
    chosen = integration.chosen_credential_set()
    return chosen if integration.enabled and chosen and chosen.is_complete else None


def link_integrations(*, company: Company) -> list[Integration]:
    """Return the integrations this company can link with now."""
    integrations = Integration.objects.for_org(company.organization).enabled()
    return [i for i in integrations.prefetch_related("credential_sets") if _usable(i)]


def link_integration(*, company: Company, platform: str) -> tuple[Integration, "CredentialSet"]:
    """Return an enabled integration and the set new links use, or raise LinkUnavailable."""
    integration = (
        Integration.objects.for_org(company.organization)
        .filter(platform=platform)
        .prefetch_related("credential_sets")
        .first()
    )
    credential_set = _usable(integration) if integration else None
    if integration is None or credential_set is None:
        raise LinkUnavailable(Unavailable.DISABLED, company)
    return integration, credential_set


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
def link_start(*, company: Company, platform: str, country: str, browser_secret: str) -> str:
    """Create the authorization request for this browser; return Sage's authorize URL."""
    company = Company.objects.select_for_update().select_related("organization").get(pk=company.pk)
    if not company.link_is_valid:
        raise LinkUnavailable(Unavailable.EXPIRED)
    integration, credential_set = link_integration(company=company, platform=platform)
    if country not in {c.code for c in countries_for(credential_set.api_version)}:
        # The admin switched the credential type while the customer chose a flag.
        raise CountryNotOffered(country)
    connection = Connection.objects.filter(company=company).first()
    if connection is None:
        connection = Connection.objects.create(
            company=company,
            integration=integration,
            credential_set=credential_set,
            api_version=credential_set.api_version,
        )
    elif connection.status == Connection.Status.LINKED:
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
