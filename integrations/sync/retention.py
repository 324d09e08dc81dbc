"""Retention: a connection's synced data goes when it is unlinked or its company deleted.

Deleted in batches of SYNC_PURGE_BATCH rows, each its own transaction, once the unlink
has committed (a task), or before the company's own deletion.
"""

import uuid

from django.conf import settings
from django.tasks import task

from integrations.sync.models import SyncCursor, SyncedRecord


def records_forget(connection_id: uuid.UUID, *, batch: int | None = None) -> int:
    """Delete a connection's synced records in batches (each its own transaction), and
    its cursors, so that a later link starts from a full sync; return how many went."""
    size = batch or int(settings.SYNC_PURGE_BATCH)
    deleted = 0
    while True:
        ids = list(
            SyncedRecord.objects.filter(connection_id=connection_id).values_list("pk", flat=True)[
                :size
            ]
        )
        if not ids:
            break
        deleted += SyncedRecord.objects.filter(pk__in=ids).delete()[0]
    SyncCursor.objects.filter(connection_id=connection_id).delete()
    return deleted


@task
def sync_forget(connection_id: str) -> int:
    """The task retention enqueues once an unlink commits."""
    return records_forget(uuid.UUID(connection_id))
