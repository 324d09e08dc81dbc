"""The keep-alive: refresh connections whose refresh token expires soon.

`connection_keepalive` handles one connection (the task worker runs one task per
due connection, see integrations/tasks.py); `connections_keepalive` is a whole
pass in the current process (`manage.py keepalive`).
"""

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction

from ..models import Connection
from .connections import RelinkRequired, TokenError, connection_refresh

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeepaliveResult:
    refreshed: int = 0
    deauthorized: int = 0
    failed: int = 0
    skipped: int = 0  # not due any more when its turn came, or being refreshed elsewhere


class KeepaliveOutcome(StrEnum):
    REFRESHED = "refreshed"
    DEAUTHORIZED = "deauthorized"  # Sage answered invalid_grant: the company must link again
    FAILED = "failed"  # tokens kept; the next pass tries again
    SKIPPED = "skipped"  # not due any more, or another worker is refreshing it


def keepalive_due_ids() -> list[uuid.UUID]:
    """The keys of the connections due for keep-alive, soonest expiry first."""
    return list(Connection.objects.due_for_keepalive().values_list("pk", flat=True))


def connection_keepalive(*, connection_id: uuid.UUID) -> KeepaliveOutcome:
    """Refresh one connection if it is still due; say what happened.

    Safe to run twice for one connection, one after the other or at once (the
    fan-out may enqueue a connection again before its first task has run): it
    takes the connection's row lock first, and a connection that is no longer
    due, or whose row another worker holds (a refresh under way), is SKIPPED
    without a call to Sage. So each refresh token is spent once, and the count
    of REFRESHED is the count of calls to Sage that succeeded.
    """
    with transaction.atomic():
        due = (
            Connection.objects.due_for_keepalive()
            .select_for_update(skip_locked=True)
            .filter(pk=connection_id)
            .values_list("pk", flat=True)
            .first()
        )
        if due is None:
            return KeepaliveOutcome.SKIPPED  # refreshed meanwhile, being refreshed, or unlinked
        # Caught inside the transaction: a Deauthorized status or a last_error stays.
        try:
            connection_refresh(connection=Connection(pk=connection_id), keepalive=True)
        except RelinkRequired:
            return KeepaliveOutcome.DEAUTHORIZED
        except TokenError:
            return KeepaliveOutcome.FAILED
        return KeepaliveOutcome.REFRESHED


def connections_keepalive() -> KeepaliveResult:
    """Refresh every connection that is due, one at a time, each under its own row lock."""
    counts = dict.fromkeys(KeepaliveOutcome, 0)
    # Only the keys up front: each refresh re-reads its row under its own lock.
    for pk in keepalive_due_ids():
        counts[connection_keepalive(connection_id=pk)] += 1
    result = KeepaliveResult(**{outcome.value: count for outcome, count in counts.items()})
    logger.info(
        "Keep-alive pass: %d refreshed, %d deauthorized, %d failed, %d skipped",
        result.refreshed,
        result.deauthorized,
        result.failed,
        result.skipped,
    )
    return result
