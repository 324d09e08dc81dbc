"""The REST API's views: parse with a serializer, call a selector or a service, answer JSON.

A company of another organization is a 404, whatever the id: every lookup goes
through the key's organization.
"""

from http import HTTPStatus

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..models import Company, Connection
from ..services import companies as company_service
from ..services.connections import connection_unlink
from .authentication import organization_of
from .problems import Conflict
from .serializers import (
    CompanyFilterSerializer,
    CompanySerializer,
    CompanyUpdateSerializer,
    Conflict409,
    ConnectionSerializer,
    LinkUrlSerializer,
    ProblemSerializer,
    UnlinkSerializer,
)

# The problems every endpoint of a company may answer.
PROBLEMS = {401: ProblemSerializer, 404: ProblemSerializer, 429: ProblemSerializer}


class CompanyCursor(CursorPagination):
    ordering = "-id"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"


def company_of(request: Request, pk: int) -> Company:
    """The key's organization's company `pk`, or a 404."""
    try:
        return selectors.company_for(organization=organization_of(request), pk=pk)
    except Company.DoesNotExist:
        raise NotFound from None


def connection_of(company: Company) -> Connection:
    connection = getattr(company, "connection", None)
    if connection is None:
        raise NotFound(_("This company has not started linking yet."))
    return connection


def _external_id_taken(error: company_service.ExternalIdTaken) -> Conflict:
    return Conflict(
        _("Another company of this organization has this external_id."),
        existing_company_id=error.existing_id,
    )


class CompanyList(GenericAPIView):
    serializer_class = CompanySerializer
    pagination_class = CompanyCursor

    @extend_schema(
        parameters=[CompanyFilterSerializer],
        responses={200: CompanySerializer(many=True), **PROBLEMS, 400: ProblemSerializer},
        summary="List the companies",
    )
    def get(self, request: Request) -> Response:
        filters = CompanyFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        companies = selectors.api_companies(
            organization=organization_of(request),
            status=filters.validated_data.get("status", ""),
            search=filters.validated_data.get("search", "").strip(),
        )
        page = self.paginate_queryset(companies)
        return self.get_paginated_response(CompanySerializer(page, many=True).data)

    @extend_schema(
        request=CompanySerializer,
        responses={201: CompanySerializer, **PROBLEMS, 400: ProblemSerializer, 409: Conflict409},
        summary="Create a company (and its link URL)",
    )
    def post(self, request: Request) -> Response:
        serializer = CompanySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            company = company_service.company_create(
                organization=organization_of(request),
                name=serializer.validated_data["name"],
                external_id=serializer.validated_data.get("external_id"),
                actor=None,
            )
        except company_service.ExternalIdTaken as error:
            raise _external_id_taken(error) from None
        return Response(CompanySerializer(company).data, status=HTTPStatus.CREATED)


class CompanyDetail(APIView):
    @extend_schema(responses={200: CompanySerializer, **PROBLEMS}, summary="Read a company")
    def get(self, request: Request, pk: int) -> Response:
        return Response(CompanySerializer(company_of(request, pk)).data)

    @extend_schema(
        request=CompanyUpdateSerializer,
        responses={200: CompanySerializer, **PROBLEMS, 400: ProblemSerializer, 409: Conflict409},
        summary="Change a company's name or external_id",
    )
    def patch(self, request: Request, pk: int) -> Response:
        company = company_of(request, pk)
        serializer = CompanyUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = {
            k: v for k, v in serializer.validated_data.items() if k in ("name", "external_id")
        }
        try:
            company = company_service.company_update(company=company, actor=None, **changes)
        except company_service.ExternalIdTaken as error:
            raise _external_id_taken(error) from None
        return Response(CompanySerializer(company).data)

    @extend_schema(
        responses={204: None, **PROBLEMS},
        summary="Delete a company (unlinked first: its authorization is revoked at Sage)",
    )
    def delete(self, request: Request, pk: int) -> Response:
        company_service.company_delete(company=company_of(request, pk), actor=None)
        return Response(status=HTTPStatus.NO_CONTENT)


class CompanyLinkUrl(APIView):
    @extend_schema(
        request=None,
        responses={200: LinkUrlSerializer, **PROBLEMS},
        summary="Renew the link URL (the previous one stops working)",
    )
    def post(self, request: Request, pk: int) -> Response:
        company = company_service.company_link_renew(company=company_of(request, pk), actor=None)
        body = {
            "link_url": selectors.company_link_url(company),
            "expires_at": company.link_expires_at,
        }
        return Response(LinkUrlSerializer(body).data)


class CompanyConnection(APIView):
    @extend_schema(
        responses={200: ConnectionSerializer, **PROBLEMS}, summary="Read the company's connection"
    )
    def get(self, request: Request, pk: int) -> Response:
        connection = connection_of(company_of(request, pk))
        return Response(ConnectionSerializer(connection).data)


class ConnectionUnlink(APIView):
    @extend_schema(
        request=None,
        responses={200: UnlinkSerializer, **PROBLEMS, 409: ProblemSerializer},
        summary="Unlink the company (its authorization is revoked at Sage)",
    )
    def post(self, request: Request, pk: int) -> Response:
        connection = connection_of(company_of(request, pk))
        if not connection.can_unlink:
            raise Conflict(_("This company is not linked."))
        result = connection_unlink(connection=connection, actor=None)
        return Response(
            UnlinkSerializer({"status": Connection.Status.UNLINKED, "revoked": result.revoked}).data
        )


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([])
@authentication_classes([])
@throttle_classes([])
def not_found(request, *args, **kwargs):
    raise NotFound
