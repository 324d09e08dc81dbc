"""The keep-alive: refresh connections whose refresh token expires soon.

`connection_keepalive` handles one connection: the task worker runs one task per
due connection (integrations/tasks.py), and `connections_keepalive`, a whole pass
in the current process (`manage.py keepalive`), calls it for each in turn.

Each connection is handled on its own: whatever goes wrong with one (Sage, its
stored secrets, the database) is recorded on it and logged, and the pass goes on
to the next. Each runs in its own transaction (a savepoint when the caller is
inside one), so a database error on one row leaves the connection to the
database usable for the next.
"""

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.db import DatabaseError, transaction
from django.utils.translation import gettext_noop

from integrations.connections.errors import (
    ConnectionBusy,
    RelinkRequired,
    TokenError,
    TokensNotSaved,
)
from integrations.connections.refresh import connection_record_error, connection_refresh
from integrations.models import Connection

logger = logging.getLogger(__name__)

# Stored in `last_error` untranslated, like the other messages of services.connections.
NOT_PROCESSED = gettext_noop(
    "The keep-alive could not process this connection because of an error in the portal; "
    "it will try again on its next pass."
)


class KeepaliveOutcome(StrEnum):
    REFRESHED = "refreshed"
    DEAUTHORIZED = "deauthorized"  # Sage answered invalid_grant: the company must link again
    FAILED = "failed"  # Sage did not refresh; the tokens are kept for the next pass
    BUSY = "busy"  # another worker holds the row lock (a refresh under way); tried next pass
    NOT_PROCESSED = "not_processed"  # an error on our side (secrets, database, a bug)
    SKIPPED = "skipped"  # no longer due (refreshed meanwhile, unlinked, deleted)


@dataclass(frozen=True)
class KeepaliveResult:
    refreshed: int = 0
    deauthorized: int = 0
    failed: int = 0  # Sage did not refresh; the tokens are kept for the next pass
    busy: int = 0  # another worker held the row lock; the next pass tries again
    not_processed: int = 0  # an error on our side (secrets, database, a bug): recorded, logged
    skipped: int = 0  # no longer due when its turn came (a duplicate task, say)


def _record_not_processed(pk: uuid.UUID, error: Exception) -> None:
    logger.error(
        "Keep-alive could not process connection %s (%s)", pk, type(error).__name__, exc_info=error
    )
    try:
        connection_record_error(
            connection_id=pk,
            message=NOT_PROCESSED,
            code="keepalive_failed",
            error=type(error).__name__,
        )
    except DatabaseError:
        logger.exception("Keep-alive could not record the failure on connection %s", pk)


def keepalive_due_ids() -> list[uuid.UUID]:
    """The keys of the connections due for keep-alive, soonest expiry first."""
    return list(Connection.objects.due_for_keepalive().values_list("pk", flat=True))


def connection_keepalive(*, connection_id: uuid.UUID) -> KeepaliveOutcome:
    """Refresh one connection if it is still due; say what happened.

    An error on our side is recorded on the connection and logged, not raised.

    Safe to run twice for one connection, one after the other or at once (the
    fan-out may enqueue a connection again before its first task has run): it
    takes the connection's row lock first, without waiting. A row another worker
    holds is BUSY and one no longer due is SKIPPED, both without a call to Sage;
    so each refresh token is spent once, and REFRESHED counts the calls to Sage
    that succeeded.
    """
    try:
        return _keepalive_under_lock(connection_id)
    except Exception as error:  # noqa: BLE001 - one bad row must not stop the others
        # After the rollback of the row's transaction: the database is usable again.
        _record_not_processed(connection_id, error)
        return KeepaliveOutcome.NOT_PROCESSED


def _keepalive_under_lock(connection_id: uuid.UUID) -> KeepaliveOutcome:
    with transaction.atomic():
        # The lock only (no column is read): a row whose secrets cannot be read is
        # reported by the refresh below, like any other error on our side.
        locked = list(
            Connection.objects.select_for_update(skip_locked=True)
            .filter(pk=connection_id)
            .values_list("pk", flat=True)
        )
        if not locked:
            exists = Connection.objects.filter(pk=connection_id).exists()
            return KeepaliveOutcome.BUSY if exists else KeepaliveOutcome.SKIPPED
        if not Connection.objects.due_for_keepalive().filter(pk=connection_id).exists():
            return KeepaliveOutcome.SKIPPED
        # Caught inside the transaction, which then commits: a Deauthorized status or
        # a recorded last_error stays.
        try:
            connection_refresh(connection=Connection(pk=connection_id), keepalive=True)
        except RelinkRequired:
            return KeepaliveOutcome.DEAUTHORIZED
        except ConnectionBusy:
            return KeepaliveOutcome.BUSY
        except TokensNotSaved:
            return KeepaliveOutcome.NOT_PROCESSED  # already logged, reported and recorded
        except TokenError:
            return KeepaliveOutcome.FAILED  # tokens kept; the next pass tries again
        return KeepaliveOutcome.REFRESHED


def connections_keepalive() -> KeepaliveResult:
    """Refresh every connection that is due, one at a time, each under its own row lock."""
    counts = dict.fromkeys(KeepaliveOutcome, 0)
    # Only the keys up front: each refresh re-reads its row under its own lock.
    for pk in keepalive_due_ids():
        counts[connection_keepalive(connection_id=pk)] += 1
    result = KeepaliveResult(**{outcome.value: count for outcome, count in counts.items()})
    logger.info(
        "Keep-alive pass: %d refreshed, %d deauthorized, %d failed, %d busy, "
        "%d could not be processed, %d skipped",
        result.refreshed,
        result.deauthorized,
        result.failed,
        result.busy,
        result.not_processed,
        result.skipped,
    )
    return result
