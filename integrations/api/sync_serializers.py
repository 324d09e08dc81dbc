"""What the API reads of synced data: the data types, their records, the syncs."""

import base64
import binascii
import json
from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.api.pagination import StrictCursorPagination, cursor_refused, limit_read
from integrations.api.serializers import StrictModelSerializer, StrictSerializer
from integrations.companies.representation import UtcDateTimeField
from integrations.sync.models import SyncedRecord, SyncRun

# The API's page sizes (integrations/api/pagination.py): the same limits, the same errors.
RECORDS_PAGE_SIZE = StrictCursorPagination.page_size
RECORDS_MAX_PAGE_SIZE = StrictCursorPagination.max_page_size

type Position = tuple[datetime, int]


def cursor_encode(position: Position) -> str:
    """An opaque cursor: the (modified_at, id) of the last record of a page."""
    modified_at, pk = position
    raw = json.dumps([modified_at.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> Position:
    """The position a cursor names; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        modified_at, pk = json.loads(raw)
        when = parse_datetime(modified_at)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError(cursor) from None
    if when is None or when.tzinfo is None or type(pk) is not int:
        raise ValueError(cursor)
    return when, pk


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its zone: a time without one would be read in the server's."""

    def to_internal_value(self, value: object) -> datetime:
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            raise serializers.ValidationError(_("Give a time zone, e.g. 2026-01-31T12:00:00Z."))
        when: datetime = super().to_internal_value(value)
        return when


class LimitField(serializers.IntegerField):
    """`limit` read as the API's lists read it (`limit_read`): the same refusals."""

    def to_internal_value(self, data: object) -> int:
        return limit_read(str(data), RECORDS_MAX_PAGE_SIZE)


class RecordFilterSerializer(StrictSerializer):
    cursor = serializers.CharField(
        required=False,
        max_length=200,
        help_text=_("The `next` of the previous answer: where the next page starts."),
    )
    limit = LimitField(
        required=False,
        min_value=1,
        max_value=RECORDS_MAX_PAGE_SIZE,
        default=RECORDS_PAGE_SIZE,
        help_text=_("Records per page."),
    )
    modified_since = AwareDateTimeField(
        required=False,
        help_text=_(
            "Only records stored or changed here at or after this time (ISO 8601, with a "
            "time zone): pass the latest `modified_at` you kept to read only what changed."
        ),
    )
    include_deleted = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Also the records Sage reported deleted (their `deleted_at` is set)."),
    )

    def validate_cursor(self, value: str) -> Position:
        try:
            return cursor_decode(value)
        except ValueError:
            raise serializers.ValidationError(cursor_refused()) from None


class SyncedRecordSerializer(StrictModelSerializer):
    id = serializers.CharField(source="sage_id", help_text=_("Sage's id of the record."))
    type = serializers.CharField(source="data_type")
    data = serializers.SerializerMethodField()

    class Meta:
        model = SyncedRecord
        fields = [
            "id",
            "type",
            "displayed_as",
            "sage_updated_at",
            "deleted_at",
            "modified_at",
            "data",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "displayed_as": {"help_text": _("Sage's displayed_as.")},
            "sage_updated_at": {"help_text": _("Sage's updated_at.")},
            "deleted_at": {"help_text": _("When Sage reported the record deleted; else null.")},
            "modified_at": {
                "help_text": _(
                    "When this copy last changed here (created, updated or deleted): the "
                    "order of the list, and what modified_since compares."
                )
            },
        }

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_data(self, record: SyncedRecord) -> object:
        """The record as Sage sent it."""
        return record.data


class RecordPageSerializer(serializers.Serializer):
    type = serializers.CharField()
    synced_at = UtcDateTimeField(
        allow_null=True,
        help_text=_("When this type was last synced without error: the answer is as of then."),
    )
    next = serializers.URLField(
        allow_null=True, help_text=_("The next page, or null on the last page.")
    )
    results = SyncedRecordSerializer(many=True)


class DataTypeSerializer(serializers.Serializer):
    type = serializers.CharField(source="key")
    label = serializers.CharField()
    count = serializers.IntegerField(help_text=_("Records stored, deleted ones not counted."))
    synced_at = UtcDateTimeField(
        allow_null=True, help_text=_("When this type was last synced without error.")
    )


class DataTypesSerializer(serializers.Serializer):
    types = DataTypeSerializer(many=True)


class TypeCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deleted = serializers.IntegerField()
    total = serializers.IntegerField()


class SyncRunSerializer(StrictModelSerializer):
    """A sync, as the API and the `sync.completed` webhook show it."""

    counts = serializers.SerializerMethodField()

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "trigger",
            "status",
            "counts",
            "pages_done",
            "started_at",
            "finished_at",
            "error_code",
            "error",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "pages_done": {"help_text": _("Sage pages read and stored so far.")},
            "error_code": {
                "help_text": _(
                    "Why the sync failed or stopped, or why it waits (rate_limited): "
                    "deauthorized, not_linked, token, sage, rate_limited, internal; "
                    "empty when none."
                )
            },
            "error": {"help_text": _("The same in words; empty when none.")},
        }

    @extend_schema_field(serializers.DictField(child=TypeCountsSerializer()))
    def get_counts(self, run: SyncRun) -> dict[str, dict[str, int]]:
        """Per data type: the records created, updated and deleted, and (once the type
        is done) how many it has in all."""
        return dict(run.counts or {})
