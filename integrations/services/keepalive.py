"""The keep-alive pass: refresh connections whose refresh token expires soon."""

import logging
from dataclasses import dataclass

from ..models import Connection
from .connections import RelinkRequired, TokenError, connection_refresh

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeepaliveResult:
    refreshed: int = 0
    deauthorized: int = 0
    failed: int = 0


def connections_keepalive() -> KeepaliveResult:
    """Refresh every connection that is due, one at a time, each under its own row lock."""
    refreshed = deauthorized = failed = 0
    # Only the keys up front: each refresh re-reads its row under its own lock.
    for pk in list(Connection.objects.due_for_keepalive().values_list("pk", flat=True)):
        try:
            connection_refresh(connection=Connection(pk=pk), keepalive=True)
        except RelinkRequired:
            deauthorized += 1
        except TokenError:
            failed += 1  # tokens kept; the next pass tries again
        else:
            refreshed += 1
    logger.info(
        "Keep-alive pass: %d refreshed, %d deauthorized, %d failed",
        refreshed,
        deauthorized,
        failed,
    )
    return KeepaliveResult(refreshed=refreshed, deauthorized=deauthorized, failed=failed)
