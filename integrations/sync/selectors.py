"""The reads of synced data that the API and the company page need; they never call Sage."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from integrations.models import Connection
from integrations.sync.models import SyncCursor, SyncedRecord, SyncRun
from integrations.sync.types import SYNC_TYPES, types_for_version

# Why a sync did not finish, in the reader's words, by SyncRun.error_code.
SYNC_ERROR_WORDS = {
    "deauthorized": _(
        "Sage no longer accepts this company's authorization. Syncs resume once the "
        "customer links again."
    ),
    "not_linked": _("The company is no longer linked."),
    "token": _(
        "Sage could not renew the company's authorization just now. The next sync tries again."
    ),
    "sage": _("Sage answered with an error. The next sync tries again."),
    "rate_limited": _(
        "Sage asked us to slow down. The next sync carries on where this one stopped."
    ),
}
SYNC_ERROR_DEFAULT = _("Something went wrong on our side. The next sync tries again.")


def sync_error_words(run: SyncRun) -> str:
    """Why `run` did not finish, for the company page (the API gives its code and detail)."""
    return str(SYNC_ERROR_WORDS.get(run.error_code, SYNC_ERROR_DEFAULT))


@dataclass(frozen=True)
class TypeSummary:
    """One data type of a connection: its records (deleted ones not counted) and last good sync."""

    key: str
    label: str
    count: int
    synced_at: datetime | None


@dataclass(frozen=True)
class SyncCard:
    """What the company page's Data card shows."""

    types: list[TypeSummary]
    active: SyncRun | None  # queued or running
    last: SyncRun | None  # the latest finished run
    types_done: int  # the types whose pass the active run ended

    @property
    def last_failed(self) -> bool:
        """Whether the latest finished sync failed or was stopped."""
        return self.last is not None and self.last.status in (
            SyncRun.Status.FAILED,
            SyncRun.Status.STOPPED,
        )

    @property
    def waiting(self) -> bool:
        """Whether the active sync is queued (no worker has started it, or it waits for Sage)."""
        return self.active is not None and self.active.status == SyncRun.Status.QUEUED

    @property
    def active_words(self) -> str:
        """Why the active sync waits (Sage asked us to slow down), if it does."""
        return sync_error_words(self.active) if self.active and self.active.error_code else ""

    @property
    def error_text(self) -> str:
        return sync_error_words(self.last) if self.last is not None else ""

    @property
    def types_total(self) -> int:
        return len(self.types)


def synced_records(
    *,
    connection: Connection | None,
    data_type: str,
    modified_since: datetime | None = None,
    include_deleted: bool = False,
) -> QuerySet[SyncedRecord]:
    """The connection's records of `data_type`, oldest change first (the API's cursor order)."""
    if connection is None:
        return SyncedRecord.objects.none()
    records = SyncedRecord.objects.filter(connection=connection, data_type=data_type)
    if modified_since is not None:
        records = records.filter(modified_at__gte=modified_since)
    if not include_deleted:
        records = records.live()
    return records.order_by("modified_at", "id")


def synced_record(*, connection: Connection | None, data_type: str, sage_id: str) -> SyncedRecord:
    """One record by Sage's id, deleted or not; SyncedRecord.DoesNotExist if none."""
    if connection is None:
        raise SyncedRecord.DoesNotExist
    return SyncedRecord.objects.get(connection=connection, data_type=data_type, sage_id=sage_id)


def synced_at(*, connection: Connection | None, data_type: str) -> datetime | None:
    """When `data_type` was last synced in full (None: never)."""
    if connection is None:
        return None
    return (
        SyncCursor.objects.filter(connection=connection, data_type=data_type)
        .values_list("synced_at", flat=True)
        .first()
    )


def data_summary(*, connection: Connection | None) -> list[TypeSummary]:
    """Every data type, in the declaration's order, with its count and last good sync."""
    counts: dict[str, int] = {}
    synced: dict[str, datetime | None] = {}
    if connection is not None:
        counts = dict(
            SyncedRecord.objects.filter(connection=connection)
            .values_list("data_type")
            .annotate(count=Count("id", filter=Q(deleted_at__isnull=True)))
            .values_list("data_type", "count")
        )
        synced = dict(
            SyncCursor.objects.filter(connection=connection).values_list("data_type", "synced_at")
        )
    types = SYNC_TYPES if connection is None else types_for_version(connection.api_version)
    return [
        TypeSummary(
            key=sync_type.key,
            label=str(sync_type.label),
            count=counts.get(sync_type.key, 0),
            synced_at=synced.get(sync_type.key),
        )
        for sync_type in types
    ]


def sync_runs(*, connection: Connection | None) -> QuerySet[SyncRun]:
    if connection is None:
        return SyncRun.objects.none()
    return SyncRun.objects.filter(connection=connection)


def sync_card(*, connection: Connection) -> SyncCard:
    runs = SyncRun.objects.filter(connection=connection).order_by("-created_at", "-pk")
    active = runs.active().first()
    last = runs.exclude(status__in=SyncRun.ACTIVE).first()
    return SyncCard(
        types=data_summary(connection=connection),
        active=active,
        last=last,
        types_done=(
            SyncCursor.objects.filter(connection=connection, run=active, phase="").count()
            if active is not None
            else 0
        ),
    )
