"""Housekeeping: drop what the link flow leaves behind once it can no longer be used."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from integrations.models import AuthorizationRequest

logger = logging.getLogger(__name__)

# An expired authorization request is kept this long for support to look at, then dropped.
AUTHORIZATION_REQUEST_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class PurgeResult:
    authorization_requests: int


def expired_purge() -> PurgeResult:
    """Delete expired authorization requests (after a day) and expired sessions."""
    cutoff = timezone.now() - AUTHORIZATION_REQUEST_RETENTION
    deleted, _by_model = AuthorizationRequest.objects.filter(expires_at__lt=cutoff).delete()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    logger.info("Purge: %d expired authorization requests deleted, sessions cleared", deleted)
    return PurgeResult(authorization_requests=deleted)
