"""The keep-alive pass: refresh connections whose refresh token expires soon."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import Connection
from .tokens import RelinkRequired, TokenError, connection_refresh

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeepaliveResult:
    refreshed: int = 0
    deauthorized: int = 0
    failed: int = 0


def connections_due_for_keepalive():
    """Linked connections whose refresh token expires within KEEPALIVE_REFRESH_WITHIN_DAYS."""
    limit = timezone.now() + timedelta(days=settings.KEEPALIVE_REFRESH_WITHIN_DAYS)
    return Connection.objects.filter(
        status=Connection.Status.LINKED, refresh_token_expires_at__lte=limit
    ).order_by("refresh_token_expires_at")


def connections_keepalive() -> KeepaliveResult:
    """Refresh every connection that is due, one at a time, each under its own row lock."""
    refreshed = deauthorized = failed = 0
    # Only the keys up front: each refresh re-reads its row under its own lock.
    for pk in list(connections_due_for_keepalive().values_list("pk", flat=True)):
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
