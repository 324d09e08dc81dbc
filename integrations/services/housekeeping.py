"""Housekeeping: drop what the link flow leaves behind once it can no longer be used, the
events feed's events older than EVENTS_RETENTION_DAYS, and stale worker heartbeats."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from integrations.models import AuthorizationRequest
from integrations.services.idempotency import idempotency_purge
from integrations.webhooks.models import PlatformEvent, WorkerHeartbeat

logger = logging.getLogger(__name__)

# An expired authorization request is kept this long for support to look at, then dropped.
AUTHORIZATION_REQUEST_RETENTION = timedelta(days=1)
# A worker not seen for a day is gone (its process id will not come back).
HEARTBEAT_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class PurgeResult:
    authorization_requests: int
    events: int = 0


def expired_purge() -> PurgeResult:
    """Delete expired authorization requests (after a day), expired sessions and the
    API's idempotency records older than a day."""
    cutoff = timezone.now() - AUTHORIZATION_REQUEST_RETENTION
    deleted, _by_model = AuthorizationRequest.objects.filter(expires_at__lt=cutoff).delete()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    idempotency_purge()  # the API's idempotency keys, kept 24 hours
    now = timezone.now()
    events, _by_model = PlatformEvent.objects.filter(
        created_at__lt=now - timedelta(days=settings.EVENTS_RETENTION_DAYS)
    ).delete()
    WorkerHeartbeat.objects.filter(seen_at__lt=now - HEARTBEAT_RETENTION).delete()
    logger.info(
        "Purge: %d expired authorization requests and %d old events deleted, sessions cleared",
        deleted,
        events,
    )
    return PurgeResult(authorization_requests=deleted, events=events)
