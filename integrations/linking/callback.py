"""The end of the trip to Sage: the callback's outcome, the tokens, the business choice."""

import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from django.db import models
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
from integrations.connections.errors import AlreadyLinked
from integrations.connections.link import (
    connection_business_choose,
    connection_link,
    connection_link_failed,
)
from integrations.fields import unreadable_fields
from integrations.linking.outcomes import (
    FAILURE_MESSAGES,
    NOTICE_WORDING,
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
)
from integrations.redirect_urls import WayBackStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

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
class LinkOutcome:
    """How the trip to Sage ended, as the done page shows it (kept in the session)."""

    result: Result
    notice: Notice
    company: str
    token: str = ""  # the link URL's token while it can still be used: "Try again"
    business: str = ""
    organization: int = 0  # the organization that asked: its brand on the pages back
    way_back: str = ""  # the platform's redirect URL, filled in: sent there instead

    @property
    def title(self) -> "StrOrPromise":
        return NOTICE_WORDING[self.notice].title

    @property
    def message(self) -> str:
        names = {"company": self.company, "business": self.business}
        return NOTICE_WORDING[self.notice].message % names

    @property
    def success(self) -> bool:
        return self.notice.success


@dataclass(frozen=True)
class BusinessChoice:
    """The businesses the customer may pick from for the connection being linked."""

    connection: str
    businesses: tuple[tuple[str, str], ...]  # (id, name)
    # Where the trip ends once linked, worked out at the callback: the business page's
    # form may redirect there (its CSP names the origin) and reads nothing to know it.
    way_back: str = ""


@dataclass(frozen=True)
class Outcome:
    result: Result
    company: Company
    connection: Connection
    notice: Notice
    businesses: list[Business] = field(default_factory=list)
    way_back: str = ""  # the platform's redirect URL, filled in, or "" for our own page
    linked_way_back: str = ""  # a business to choose: the way back once it is chosen

    @property
    def stored(self) -> LinkOutcome:
        """What the view keeps in the session for the done page."""
        company = self.company
        return LinkOutcome(
            result=self.result,
            notice=self.notice,
            company=company.name,
            organization=company.organization_id,
            # "Try again" with the current link URL, but never hand a renewed one to
            # whoever came back with the old.
            token=(
                company.link_token
                if company.link_is_valid and self.notice != Notice.LINK_REPLACED
                else ""
            ),
            business=self.connection.business_name,
            way_back=self.way_back,
        )

    @property
    def choice(self) -> BusinessChoice | None:
        """The businesses to pick from, when Sage listed several; None otherwise."""
        if self.result != Result.CHOOSE_BUSINESS:
            return None
        businesses = tuple((b.id, b.name) for b in self.businesses)
        return BusinessChoice(str(self.connection.pk), businesses, self.linked_way_back)


def _fail(authorization: AuthorizationRequest, *, reason: LinkFailure) -> None:
    """Record a failed link: last_error set, history, nothing else touched."""
    connection_link_failed(
        connection=authorization.connection,
        integration=authorization.credential_set.integration,
        reason=LinkFailure(reason).value,
        message=FAILURE_MESSAGES[reason],
        code=f"link_{LinkFailure(reason).value}",
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
    choosing = result == Result.CHOOSE_BUSINESS
    # Worked out once: for the end of this trip, or for its end once a business is chosen.
    status = WayBackStatus.LINKED if choosing else WAY_BACK_STATUS.get(result)
    way_back = (
        way_back_url(
            company=connection.company,
            integration=authorization.credential_set.integration,
            status=status,
        )
        if status is not None
        else ""
    )
    ending, later = ("", way_back) if choosing else (way_back, "")
    return Outcome(result, connection.company, connection, notice, list(businesses), ending, later)


def link_business_choose(
    *, choice: BusinessChoice, business_id: str, outcome: LinkOutcome | None
) -> LinkOutcome:
    """Link the business the customer picked; return what the done page shows.

    `business_id` is one of `choice.businesses` (the form checked it); `outcome` is the
    one the callback stored. Raise ChoiceTooLate when the connection waits no more.
    """
    business = Business(id=business_id, name=dict(choice.businesses)[business_id])
    connection = connection_business_choose(connection_id=choice.connection, business=business)
    before = outcome or LinkOutcome(
        result=Result.LINKED,
        notice=Notice.LINKED,
        company=connection.company.name,
        organization=connection.company.organization_id,
    )
    return replace(
        before,
        result=Result.LINKED,
        notice=Notice.linked(business.name),
        business=business.name,
        way_back=choice.way_back,
    )


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
