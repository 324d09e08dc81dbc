"""Keeping a connection's tokens alive: refresh under a row lock, deauthorization.

Sage rotates the refresh token on every refresh, so two workers spending the
same one would break the connection: the refresh locks the row, re-reads it,
and skips when another worker has just done the work.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.debug import sensitive_variables

from ..history import history_record
from ..models import Connection, HistoryEvent
from ..sage import oauth
from ..sage.client import ApiAuth, SageClient
from ..sage.errors import SageOAuthError

logger = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(seconds=60)

# Stored in `last_error` untranslated, so that each page translates them for its reader.
MUST_RELINK = gettext_noop(
    "Sage no longer accepts this company's authorization: "
    "the company must link its Sage business again."
)
REFRESH_UNAVAILABLE = gettext_noop("Sage could not be reached to refresh the tokens; will retry.")
REFRESH_REFUSED = gettext_noop("Sage refused to refresh the tokens.")


class TokenError(Exception):
    """The connection has no usable access token."""

    retryable = False


class RelinkRequired(TokenError):
    """Sage no longer accepts this connection's tokens: the company must link again."""

    def __init__(self, message: str | None = None):
        super().__init__(message or gettext(MUST_RELINK))


class RefreshFailed(TokenError):
    """The refresh did not happen this time; the tokens are kept."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


def access_token_is_fresh(connection: Connection) -> bool:
    expires_at = connection.access_token_expires_at
    return bool(
        connection.access_token and expires_at and expires_at - timezone.now() > REFRESH_MARGIN
    )


def _check_usable(connection: Connection) -> None:
    if connection.status == Connection.Status.DEAUTHORIZED:
        raise RelinkRequired()
    if connection.status != Connection.Status.LINKED or not connection.refresh_token:
        raise RelinkRequired(gettext("This company is not linked to Sage."))


def _store(connection: Connection, tokens: oauth.TokenSet) -> None:
    now = timezone.now()
    connection.access_token = tokens.access_token
    if tokens.refresh_token:  # Sage may answer without one: keep the old refresh token.
        connection.refresh_token = tokens.refresh_token
        if tokens.refresh_token_expires_in:
            connection.refresh_token_expires_at = now + timedelta(
                seconds=tokens.refresh_token_expires_in
            )
    connection.access_token_expires_at = now + timedelta(seconds=tokens.expires_in or 300)
    connection.last_refreshed_at = now
    connection.last_error = ""
    connection.save()


def _deauthorize(connection: Connection, *, reason: HistoryEvent.Reason, actor=None) -> None:
    connection.status = Connection.Status.DEAUTHORIZED
    connection.access_token = ""
    connection.refresh_token = ""
    connection.access_token_expires_at = None
    connection.refresh_token_expires_at = None
    connection.last_error = MUST_RELINK
    connection.save()
    history_record(
        organization=connection.company.organization,
        kind=HistoryEvent.Kind.DEAUTHORIZED,
        actor=actor,
        integration=connection.integration,
        company=connection.company,
        details={"reason": HistoryEvent.Reason(reason).value},
    )


def _record_failure(connection: Connection, error: SageOAuthError) -> str:
    message = REFRESH_UNAVAILABLE if error.kind == "unavailable" else REFRESH_REFUSED
    if not connection.last_error:  # one history event per failing streak, not per try
        history_record(
            organization=connection.company.organization,
            kind=HistoryEvent.Kind.REFRESH_FAILED,
            integration=connection.integration,
            company=connection.company,
            details={"error": error.error or error.kind},
        )
    connection.last_error = message
    connection.save(update_fields=["last_error", "updated_at"])
    return gettext(message)


@sensitive_variables()
def connection_refresh(*, connection: Connection, keepalive: bool = False) -> Connection:
    """Refresh the connection's tokens under a row lock; return the fresh connection.

    Skips the call to Sage when another worker already refreshed: the access
    token is fresh (or, for `keepalive`, the refresh token is no longer due).
    """
    failure: TokenError | None = None
    with transaction.atomic():
        locked = (
            Connection.objects.select_for_update(of=("self",))
            .select_related("credential_set", "company__organization", "integration")
            .get(pk=connection.pk)
        )
        _check_usable(locked)
        done = not locked.refresh_expires_soon if keepalive else access_token_is_fresh(locked)
        if done:
            return locked
        try:
            # The lock is held across the call so that nobody else spends this refresh token.
            tokens = oauth.refresh_tokens(
                credential_set=locked.credential_set, refresh_token=locked.refresh_token
            )
        except SageOAuthError as error:
            logger.warning(
                "Refreshing connection %s failed: %s (%s)", locked.pk, error.kind, error.error
            )
            if error.kind == "invalid_grant":
                _deauthorize(locked, reason=HistoryEvent.Reason.INVALID_GRANT)
                failure = RelinkRequired()
            else:
                failure = RefreshFailed(_record_failure(locked, error), retryable=error.retryable)
        else:
            _store(locked, tokens)
            logger.info("Refreshed connection %s", locked.pk)
    if failure is not None:
        # Raised after the commit: the Deauthorized status or last_error must stay.
        raise failure
    return locked


def connection_ensure_fresh(*, connection: Connection) -> Connection:
    """Return the connection with an access token valid for over a minute, refreshing if not."""
    _check_usable(connection)  # fail fast: no HTTP for a connection that must relink
    if access_token_is_fresh(connection):
        return connection
    return connection_refresh(connection=connection)


def connection_deauthorize(
    *, connection: Connection, reason: HistoryEvent.Reason, actor=None
) -> Connection:
    """Mark the connection Deauthorized and forget its tokens."""
    with transaction.atomic():
        locked = (
            Connection.objects.select_for_update(of=("self",))
            .select_related("company__organization", "integration")
            .get(pk=connection.pk)
        )
        _deauthorize(locked, reason=reason, actor=actor)
    return locked


def connection_client(*, connection: Connection) -> SageClient:
    """Return an API client that refreshes the connection's token before each call as needed.

    Its calls raise SageApiError, or a TokenError when the token cannot be refreshed.
    """
    _check_usable(connection)
    current = {"connection": connection}

    @sensitive_variables()
    def auth() -> ApiAuth:
        fresh = connection_ensure_fresh(connection=current["connection"])
        current["connection"] = fresh
        credential_set = fresh.credential_set
        return ApiAuth(
            api_version=fresh.api_version,
            access_token=fresh.access_token,
            business_id=fresh.business_id,
            resource_owner_id=fresh.resource_owner_id,
            subscription_key=credential_set.subscription_key,
            signing_secret=credential_set.signing_secret,
        )

    return SageClient(auth, api_version=connection.api_version)
