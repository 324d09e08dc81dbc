"""Synced Sage data: one row per Sage record per connection, the syncs, and their cursors.

Imported by integrations/models.py, so that Django registers these models under the
app label `integrations`. The types are declared once in sync/types.py.
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.organizations.models import OrganizationScopedQuerySet

# No `choices`: adding a type to types.SYNC_TYPES needs no migration.
DATA_TYPE_MAX_LENGTH = 40


class SyncedRecordQuerySet(OrganizationScopedQuerySet["SyncedRecord"]):
    organization_path = "connection__company__organization"

    def live(self) -> "SyncedRecordQuerySet":
        """Records Sage has not reported deleted."""
        return self.filter(deleted_at__isnull=True)


class SyncedRecord(models.Model):
    """A Sage record as Sage last sent it, for one connection.

    `modified_at` is when OUR copy last changed (created, updated, or flagged
    deleted): the API's `modified_since` and its cursor read it, so a record Sage
    sends again unchanged (the sync's overlap) does not move.
    """

    id = models.BigAutoField(primary_key=True)
    connection = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.CASCADE,
        related_name="synced_records",
        verbose_name=_("connection"),
        db_index=False,  # syncedrecord_unique_sage_id starts with it
    )
    data_type = models.CharField(_("data type"), max_length=DATA_TYPE_MAX_LENGTH)
    sage_id = models.CharField(_("Sage ID"), max_length=64)
    sage_updated_at = models.DateTimeField(_("updated in Sage"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted in Sage"), null=True, blank=True)
    data = models.JSONField(_("record"), default=dict, blank=True)
    displayed_as = models.CharField(_("displayed as"), max_length=255, blank=True)
    modified_at = models.DateTimeField(_("modified"), default=timezone.now)

    objects = SyncedRecordQuerySet.as_manager()

    class Meta:
        ordering = ["modified_at", "id"]
        verbose_name = _("synced record")
        verbose_name_plural = _("synced records")
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "data_type", "sage_id"], name="syncedrecord_unique_sage_id"
            ),
        ]
        indexes = [
            models.Index(
                fields=["connection", "data_type", "modified_at", "id"],
                name="syncedrecord_modified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_type} · {self.displayed_as or self.sage_id}"


class SyncRunQuerySet(OrganizationScopedQuerySet["SyncRun"]):
    organization_path = "connection__company__organization"

    def active(self) -> "SyncRunQuerySet":
        return self.filter(status__in=SyncRun.ACTIVE)


class SyncRun(models.Model):
    """One sync of one connection: queued, running, then how it ended, with counts per type."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Sync now")
        API = "api", _("API")
        LINK = "link", _("Link")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        STOPPED = "stopped", _("Stopped")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    connection = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.CASCADE,
        related_name="sync_runs",
        verbose_name=_("connection"),
        db_index=False,  # syncrun_connection_status starts with it
    )
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    created_at = models.DateTimeField(_("queued"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # {type: {"created": n, "updated": n, "deleted": n, "total": n}}
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    pages_done = models.PositiveIntegerField(_("pages read"), default=0)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The worker holding the run: a random token per claim, and until when its lease holds.
    # A run whose lease ran out (its worker died) is taken over and resumes.
    claim = models.CharField(_("claim"), max_length=32, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("sync")
        verbose_name_plural = _("syncs")
        indexes = [
            models.Index(fields=["connection", "status"], name="syncrun_connection_status"),
        ]
        constraints = [
            # One queued or running sync per connection, whatever races to queue one.
            models.UniqueConstraint(
                fields=["connection"],
                condition=models.Q(status__in=["queued", "running"]),
                name="syncrun_one_active_per_connection",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.connection_id} · {self.get_status_display()} · {self.created_at:%Y-%m-%d %H:%M}"
        )

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class SyncCursor(models.Model):
    """Where the syncs of one data type of one connection stand.

    `updated_since`/`deleted_since`: the times the next incremental sync asks from
    (minus the overlap). While a run reads the type, `run` and `page` say how far
    it got, saved with each page's rows, so a crash resumes from the next page, and
    `run_updated_since`/`run_deleted_since`/`run_started_at` keep the question it
    asks stable across the resume.
    """

    class Phase(models.TextChoices):
        UPDATED = "updated", _("Created or updated")
        DELETED = "deleted", _("Deleted")

    connection = models.ForeignKey(
        "integrations.Connection",
        on_delete=models.CASCADE,
        related_name="sync_cursors",
        verbose_name=_("connection"),
        db_index=False,  # synccursor_unique_type starts with it
    )
    data_type = models.CharField(_("data type"), max_length=DATA_TYPE_MAX_LENGTH)
    synced_at = models.DateTimeField(_("last good sync"), null=True, blank=True)
    updated_since = models.DateTimeField(_("updated since"), null=True, blank=True)
    deleted_since = models.DateTimeField(_("deleted since"), null=True, blank=True)
    # The run in progress on this type (None between runs) and how far it got.
    run = models.ForeignKey(
        SyncRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sync in progress"),
    )
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices, blank=True)
    page = models.PositiveIntegerField(_("pages done"), default=0)
    run_started_at = models.DateTimeField(null=True, blank=True)
    run_updated_since = models.DateTimeField(null=True, blank=True)
    run_deleted_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["connection", "data_type"]
        verbose_name = _("sync cursor")
        verbose_name_plural = _("sync cursors")
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "data_type"], name="synccursor_unique_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} · {self.data_type}"
