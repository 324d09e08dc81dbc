"""The end of the trip to Sage: the callback's outcome, the tokens, the business choice."""

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from django.views.decorators.debug import sensitive_variables

from ..history import history_record
from ..models import (
    AuthorizationRequest,
    Company,
    Connection,
    CredentialSet,
    HistoryEvent,
)
from ..sage import oauth
from ..sage.businesses import Business, list_businesses
from ..sage.countries import countries_for
from ..sage.errors import SageApiError, SageOAuthError
from ..sage.versions import ApiVersion
from .linking import LinkUnavailable, callback_url

PROVIDER_ERRORS = {
    "invalid_request",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
    "unauthorized_client",
    "unsupported_response_type",
}
# Stored in Connection.last_error in English; the pages translate them when shown.
FAILURE_MESSAGES = {
    "access_denied": gettext_noop("The customer cancelled the authorization at Sage."),
    "provider_error": gettext_noop("Sage did not authorize the link."),
    "integration_disabled": gettext_noop("The integration was disabled during the link."),
    "credentials_changed": gettext_noop("The integration's credentials changed during the link."),
    "invalid_grant": gettext_noop("Sage refused the authorization code (expired or already used)."),
    "invalid_client": gettext_noop("Sage rejected the integration's client ID or secret."),
    "rejected": gettext_noop("Sage refused the token request."),
    "unavailable": gettext_noop("Sage's token endpoint could not be reached."),
    "bad_response": gettext_noop("Sage's token endpoint sent an unusable answer."),
    "businesses": gettext_noop("Sage's list of businesses could not be read."),
    "no_business": gettext_noop("The Sage account has no business to link."),
}


# What a completed trip to Sage writes on the connection (updated_at: auto_now
# only applies to the fields save() is told to write).
STORED_FIELDS = (
    "integration",
    "credential_set",
    "api_version",
    "country",
    "access_token",
    "refresh_token",
    "access_token_expires_at",
    "refresh_token_expires_at",
    "resource_owner_id",
    "business_id",
    "business_name",
    "last_refreshed_at",
    "last_error",
    "status",
    "updated_at",
)


class AlreadyLinked(Exception):
    """Another browser finished linking this company while this one was at Sage."""


class Result(models.TextChoices):
    LINKED = "linked"
    CHOOSE_BUSINESS = "choose_business"
    CANCELLED = "cancelled"
    PROVIDER_ERROR = "provider_error"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    result: str
    company: Company
    connection: Connection
    detail: str = ""
    businesses: list[Business] = field(default_factory=list)


def _fail(authorization: AuthorizationRequest, *, reason: str) -> None:
    """Record a failed link: last_error set, history, nothing else touched."""
    connection = authorization.connection
    with transaction.atomic():
        Connection.objects.filter(pk=connection.pk).update(
            last_error=FAILURE_MESSAGES[reason], updated_at=timezone.now()
        )
        history_record(
            organization=connection.company.organization,
            integration=authorization.credential_set.integration,
            company=connection.company,
            kind=HistoryEvent.Kind.LINK_FAILED,
            details={"reason": reason},
        )


def _refusal(authorization: AuthorizationRequest) -> str:
    """Why the link may not complete any more, or "".

    The credential set and its integration were read when the authorization request
    was consumed, at the start of this callback: they are the state the customer's
    trip to Sage came back to.
    """
    current = authorization.credential_set
    if not current.integration.enabled:
        return "integration_disabled"
    if current.client_id != authorization.client_id or not current.is_complete:
        return "credentials_changed"
    return ""


def _outcome(authorization, result, detail="", businesses=()) -> Outcome:
    connection = authorization.connection
    return Outcome(result, connection.company, connection, detail, list(businesses))


@sensitive_variables("params", "tokens")
def link_complete(*, authorization: AuthorizationRequest, params) -> Outcome:
    """Finish the trip to Sage for a consumed authorization request."""
    error = params.get("error", "")
    if error == "access_denied":
        _fail(authorization, reason="access_denied")
        return _outcome(authorization, Result.CANCELLED)
    if error or not params.get("code"):
        _fail(authorization, reason="provider_error")
        detail = error if error in PROVIDER_ERRORS else "other"
        return _outcome(authorization, Result.PROVIDER_ERROR, detail)
    refusal = _refusal(authorization)
    if refusal:
        _fail(authorization, reason=refusal)
        return _outcome(authorization, Result.REFUSED, refusal)
    credential_set = authorization.credential_set
    try:
        tokens = oauth.exchange_code(
            credential_set=credential_set,
            code=params["code"],
            code_verifier=authorization.code_verifier or None,
            redirect_uri=callback_url(),
        )
    except SageOAuthError as exc:
        _fail(authorization, reason=exc.kind)
        return _outcome(authorization, Result.FAILED, exc.kind)
    businesses: list[Business] = []
    if credential_set.api_version == ApiVersion.V31:
        try:
            businesses = list_businesses(tokens.access_token)
        except SageApiError:
            _fail(authorization, reason="businesses")
            return _outcome(authorization, Result.FAILED, "businesses")
        if not businesses:
            _fail(authorization, reason="no_business")
            return _outcome(authorization, Result.FAILED, "no_business")
    country = str(params.get("country", "")).upper()
    offered = {c.code for c in countries_for(credential_set.api_version)}
    try:
        _store(
            authorization,
            tokens=tokens,
            country=country if country in offered else authorization.country,
            business=businesses[0] if len(businesses) == 1 else None,
        )
    except AlreadyLinked:
        _abandon(credential_set, tokens)
        return _outcome(authorization, Result.REFUSED, "already_linked")
    if len(businesses) > 1:
        return _outcome(authorization, Result.CHOOSE_BUSINESS, businesses=businesses)
    return _outcome(authorization, Result.LINKED)


@sensitive_variables("tokens")
@transaction.atomic
def _store(authorization, *, tokens: oauth.TokenSet, country: str, business: Business | None):
    """Store the new tokens encrypted; Linked now unless a business must still be chosen."""
    credential_set = authorization.credential_set
    connection = authorization.connection
    # Lock the row and read its status under the lock; the other columns read with
    # the authorization request are all rewritten below (company and created_at
    # never change).
    status = (
        Connection.objects.select_for_update()
        .filter(pk=connection.pk)
        .values_list("status", flat=True)
        .get()
    )
    if status == Connection.Status.LINKED:
        # Starting refuses Linked companies, so this one was linked by another
        # browser meanwhile: keep its tokens rather than silently replacing them.
        raise AlreadyLinked
    now = timezone.now()
    connection.integration = credential_set.integration
    connection.credential_set = credential_set
    connection.api_version = credential_set.api_version
    connection.country = country
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token or ""
    connection.access_token_expires_at = now + timedelta(seconds=tokens.expires_in or 300)
    connection.refresh_token_expires_at = (
        now + timedelta(seconds=tokens.refresh_token_expires_in)
        if tokens.refresh_token_expires_in
        else None
    )
    connection.resource_owner_id = tokens.resource_owner_id or ""
    connection.business_id = business.id if business else ""
    connection.business_name = business.name if business else ""
    connection.last_refreshed_at = now
    connection.last_error = ""
    v30 = credential_set.api_version == ApiVersion.V30
    connection.status = (
        Connection.Status.LINKED if business or v30 else Connection.Status.PENDING_AUTH
    )
    connection.save(update_fields=STORED_FIELDS)
    if connection.status == Connection.Status.LINKED:
        _record_linked(connection)


@sensitive_variables("tokens")
def _abandon(credential_set: CredentialSet, tokens: oauth.TokenSet) -> None:
    """Revoke tokens we will not keep, so they do not stay valid at Sage (best effort)."""
    if credential_set.api_version != ApiVersion.V31 or not tokens.refresh_token:
        return
    # If the revoke fails they expire on their own; the customer's link is already done.
    with contextlib.suppress(SageOAuthError):
        oauth.revoke_token(credential_set=credential_set, token=tokens.refresh_token)


def _record_linked(connection: Connection) -> None:
    history_record(
        organization=connection.company.organization,
        integration=connection.integration,
        company=connection.company,
        kind=HistoryEvent.Kind.LINKED,
        details={
            "country": connection.country,
            "api_version": connection.api_version,
            "business": connection.business_name,
        },
    )


@transaction.atomic
def connection_business_choose(*, connection_id, business: Business) -> Connection:
    """Link the business the customer picked; raise LinkUnavailable if it is too late."""
    connection = (
        Connection.objects.select_for_update()
        .select_related("company__organization", "integration")
        .filter(pk=connection_id)
        .first()
    )
    if connection is None or connection.status != Connection.Status.PENDING_AUTH:
        raise LinkUnavailable("linked" if connection else "unknown")
    if not connection.access_token:
        raise LinkUnavailable("unknown")
    connection.business_id = business.id
    connection.business_name = business.name
    connection.status = Connection.Status.LINKED
    connection.save()
    _record_linked(connection)
    return connection
