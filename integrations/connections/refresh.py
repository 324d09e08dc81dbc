"""Refreshing a connection's tokens, and what a refusal does: deauthorize it.

Every status change goes through `Connection.move_to`, which holds the one table of
allowed transitions. Sage rotates the refresh token on every refresh, so two
workers spending the same one would break the connection: the refresh locks the
row, re-reads it, and skips when another worker has just done the work. The wait
for that lock is bounded (REFRESH_LOCK_TIMEOUT): a page answers "busy, try again"
and the keep-alive tries again on its next pass, rather than queueing behind a
refresh that is itself waiting for Sage.
"""

import logging
import time
import uuid

from django.conf import settings
from django.core.mail import mail_admins
from django.db import DatabaseError, OperationalError, transaction
from django.db import connection as db_connection
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables

from integrations.accounting import AccountingOAuthError, OAuthErrorKind, oauth
from integrations.audit.history import Actor
from integrations.connections.errors import (
    MUST_RELINK,
    REFRESH_REFUSED,
    REFRESH_UNAVAILABLE,
    TOKENS_NOT_SAVED,
    ConnectionBusy,
    RefreshFailed,
    RelinkRequired,
    TokenError,
    TokensNotSaved,
)
from integrations.connections.events import transition_announce
from integrations.connections.live_data_cache import live_data_forget
from integrations.connections.states import state_after
from integrations.models import Connection, HistoryEvent

logger = logging.getLogger(__name__)

# Saving the tokens Sage has just rotated: tries in all, and the pause between them.
STORE_ATTEMPTS = 3
STORE_RETRY_WAIT = 0.2
# PostgreSQL's SQLSTATE for lock_not_available (lock_timeout reached, or NOWAIT).
LOCK_NOT_AVAILABLE = "55P03"

# What a refresh writes: the tokens Sage rotated (Connection.store_tokens).
TOKEN_FIELDS = (
    "access_token",
    "refresh_token",
    "access_token_expires_at",
    "refresh_token_expires_at",
    "last_refreshed_at",
    "last_error",
    "last_error_code",
    "updated_at",
)
# What a change of status that drops the tokens writes (Connection.forget_tokens), with
# the state it leads to.
FORGET_FIELDS = [
    "status",
    "state",
    "access_token",
    "refresh_token",
    "access_token_expires_at",
    "refresh_token_expires_at",
    "updated_at",
]


def locked_row(pk: uuid.UUID, *related: str) -> Connection:
    """Read the connection under a row lock (inside the caller's transaction)."""
    return (
        Connection.objects.select_for_update(of=("self",))
        .select_related("company__organization", "integration", *related)
        .get(pk=pk)
    )


def _locked_for_refresh(pk: uuid.UUID) -> Connection:
    """Take the row lock for a refresh, waiting at most REFRESH_LOCK_TIMEOUT seconds.

    PostgreSQL's `lock_timeout` rather than NOWAIT and retries: the server wakes the
    waiter the moment the lock is released (no polling, no extra round trips), and
    `SET LOCAL` ends with the transaction. SQLite has no row locks: nothing to bound.
    """
    if db_connection.vendor == "postgresql":
        milliseconds = max(1, round(float(settings.REFRESH_LOCK_TIMEOUT) * 1000))
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])
    try:
        return locked_row(pk, "credential_set")
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            logger.info("Connection %s is locked by another refresh; not waiting longer", pk)
            raise ConnectionBusy from None
        raise


def check_usable(connection: Connection) -> None:
    """Raise RelinkRequired unless the connection is Linked with a refresh token."""
    if connection.status == Connection.Status.DEAUTHORIZED:
        raise RelinkRequired()
    if not connection.is_linked or not connection.refresh_token:
        raise RelinkRequired(gettext("This company is not linked to Sage."))


def _record_refresh_failure(connection: Connection, error: AccountingOAuthError) -> str:
    unavailable = error.kind == OAuthErrorKind.UNAVAILABLE
    message = REFRESH_UNAVAILABLE if unavailable else REFRESH_REFUSED
    first = not connection.last_error  # one history event per failing streak, not per try
    connection.last_error = message
    connection.last_error_code = "refresh_unavailable" if unavailable else "refresh_refused"
    connection.save(update_fields=["last_error", "last_error_code", "updated_at"])
    if first:
        code = str(error.error or error.kind)
        transition_announce(
            connection, HistoryEvent.Kind.REFRESH_FAILED, webhook={"error": code}, error=code
        )
    else:
        live_data_forget(connection.pk)
    return gettext(message)


def connection_record_error(
    *, connection_id: uuid.UUID, message: str, code: str, error: str, always: bool = False
) -> None:
    """Set `last_error` (untranslated) without touching the tokens; record history.

    Used when the row itself may be what fails (its tokens cannot be read or saved):
    one UPDATE of two columns, then the history event (once per failing streak,
    unless `always`), each in a savepoint of its own, so that the error stays
    recorded on the connection even when its event cannot be written.
    """
    with transaction.atomic():
        connection = Connection.objects.select_related("company__organization", "integration").get(
            pk=connection_id
        )
        Connection.objects.filter(pk=connection_id).update(
            last_error=message, last_error_code=code, updated_at=timezone.now()
        )
    if always or not connection.last_error:
        connection.last_error, connection.last_error_code = message, code
        with transaction.atomic():
            transition_announce(
                connection, HistoryEvent.Kind.REFRESH_FAILED, webhook={"error": error}, error=error
            )


def _store_refreshed(locked: Connection, tokens: oauth.TokenSet) -> None:
    """Save the tokens Sage has just rotated, retrying: the old refresh token is already spent."""
    locked.store_tokens(tokens)
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            # A savepoint: a failed try leaves the transaction (and its row lock) usable.
            with transaction.atomic():
                locked.save(update_fields=TOKEN_FIELDS)
            return
        except DatabaseError as error:
            if attempt == STORE_ATTEMPTS:
                raise
            logger.warning(
                "Saving the refreshed tokens of connection %s failed (%s, try %d of %d); retrying",
                locked.pk,
                type(error).__name__,
                attempt,
                STORE_ATTEMPTS,
            )
            time.sleep(STORE_RETRY_WAIT * attempt)


def _report_tokens_not_saved(locked: Connection, error: Exception) -> None:
    """Log, alert the admins and (if the database lets us) record that the rotated tokens are lost.

    Neither the log nor the mail carries a token: the mail is written here, from the
    connection's id and names and the error's class only.
    """
    logger.error(
        "Sage rotated the tokens of connection %s but they could not be saved; "
        "its stored refresh token is spent and its next refresh will fail (invalid_grant)",
        locked.pk,
        exc_info=True,
    )
    company = locked.company
    try:
        mail_admins(
            f"Sage tokens of connection {locked.pk} could not be saved",
            "Sage rotated the refresh token of this connection, and saving the new tokens "
            f"failed ({type(error).__name__}; database errors are tried {STORE_ATTEMPTS} times). "
            "The stored refresh token is spent: the next refresh will fail with invalid_grant "
            "and the company will have to link its Sage business again.\n\n"
            f"Connection: {locked.pk}\n"
            f"Company: {company.name} ({company.pk})\n"
            f"Organization: {company.organization.name} ({company.organization.pk})\n",
        )
    except Exception:  # noqa: BLE001 - the log above already tells the operator
        logger.exception("Could not mail the admins about connection %s", locked.pk)
    try:
        connection_record_error(
            connection_id=locked.pk,
            message=TOKENS_NOT_SAVED,
            code="tokens_not_saved",
            error="tokens_not_saved",
            always=True,
        )
    except DatabaseError:
        logger.exception("Could not record the lost tokens on connection %s", locked.pk)


@sensitive_variables()
def connection_refresh(
    *,
    connection: Connection,
    keepalive: bool = False,
    rejected_access_token: str | None = None,
) -> Connection:
    """Refresh the connection's tokens under a row lock; return the fresh connection.

    Skips the call to Sage when another worker already refreshed: the access
    token is fresh (or, for `keepalive`, the refresh token is no longer due; or,
    given `rejected_access_token`, the one Sage refused is no longer the stored one).
    Raises ConnectionBusy when the row stays locked for REFRESH_LOCK_TIMEOUT.
    """
    failure: TokenError | None = None
    with transaction.atomic():
        locked = _locked_for_refresh(connection.pk)
        check_usable(locked)
        if rejected_access_token is not None:
            done = locked.access_token != rejected_access_token
        elif keepalive:
            done = not locked.refresh_expires_soon
        else:
            done = locked.access_token_is_fresh
        if done:
            return locked
        try:
            # The lock is held across the call so that nobody else spends this refresh token.
            tokens = oauth.refresh_tokens(
                credential_set=locked.credential_set, refresh_token=locked.refresh_token
            )
        except AccountingOAuthError as error:
            logger.warning(
                "Refreshing connection %s failed: %s (%s)", locked.pk, error.kind, error.error
            )
            if error.kind == OAuthErrorKind.INVALID_GRANT:
                locked = connection_deauthorize(
                    connection=locked, reason=HistoryEvent.Reason.INVALID_GRANT
                )
                failure = RelinkRequired()
            else:
                message = _record_refresh_failure(locked, error)
                failure = RefreshFailed(message, retryable=error.retryable)
        else:
            try:
                _store_refreshed(locked, tokens)
            except Exception as error:  # noqa: BLE001 - whatever it is, the tokens are lost
                _report_tokens_not_saved(locked, error)
                failure = TokensNotSaved()
            else:
                logger.info("Refreshed connection %s", locked.pk)
    if failure is not None:
        # Raised after the commit: the Deauthorized status or last_error must stay.
        raise failure
    return locked


@transaction.atomic
def connection_deauthorize(
    *, connection: Connection, reason: HistoryEvent.Reason, actor: Actor = None
) -> Connection:
    """Mark the connection Deauthorized and forget its tokens (Sage no longer accepts them)."""
    locked = locked_row(connection.pk)
    locked.move_to(Connection.Status.DEAUTHORIZED)
    locked.forget_tokens()
    locked.last_error = MUST_RELINK
    locked.last_error_code = "must_relink"
    locked.state = state_after(locked, HistoryEvent.Kind.DEAUTHORIZED)
    locked.save(update_fields=[*FORGET_FIELDS, "last_error", "last_error_code"])
    transition_announce(
        locked,
        HistoryEvent.Kind.DEAUTHORIZED,
        actor=actor,
        webhook={"reason": str(reason)},
        reason=HistoryEvent.Reason(reason),
    )
    return locked
