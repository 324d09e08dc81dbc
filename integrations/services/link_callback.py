"""The end of the trip to Sage: the callback's outcome, the tokens, the business choice."""

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone
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
from .link_outcomes import (
    FAILURE_MESSAGES,
    PROVIDER_ERROR_NOTICES,
    TOKEN_ERROR_NOTICES,
    LinkFailure,
    Notice,
    ProviderError,
)
from .linking import LinkUnavailable, Unavailable, callback_url

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
    result: Result
    company: Company
    connection: Connection
    notice: Notice
    businesses: list[Business] = field(default_factory=list)


def _fail(authorization: AuthorizationRequest, *, reason: LinkFailure) -> None:
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
            details={"reason": LinkFailure(reason).value},
        )


def _refusal(authorization: AuthorizationRequest) -> LinkFailure | None:
    """Why the link may not complete any more, or None.

    The credential set and its integration were read when the authorization request
    was consumed, at the start of this callback: they are the state the customer's
    trip to Sage came back to.
    """
    current = authorization.credential_set
    if not current.integration.enabled:
        return LinkFailure.INTEGRATION_DISABLED
    if current.client_id != authorization.client_id or not current.is_complete:
        return LinkFailure.CREDENTIALS_CHANGED
    return None


def _outcome(authorization, result: Result, notice: Notice, businesses=()) -> Outcome:
    connection = authorization.connection
    return Outcome(result, connection.company, connection, notice, list(businesses))


@sensitive_variables("params", "tokens")
def link_complete(*, authorization: AuthorizationRequest, params) -> Outcome:
    """Finish the trip to Sage for a consumed authorization request."""
    error = params.get("error", "")
    if error == ProviderError.ACCESS_DENIED:
        _fail(authorization, reason=LinkFailure.ACCESS_DENIED)
        return _outcome(authorization, Result.CANCELLED, Notice.CANCELLED)
    if error or not params.get("code"):
        _fail(authorization, reason=LinkFailure.PROVIDER_ERROR)
        notice = PROVIDER_ERROR_NOTICES.get(error, Notice.PROVIDER_ERROR)
        return _outcome(authorization, Result.PROVIDER_ERROR, notice)
    refusal = _refusal(authorization)
    if refusal:
        _fail(authorization, reason=refusal)
        return _outcome(authorization, Result.REFUSED, Notice.INTEGRATION_CHANGED)
    credential_set = authorization.credential_set
    try:
        tokens = oauth.exchange_code(
            credential_set=credential_set,
            code=params["code"],
            code_verifier=authorization.code_verifier or None,
            redirect_uri=callback_url(),
        )
    except SageOAuthError as exc:
        _fail(authorization, reason=LinkFailure(exc.kind))
        return _outcome(authorization, Result.FAILED, TOKEN_ERROR_NOTICES[exc.kind])
    businesses: list[Business] = []
    if credential_set.api_version == ApiVersion.V31:
        try:
            businesses = list_businesses(tokens.access_token)
        except SageApiError:
            _fail(authorization, reason=LinkFailure.BUSINESSES)
            return _outcome(authorization, Result.FAILED, Notice.UNREACHABLE)
        if not businesses:
            _fail(authorization, reason=LinkFailure.NO_BUSINESS)
            return _outcome(authorization, Result.FAILED, Notice.NO_BUSINESS)
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
        return _outcome(authorization, Result.REFUSED, Notice.ALREADY_LINKED)
    if len(businesses) > 1:
        # Until a business is chosen, the done page says what it said before a choice.
        return _outcome(authorization, Result.CHOOSE_BUSINESS, Notice.UNREACHABLE, businesses)
    notice = Notice.linked(authorization.connection.business_name)
    return _outcome(authorization, Result.LINKED, notice)


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
        raise LinkUnavailable(Unavailable.LINKED if connection else Unavailable.UNKNOWN)
    if not connection.access_token:
        raise LinkUnavailable(Unavailable.UNKNOWN)
    connection.business_id = business.id
    connection.business_name = business.name
    connection.status = Connection.Status.LINKED
    connection.save()
    _record_linked(connection)
    return connection
