"""The sync engine: queue a sync of a connection, and run it (see docs/sync.md)."""

from django.db import IntegrityError, transaction

from ..models import Connection
from .models import SyncRun


def sync_request(connection: Connection, trigger: str) -> SyncRun:
    """Queue a sync of `connection`, unless one is queued or running: return that one.

    The partial unique constraint `syncrun_one_active_per_connection` makes the
    check and the insert one step, whatever races to queue a sync.
    """
    existing = SyncRun.objects.active().filter(connection=connection).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(connection=connection, trigger=trigger)
    except IntegrityError:
        return SyncRun.objects.active().get(connection=connection)
    return run
