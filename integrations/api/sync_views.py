"""The API's synced data: per company, its data types, their records, and its syncs.

Every lookup goes through the key's organization (`company_of`): another organization's
company is a 404, whatever the id. The records are read from our copy, never from Sage;
`synced_at` says how fresh each answer is.
"""

from http import HTTPStatus

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from integrations.api.pagination import StrictCursorPagination
from integrations.api.problems import Code, Conflict, UnknownDataType
from integrations.api.sync_serializers import (
    DataTypesSerializer,
    RecordFilterSerializer,
    RecordPageSerializer,
    SyncedRecordSerializer,
    SyncRunSerializer,
    cursor_encode,
)
from integrations.api.views import OrganizationView, company_of, problems
from integrations.models import Company, Connection
from integrations.sync import selectors
from integrations.sync.models import SyncedRecord, SyncRun
from integrations.sync.services import sync_request
from integrations.sync.types import SYNC_TYPES_BY_KEY

TYPE_PARAMETER = OpenApiParameter(
    "type",
    str,
    OpenApiParameter.PATH,
    enum=list(SYNC_TYPES_BY_KEY),
    description="A data type, as `GET /companies/{id}/data` lists them.",
)


def _data_type(type_: str) -> str:
    if type_ not in SYNC_TYPES_BY_KEY:
        raise UnknownDataType(
            _("No such data type: use one of %(types)s.") % {"types": ", ".join(SYNC_TYPES_BY_KEY)},
            types=list(SYNC_TYPES_BY_KEY),
        )
    return type_


def _connection(company: Company) -> Connection | None:
    return getattr(company, "connection", None)


class CompanyDataTypes(OrganizationView):
    @extend_schema(
        operation_id="companies_data_types",
        responses={200: DataTypesSerializer, **problems()},
        summary="List the company's synced data types, with counts and synced_at",
    )
    def get(self, request: Request, pk: int) -> Response:
        connection = _connection(company_of(request, pk))
        summary = selectors.data_summary(connection=connection)
        return Response(DataTypesSerializer({"types": summary}).data)


class CompanyRecords(OrganizationView):
    @extend_schema(
        operation_id="companies_data_list",
        parameters=[TYPE_PARAMETER, RecordFilterSerializer],
        responses={200: RecordPageSerializer, **problems(400)},
        summary="List the company's synced records of a type (oldest change first)",
        description=(
            "Pages follow `next` (an opaque cursor over the records' `modified_at` and id) "
            "until it is null. To read only what changed, keep the latest `modified_at` "
            "and pass it as `modified_since` next time (inclusive: a record on the boundary "
            "comes again). Deleted records come only with `include_deleted=true`."
        ),
    )
    def get(self, request: Request, pk: int, type: str) -> Response:
        company = company_of(request, pk)
        data_type = _data_type(type)
        filters = RecordFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        options = filters.validated_data
        connection = _connection(company)
        records = selectors.synced_records(
            connection=connection,
            data_type=data_type,
            modified_since=options.get("modified_since"),
            include_deleted=options["include_deleted"],
        )
        # A keyset over (modified_at, id), not DRF's CursorPagination: that one positions
        # on the first ordering field plus an offset, and a sync stores a whole page of
        # records at one moment, so hundreds share a modified_at; a record changed while
        # a platform pages moves behind the cursor and comes again, none is skipped.
        if (position := options.get("cursor")) is not None:
            modified_at, last_id = position
            records = records.filter(
                Q(modified_at__gt=modified_at) | Q(modified_at=modified_at, id__gt=last_id)
            )
        limit = options["limit"]
        page = list(records[: limit + 1])
        next_url = None
        if len(page) > limit:
            page = page[:limit]
            last = page[-1]
            next_url = replace_query_param(
                request.build_absolute_uri(), "cursor", cursor_encode((last.modified_at, last.pk))
            )
        body = {
            "type": data_type,
            "synced_at": selectors.synced_at(connection=connection, data_type=data_type),
            "next": next_url,
            "results": page,
        }
        return Response(RecordPageSerializer(body).data)


class CompanyRecord(OrganizationView):
    @extend_schema(
        parameters=[
            TYPE_PARAMETER,
            OpenApiParameter("sage_id", str, OpenApiParameter.PATH, description="Sage's id."),
        ],
        operation_id="companies_data_retrieve",
        responses={200: SyncedRecordSerializer, **problems()},
        summary="Read one synced record by Sage's id (a deleted one too, with deleted_at)",
    )
    def get(self, request: Request, pk: int, type: str, sage_id: str) -> Response:
        company = company_of(request, pk)
        data_type = _data_type(type)
        try:
            record = selectors.synced_record(
                connection=_connection(company), data_type=data_type, sage_id=sage_id
            )
        except SyncedRecord.DoesNotExist:
            raise NotFound(_("No record of this type has this id.")) from None
        return Response(SyncedRecordSerializer(record).data)


class SyncRunCursor(StrictCursorPagination):
    ordering = ("-created_at", "-id")


class CompanySyncs(OrganizationView, GenericAPIView):
    serializer_class = SyncRunSerializer
    pagination_class = SyncRunCursor

    @extend_schema(
        responses={(200, "application/json"): SyncRunSerializer(many=True), **problems(400)},
        summary="List the company's syncs, newest first",
    )
    def get(self, request: Request, pk: int) -> Response:
        runs = selectors.sync_runs(connection=_connection(company_of(request, pk)))
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(SyncRunSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={202: SyncRunSerializer, **problems(409)},
        summary="Sync the company now (the run already queued or running, if any)",
    )
    def post(self, request: Request, pk: int) -> Response:
        connection = _connection(company_of(request, pk))
        if connection is None or not connection.is_linked:
            raise Conflict(
                _("This company is not linked: there is nothing to sync."), code=Code.NOT_LINKED
            )
        run = sync_request(connection=connection, trigger=SyncRun.Trigger.API)
        return Response(SyncRunSerializer(run).data, status=HTTPStatus.ACCEPTED)
