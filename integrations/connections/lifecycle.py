"""The life of a connection: link, choose the business, refresh, deauthorize, unlink, relink.

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
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import mail_admins
from django.db import DatabaseError, OperationalError, transaction
from django.db import connection as db_connection
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.debug import sensitive_variables

from integrations import accounting
from integrations.accounting import AccountingOAuthError, Business, OAuthErrorKind, oauth
from integrations.audit.history import Actor, history_record, note_details
from integrations.connections.live_data_cache import live_data_forget
from integrations.connections.revocation import (
    held_token,
    note_revocation,
    revoke,
    revoke_after_commit,
)
from integrations.fields import unreadable_fields
from integrations.linking.services import LinkUnavailable, Unavailable
from integrations.models import Connection, CredentialSet, HistoryEvent
from integrations.sync.retention import sync_forget_after_commit
from integrations.webhooks.models import WebhookEvent
from integrations.webhooks.services import webhook_emit, webhook_link_event

logger = logging.getLogger(__name__)

# Stored in `last_error` untranslated, so that each page translates them for its reader.
MUST_RELINK = gettext_noop(
    "Sage no longer accepts this company's authorization: "
    "the company must link its Sage business again."
)
REFRESH_UNAVAILABLE = gettext_noop("Sage could not be reached to refresh the tokens; will retry.")
REFRESH_REFUSED = gettext_noop("Sage refused to refresh the tokens.")
TOKENS_NOT_SAVED = gettext_noop(
    "Sage renewed the tokens but the portal could not save them: the next refresh will "
    "fail and the company will probably have to link its Sage business again. "
    "The administrators have been alerted."
)
CONNECTION_BUSY = gettext_noop(
    "The connection to Sage is being renewed by another request; try again in a moment."
)

# Saving the tokens Sage has just rotated: tries in all, and the pause between them.
STORE_ATTEMPTS = 3
STORE_RETRY_WAIT = 0.2
# PostgreSQL's SQLSTATE for lock_not_available (lock_timeout reached, or NOWAIT).
LOCK_NOT_AVAILABLE = "55P03"

# What linking writes on the connection (updated_at: auto_now only applies to the
# fields save() is told to write).
LINK_FIELDS = (
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
    "last_error_code",
    "status",
    "updated_at",
)


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


class ConnectionBusy(TokenError):
    """Another worker holds the connection's row lock (a refresh under way): try again soon."""

    retryable = True

    def __init__(self) -> None:
        super().__init__(gettext(CONNECTION_BUSY))


class TokensNotSaved(TokenError):
    """Sage rotated the tokens but they could not be stored: the stored refresh token is spent."""

    def __init__(self) -> None:
        super().__init__(gettext(TOKENS_NOT_SAVED))


class AlreadyLinked(Exception):
    """Another browser finished linking this company while this one was at Sage."""


def _locked(pk: uuid.UUID, *related: str) -> Connection:
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
        return _locked(pk, "credential_set")
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


def _record(
    connection: Connection, kind: HistoryEvent.Kind, *, actor: Actor = None, **details: object
) -> HistoryEvent:
    return history_record(
        organization=connection.company.organization,
        integration=connection.integration,
        company=connection.company,
        actor=actor,
        kind=kind,
        details=details,
    )


def _record_linked(connection: Connection) -> None:
    """A link (or the business chosen): the events, and a first sync of its Sage data,
    queued once the link has committed (a link rolled back syncs nothing)."""
    # Imported here: the sync engine reads Sage through connections.client, which imports
    # this module.
    from integrations.sync.services import sync_request

    transaction.on_commit(lambda: sync_request(connection, "link"))
    webhook_emit(
        event=webhook_link_event(connection), company=connection.company, connection=connection
    )
    _record(
        connection,
        HistoryEvent.Kind.LINKED,
        country=connection.country,
        api_version=connection.api_version,
        business=connection.business_name,
    )


def _emit_deauthorized(connection: Connection, *, reason: str) -> None:
    event = WebhookEvent.CONNECTION_DEAUTHORIZED
    webhook_emit(event=event, company=connection.company, connection=connection, reason=reason)


def _emit_refresh_failed(connection: Connection, *, error: str) -> None:
    event = WebhookEvent.CONNECTION_REFRESH_FAILED
    webhook_emit(event=event, company=connection.company, connection=connection, error=error)


@sensitive_variables("tokens")
@transaction.atomic
def connection_link(
    *,
    connection: Connection,
    credential_set: CredentialSet,
    tokens: oauth.TokenSet,
    country: str,
    business: Business | None,
) -> Connection:
    """Store a completed trip to Sage: Linked now, or PendingAuth until a business is chosen.

    Raise AlreadyLinked when another browser linked the company meanwhile: its tokens
    are kept rather than silently replaced. `connection` comes with its company and
    organization; every column written here is set from the arguments.
    """
    # The row as it is now, under the lock: its status, and the tokens this trip replaces.
    current = Connection.objects.select_for_update(of=("self",)).select_related("credential_set")
    stored = current.get(pk=connection.pk)
    connection.status = stored.status
    v30 = accounting.is_legacy(credential_set.api_version)
    target = Connection.Status.LINKED if business or v30 else Connection.Status.PENDING_AUTH
    if not connection.can_move_to(target):
        raise AlreadyLinked
    connection.integration = credential_set.integration
    connection.credential_set = credential_set
    connection.api_version = credential_set.api_version
    connection.country = country
    connection.forget_tokens()
    connection.store_tokens(tokens)
    connection.resource_owner_id = tokens.resource_owner_id or ""
    connection.business_id = business.id if business else ""
    connection.business_name = business.name if business else ""
    connection.move_to(target)
    connection.save(update_fields=LINK_FIELDS)
    live_data_forget(connection.pk)  # a relink: the data may be another business's
    # A second trip for a company still choosing its business: the first one's tokens go.
    revoke_after_commit(held_token(stored))
    if connection.is_linked:
        _record_linked(connection)
    return connection


@transaction.atomic
def connection_business_choose(*, connection_id: uuid.UUID | str, business: Business) -> Connection:
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
    connection.move_to(Connection.Status.LINKED)
    connection.save()
    _record_linked(connection)
    return connection


def _record_refresh_failure(connection: Connection, error: AccountingOAuthError) -> str:
    unavailable = error.kind == OAuthErrorKind.UNAVAILABLE
    message = REFRESH_UNAVAILABLE if unavailable else REFRESH_REFUSED
    if not connection.last_error:  # one history event per failing streak, not per try
        _record(connection, HistoryEvent.Kind.REFRESH_FAILED, error=error.error or error.kind)
        _emit_refresh_failed(connection, error=str(error.error or error.kind))
    connection.last_error = message
    connection.last_error_code = "refresh_unavailable" if unavailable else "refresh_refused"
    connection.save(update_fields=["last_error", "last_error_code", "updated_at"])
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
        with transaction.atomic():
            _record(connection, HistoryEvent.Kind.REFRESH_FAILED, error=error)
            _emit_refresh_failed(connection, error=error)


def _store_refreshed(locked: Connection, tokens: oauth.TokenSet) -> None:
    """Save the tokens Sage has just rotated, retrying: the old refresh token is already spent."""
    locked.store_tokens(tokens)
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            # A savepoint: a failed try leaves the transaction (and its row lock) usable.
            with transaction.atomic():
                locked.save()
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
    locked = _locked(connection.pk)
    locked.move_to(Connection.Status.DEAUTHORIZED)
    locked.forget_tokens()
    locked.last_error = MUST_RELINK
    locked.last_error_code = "must_relink"
    locked.save()
    live_data_forget(locked.pk)
    _record(locked, HistoryEvent.Kind.DEAUTHORIZED, actor=actor, reason=HistoryEvent.Reason(reason))
    _emit_deauthorized(locked, reason=reason)
    return locked


@transaction.atomic
def connection_mark_for_relink(
    *, connection: Connection, actor: Actor, reason: HistoryEvent.Reason, note: str = ""
) -> bool:
    """Set a connection Deauthorized so that its company links again; False if it already was.

    `note`: why, in support's words; recorded in the history and shown to the organization.

    Its tokens are dropped, and revoked at Sage (v3.1) once this commits: a client ID
    change comes here before the new keys are saved, so the old app's keys revoke them.
    """
    locked = _locked(connection.pk, "credential_set")
    previous = locked.status
    if not locked.can_move_to(Connection.Status.DEAUTHORIZED):
        return False
    held = held_token(locked)
    locked.move_to(Connection.Status.DEAUTHORIZED)
    locked.forget_tokens()
    locked.save()
    live_data_forget(locked.pk)
    event = _record(
        locked,
        HistoryEvent.Kind.MARKED_FOR_RELINK,
        actor=actor,
        reason=HistoryEvent.Reason(reason),
        **{"from": previous},
        **note_details(note),
    )
    revoke_after_commit(held, event=event)
    _emit_deauthorized(locked, reason=reason)
    return True


@dataclass(frozen=True)
class UnlinkResult:
    unlinked: bool
    revoked: bool  # False when revocation was not possible or failed
    revoke_failed: bool


def connection_unlink(*, connection: Connection, actor: Actor) -> UnlinkResult:
    """Set the connection Unlinked and revoke its refresh token at Sage (v3.1).

    The token is read under the row lock (a refresh meanwhile cannot leave a newer one
    valid at Sage) and Sage is called once the row is unlocked. A failed revocation
    still unlinks here; the result and the history say so.
    """
    with transaction.atomic():
        locked = _locked(connection.pk, "credential_set")
        if not locked.can_move_to(Connection.Status.UNLINKED):
            return UnlinkResult(unlinked=False, revoked=False, revoke_failed=False)
        # Secrets the current keys cannot read: unlinked here all the same, not revoked.
        unreadable = bool(unreadable_fields(locked) or unreadable_fields(locked.credential_set))
        held = None if unreadable else held_token(locked)
        locked.move_to(Connection.Status.UNLINKED)
        locked.forget_tokens()
        locked.last_error = ""
        locked.last_error_code = ""
        locked.save()
        live_data_forget(locked.pk)
        event = _record(
            locked, HistoryEvent.Kind.UNLINKED, actor=actor, revoked=False, revoke_failed=False
        )
        webhook_emit(
            event=WebhookEvent.CONNECTION_UNLINKED, company=locked.company, connection=locked
        )
        sync_forget_after_commit(locked.pk)  # retention: its synced data goes, in batches
    if held is None:
        if unreadable:
            note_revocation(event, revoked=False)
        return UnlinkResult(unlinked=True, revoked=False, revoke_failed=unreadable)
    revoked = revoke(held)
    note_revocation(event, revoked=revoked)
    return UnlinkResult(unlinked=True, revoked=revoked, revoke_failed=not revoked)
