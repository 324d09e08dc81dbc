"""The keep-alive pass: refresh connections whose refresh token expires soon.

Each connection is handled on its own: whatever goes wrong with one (Sage, its
stored secrets, the database) is recorded on it and logged, and the pass goes on
to the next. Each refresh runs in its own transaction (a savepoint when the pass
itself runs inside one), so a database error on one row leaves the connection to
the database usable for the next.
"""

import logging
import uuid
from dataclasses import dataclass

from django.db import DatabaseError
from django.utils.translation import gettext_noop

from ..models import Connection
from .connections import (
    ConnectionBusy,
    RelinkRequired,
    TokenError,
    TokensNotSaved,
    connection_record_error,
    connection_refresh,
)

logger = logging.getLogger(__name__)

# Stored in `last_error` untranslated, like the other messages of services.connections.
NOT_PROCESSED = gettext_noop(
    "The keep-alive could not process this connection because of an error in the portal; "
    "it will try again on its next pass."
)


@dataclass(frozen=True)
class KeepaliveResult:
    refreshed: int = 0
    deauthorized: int = 0
    failed: int = 0  # Sage did not refresh; the tokens are kept for the next pass
    busy: int = 0  # another worker held the row lock; the next pass tries again
    not_processed: int = 0  # an error on our side (secrets, database, a bug): recorded, logged


def _record_not_processed(pk: uuid.UUID, error: Exception) -> None:
    logger.error(
        "Keep-alive could not process connection %s (%s)", pk, type(error).__name__, exc_info=error
    )
    try:
        connection_record_error(connection_id=pk, message=NOT_PROCESSED, error=type(error).__name__)
    except DatabaseError:
        logger.exception("Keep-alive could not record the failure on connection %s", pk)


def connections_keepalive() -> KeepaliveResult:
    """Refresh every connection that is due, one at a time, each under its own row lock."""
    counts = dict.fromkeys(("refreshed", "deauthorized", "failed", "busy", "not_processed"), 0)
    # Only the keys up front: each refresh re-reads its row under its own lock.
    for pk in list(Connection.objects.due_for_keepalive().values_list("pk", flat=True)):
        try:
            connection_refresh(connection=Connection(pk=pk), keepalive=True)
        except RelinkRequired:
            counts["deauthorized"] += 1
        except ConnectionBusy:
            counts["busy"] += 1
        except TokensNotSaved:
            counts["not_processed"] += 1  # already logged, reported and recorded
        except TokenError:
            counts["failed"] += 1  # tokens kept; the next pass tries again
        except Exception as error:  # noqa: BLE001 - one bad row must not stop the pass
            _record_not_processed(pk, error)
            counts["not_processed"] += 1
        else:
            counts["refreshed"] += 1
    result = KeepaliveResult(**counts)
    logger.info(
        "Keep-alive pass: %d refreshed, %d deauthorized, %d failed, %d busy, "
        "%d could not be processed",
        result.refreshed,
        result.deauthorized,
        result.failed,
        result.busy,
        result.not_processed,
    )
    return result
