"""The end of the trip to Sage: the callback's outcome, the tokens, the business choice."""

import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations import accounting
from integrations.accounting import (
    AccountingApiError,
    AccountingOAuthError,
    Business,
    countries_for,
    list_businesses,
    oauth,
)
from integrations.audit.history import history_record
from integrations.connections.lifecycle import AlreadyLinked, connection_link
from integrations.fields import unreadable_fields
from integrations.linking.outcomes import (
    FAILURE_MESSAGES,
    PROVIDER_ERROR_NOTICES,
    TOKEN_ERROR_NOTICES,
    LinkFailure,
    Notice,
    ProviderError,
)
from integrations.linking.services import callback_url, link_token_hash
from integrations.linking.way_back import way_back_url
from integrations.models import (
    AuthorizationRequest,
    Company,
    Connection,
    CredentialSet,
    HistoryEvent,
)
from integrations.redirect_urls import WayBackStatus
from integrations.webhooks.models import WebhookEvent
from integrations.webhooks.services import webhook_emit

logger = logging.getLogger(__name__)


class Result(models.TextChoices):
    LINKED = "linked"
    CHOOSE_BUSINESS = "choose_business"
    CANCELLED = "cancelled"
    PROVIDER_ERROR = "provider_error"
    REFUSED = "refused"
    FAILED = "failed"


# What the platform's redirect URL reads in {status} at the end of a trip; a business
# still to choose is not an end.
WAY_BACK_STATUS = {
    Result.LINKED: WayBackStatus.LINKED,
    Result.CANCELLED: WayBackStatus.CANCELLED,  # the customer denied access at Sage
    Result.PROVIDER_ERROR: WayBackStatus.FAILED,
    Result.REFUSED: WayBackStatus.FAILED,
    Result.FAILED: WayBackStatus.FAILED,
}


@dataclass(frozen=True)
class Outcome:
    result: Result
    company: Company
    connection: Connection
    notice: Notice
    businesses: list[Business] = field(default_factory=list)
    way_back: str = ""  # the platform's redirect URL, filled in, or "" for our own page


def _fail(authorization: AuthorizationRequest, *, reason: LinkFailure) -> None:
    """Record a failed link: last_error set, history, nothing else touched."""
    connection = authorization.connection
    with transaction.atomic():
        Connection.objects.filter(pk=connection.pk).update(
            last_error=FAILURE_MESSAGES[reason],
            last_error_code=f"link_{LinkFailure(reason).value}",
            updated_at=timezone.now(),
        )
        history_record(
            organization=connection.company.organization,
            integration=authorization.credential_set.integration,
            company=connection.company,
            kind=HistoryEvent.Kind.LINK_FAILED,
            details={"reason": LinkFailure(reason).value},
        )
        webhook_emit(
            event=WebhookEvent.LINK_FAILED,
            company=connection.company,
            connection=connection,
            reason=LinkFailure(reason).value,
        )


def _refusal(authorization: AuthorizationRequest) -> LinkFailure | None:
    """Why the link may not complete any more, or None.

    The credential set and its integration were read when the authorization request
    was consumed, at the start of this callback: they are the state the customer's
    trip to Sage came back to.
    """
    company = authorization.connection.company
    started_from = authorization.link_token_hash
    if started_from and (
        link_token_hash(company.link_token) != started_from or not company.link_is_valid
    ):
        return LinkFailure.LINK_RENEWED
    current = authorization.credential_set
    if not current.integration.enabled:
        return LinkFailure.INTEGRATION_DISABLED
    if current.client_id != authorization.client_id or not current.is_complete:
        return LinkFailure.CREDENTIALS_CHANGED
    return None


def _outcome(
    authorization: AuthorizationRequest,
    result: Result,
    notice: Notice,
    businesses: Iterable[Business] = (),
) -> Outcome:
    connection = authorization.connection
    status = WAY_BACK_STATUS.get(result)
    way_back = (
        way_back_url(
            company=connection.company,
            integration=authorization.credential_set.integration,
            status=status,
        )
        if status is not None
        else ""
    )
    return Outcome(result, connection.company, connection, notice, list(businesses), way_back)


@sensitive_variables("params", "tokens")
def link_complete(*, authorization: AuthorizationRequest, params: Mapping[str, str]) -> Outcome:
    """Finish the trip to Sage for a consumed authorization request."""
    error = params.get("error", "")
    if error == ProviderError.ACCESS_DENIED:
        _fail(authorization, reason=LinkFailure.ACCESS_DENIED)
        return _outcome(authorization, Result.CANCELLED, Notice.CANCELLED)
    if error or not params.get("code"):
        _fail(authorization, reason=LinkFailure.PROVIDER_ERROR)
        notice = PROVIDER_ERROR_NOTICES.get(error, Notice.PROVIDER_ERROR)
        return _outcome(authorization, Result.PROVIDER_ERROR, notice)
    unreadable = unreadable_fields(authorization) + unreadable_fields(authorization.credential_set)
    if unreadable:
        logger.error(
            "Link of connection %s failed: stored secrets (%s) cannot be read with the "
            "current encryption keys.",
            authorization.connection.pk,
            ", ".join(unreadable),
        )
        _fail(authorization, reason=LinkFailure.SECRETS_UNREADABLE)
        return _outcome(authorization, Result.FAILED, Notice.NOT_COMPLETED)
    refusal = _refusal(authorization)
    if refusal:
        _fail(authorization, reason=refusal)
        replaced = refusal == LinkFailure.LINK_RENEWED
        notice = Notice.LINK_REPLACED if replaced else Notice.INTEGRATION_CHANGED
        return _outcome(authorization, Result.REFUSED, notice)
    credential_set = authorization.credential_set
    try:
        tokens = oauth.exchange_code(
            credential_set=credential_set,
            code=params["code"],
            code_verifier=authorization.code_verifier or None,
            redirect_uri=callback_url(),
        )
    except AccountingOAuthError as exc:
        reason = LinkFailure(exc.kind)
        if reason == LinkFailure.INVALID_CLIENT:
            # The admins' keys no longer work: every customer's link fails until fixed.
            logger.error(
                "Sage rejected the client ID and secret of integration %s (credential set "
                "%s) during the link of connection %s (invalid_client).",
                credential_set.integration_id,
                credential_set.pk,
                authorization.connection.pk,
            )
            # What the settings and integrations pages show for these keys from now on.
            CredentialSet.objects.filter(pk=credential_set.pk).update(
                last_check_result=CredentialSet.Check.REJECTED, last_check_at=timezone.now()
            )
        _fail(authorization, reason=reason)
        return _outcome(authorization, Result.FAILED, TOKEN_ERROR_NOTICES[reason])
    businesses: list[Business] = []
    if accounting.lists_businesses(credential_set.api_version):
        try:
            businesses = list_businesses(tokens.access_token)
        except AccountingApiError:
            _fail(authorization, reason=LinkFailure.BUSINESSES)
            return _outcome(authorization, Result.FAILED, Notice.UNREACHABLE)
        if not businesses:
            _fail(authorization, reason=LinkFailure.NO_BUSINESS)
            return _outcome(authorization, Result.FAILED, Notice.NO_BUSINESS)
    country = str(params.get("country", "")).upper()
    offered = {c.code for c in countries_for(credential_set.api_version)}
    try:
        connection_link(
            connection=authorization.connection,
            credential_set=credential_set,
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
def _abandon(credential_set: CredentialSet, tokens: oauth.TokenSet) -> None:
    """Revoke tokens we will not keep, so they do not stay valid at Sage (best effort)."""
    if not accounting.can_revoke(credential_set.api_version) or not tokens.refresh_token:
        return
    # If the revoke fails they expire on their own; the customer's link is already done.
    with contextlib.suppress(AccountingOAuthError):
        oauth.revoke_token(credential_set=credential_set, token=tokens.refresh_token)
