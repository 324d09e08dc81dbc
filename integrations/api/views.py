"""The REST API's views: parse with a serializer, call a selector or a service, answer JSON.

A company of another organization is a 404, whatever the id: every lookup goes
through the key's organization.
"""

from contextlib import AbstractContextManager
from http import HTTPStatus

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import selectors
from integrations.accounting import AccountingAnswerTooLarge, AccountingApiError, AccountingBusy
from integrations.api import idempotency
from integrations.api.authentication import organization_of
from integrations.api.pagination import StrictCursorPagination
from integrations.api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from integrations.api.problems import Code, Conflict, ProxyProblem, Unavailable
from integrations.api.serializers import (
    CompanyFilterSerializer,
    CompanySerializer,
    CompanyUpdateSerializer,
    Conflict409,
    ConnectionSerializer,
    LinkUrlSerializer,
    ProblemSerializer,
    SageProblemSerializer,
    UnlinkSerializer,
)
from integrations.api.throttling import rate_limit_headers
from integrations.audit.history import acting_with_api_key
from integrations.companies import services as company_service
from integrations.connections import proxy as sage_proxy
from integrations.connections.errors import ConnectionBusy, TokenError
from integrations.connections.lifecycle import connection_unlink
from integrations.connections.selectors import company_state
from integrations.fields import unreadable_fields
from integrations.models import Company, Connection, IdempotentRequest
from portal.public_urls import public_url


def problems(
    *statuses: int, conflict: type[ProblemSerializer] = ProblemSerializer
) -> dict[tuple[int, str], type[ProblemSerializer]]:
    """The problems an endpoint answers, as served (application/problem+json): those of
    every endpoint of a company (401, 404, 429) and `statuses`."""
    shapes = {409: conflict}
    return {
        (status, PROBLEM_CONTENT_TYPE): shapes.get(status, ProblemSerializer)
        for status in (401, 404, 429, *statuses)
    }


# What Sage itself may answer the proxy, passed on with its status and JSON.
SAGE_STATUSES = (400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504)


class OrganizationView(APIView):
    """A view acting for the key's organization: the history events it causes name the key.

    Its POSTs honour `Idempotency-Key` (integrations/api/idempotency.py) and its answers
    carry the key's RateLimit-* headers.
    """

    _acting: AbstractContextManager[None] | None = None
    _idempotent: IdempotentRequest | None = None

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)  # authenticates: request.auth is the key
        self._acting = acting_with_api_key(request.auth.prefix)
        self._acting.__enter__()
        self._idempotent = idempotency.claim(request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return idempotency.replay(exc.answer)
        return super().handle_exception(exc)

    def finalize_response(
        self, request: Request, response: Response, *args: object, **kwargs: object
    ) -> Response:
        if self._acting is not None:
            self._acting.__exit__(None, None, None)
            self._acting = None
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._idempotent is not None:
            claimed, self._idempotent = self._idempotent, None
            idempotency.complete(claimed, response)
        for name, value in rate_limit_headers(request._request).items():
            response[name] = value
        return response


class CompanyCursor(StrictCursorPagination):
    ordering = "-id"


def company_of(request: Request, pk: int) -> Company:
    """The key's organization's company `pk`, or a 404."""
    try:
        return selectors.company_for(organization=organization_of(request), pk=pk)
    except Company.DoesNotExist:
        raise NotFound from None


def connection_of(company: Company) -> Connection:
    connection: Connection | None = getattr(company, "connection", None)
    if connection is None:
        raise NotFound(_("This company has not started linking yet."))
    return connection


def _external_id_taken(error: company_service.ExternalIdTaken) -> Conflict:
    return Conflict(
        _("Another company of this organization has this external_id."),
        code=Code.EXTERNAL_ID_TAKEN,
        existing_company_id=error.existing_id,
    )


class CompanyList(OrganizationView, GenericAPIView):
    serializer_class = CompanySerializer
    pagination_class = CompanyCursor

    @extend_schema(
        parameters=[CompanyFilterSerializer],
        # A tuple as the other keys: drf-spectacular takes the smallest key, as a
        # string, for the main answer (a list here: paginated).
        responses={(200, "application/json"): CompanySerializer(many=True), **problems(400)},
        summary="List the companies",
        description=(
            "Your organization's companies, newest first, a page at a time: follow `next` "
            "until it is null. Filter by connection `status`, by `search` (part of the name, "
            "or the whole external_id) or by exact `external_id` to find the company you "
            "created for one of your customers."
        ),
    )
    def get(self, request: Request) -> Response:
        filters = CompanyFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        companies = selectors.api_companies(
            organization=organization_of(request),
            status=filters.validated_data.get("status", ""),
            search=filters.validated_data.get("search", "").strip(),
            external_id=filters.validated_data.get("external_id", ""),
        )
        page = self.paginate_queryset(companies)
        return self.get_paginated_response(CompanySerializer(page, many=True).data)

    @extend_schema(
        request=CompanySerializer,
        responses={201: CompanySerializer, **problems(400, 409, conflict=Conflict409)},
        summary="Create a company (and its link URL)",
        description=(
            "A company stands for one of your customers. Send its `name`, your own "
            "`external_id` for it (unique in your organization: a second company with the "
            "same one is a 409 naming the first) and, if you want the customer sent back to "
            "you after linking, a `redirect_url`. The answer holds `link_url`: send it to the "
            "customer to link their Sage business. Its URL is in `Location`. Send an "
            "`Idempotency-Key` to retry safely."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = CompanySerializer(
            data=request.data, context={"organization": organization_of(request)}
        )
        serializer.is_valid(raise_exception=True)
        try:
            company = company_service.company_create(
                organization=organization_of(request),
                name=serializer.validated_data["name"],
                external_id=serializer.validated_data.get("external_id"),
                redirect_url=serializer.validated_data.get("redirect_url", ""),
                actor=None,
            )
        except company_service.ExternalIdTaken as error:
            raise _external_id_taken(error) from None
        return Response(
            CompanySerializer(company).data,
            status=HTTPStatus.CREATED,
            headers={"Location": public_url("api:company_detail", pk=company.pk)},
        )


class CompanyDetail(OrganizationView):
    @extend_schema(
        responses={200: CompanySerializer, **problems()},
        summary="Read a company",
        description="The company with its current link URL and its connection's status.",
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(CompanySerializer(company_of(request, pk)).data)

    @extend_schema(
        request=CompanyUpdateSerializer,
        responses={200: CompanySerializer, **problems(400, 409, conflict=Conflict409)},
        summary="Change a company's name, external_id or redirect_url",
        description=(
            "Send only the fields to change. `external_id` may be set to null; a value "
            "another company has is a 409 naming it."
        ),
    )
    def patch(self, request: Request, pk: int) -> Response:
        company = company_of(request, pk)
        serializer = CompanyUpdateSerializer(
            data=request.data, partial=True, context={"organization": organization_of(request)}
        )
        serializer.is_valid(raise_exception=True)
        changes = {
            k: v
            for k, v in serializer.validated_data.items()
            if k in ("name", "external_id", "redirect_url")
        }
        try:
            company = company_service.company_update(company=company, actor=None, **changes)
        except company_service.ExternalIdTaken as error:
            raise _external_id_taken(error) from None
        return Response(CompanySerializer(company).data)

    @extend_schema(
        responses={204: None, **problems()},
        summary="Delete a company (unlinked first: its authorization is revoked at Sage)",
        description=(
            "The company and its connection are gone for good; a linked one is unlinked "
            "first, so that Sage forgets the authorization."
        ),
    )
    def delete(self, request: Request, pk: int) -> Response:
        company_service.company_delete(company=company_of(request, pk), actor=None)
        return Response(status=HTTPStatus.NO_CONTENT)


class CompanyLinkUrl(OrganizationView):
    @extend_schema(
        request=None,
        responses={200: LinkUrlSerializer, **problems()},
        summary="Renew the link URL (the previous one stops working)",
        description=(
            "A new `link_url` for the company, valid until `expires_at`: use it when the "
            "customer lost theirs or it expired. The previous one stops working at once."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        company = company_service.company_link_renew(company=company_of(request, pk), actor=None)
        body = {
            "link_url": selectors.company_link_url(company),
            "expires_at": company.link_expires_at,
        }
        return Response(LinkUrlSerializer(body).data)


class CompanyConnection(OrganizationView):
    @extend_schema(
        responses={200: ConnectionSerializer, **problems()},
        summary="Read the company's connection",
        description=(
            "Where the company's link with Sage stands: `status` (PendingAuth, Linked, "
            "Deauthorized, Unlinked), the Sage business, and `last_error_code` with "
            "`last_error` when something went wrong. A 404 until the customer has opened "
            "the link URL."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        connection = connection_of(company_of(request, pk))
        return Response(ConnectionSerializer(connection).data)


class ConnectionUnlink(OrganizationView):
    @extend_schema(
        request=None,
        responses={200: UnlinkSerializer, **problems(409)},
        summary="Unlink the company (its authorization is revoked at Sage)",
        description=(
            "The portal stops reading the company's Sage data and asks Sage to revoke the "
            "authorization (`revoked` says whether Sage confirmed it). Unlinking an unlinked "
            "company answers the same again; a company that never linked, or that Sage "
            "deauthorized, is a 409 (`not_linked`)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        company = company_of(request, pk)
        connection = connection_of(company)
        if connection.status == Connection.Status.UNLINKED:
            revoked = selectors.connection_unlink_revoked(connection)
            return Response(
                UnlinkSerializer({"status": Connection.Status.UNLINKED, "revoked": revoked}).data
            )
        if not company_state(company).can_unlink:
            raise Conflict(_("This company is not linked."), code=Code.NOT_LINKED)
        result = connection_unlink(connection=connection, actor=None)
        return Response(
            UnlinkSerializer({"status": Connection.Status.UNLINKED, "revoked": result.revoked}).data
        )


# Sage's list parameters (its OpenAPI, v3.1), passed on as they came; any other
# parameter is passed on too.
SAGE_QUERY_PARAMETERS = [
    OpenApiParameter(
        "items_per_page", int, description="Items per page of a list, 1 to 200 (Sage's default 20)."
    ),
    OpenApiParameter("page", int, description="The page of a list, from 1."),
    OpenApiParameter("search", str, description="Sage's search of a list (name, reference...)."),
    OpenApiParameter(
        "updated_or_created_since",
        OpenApiTypes.DATETIME,
        description="Only items created or changed at or after this time (ISO 8601).",
    ),
    OpenApiParameter(
        "deleted_since",
        OpenApiTypes.DATETIME,
        description="Only items deleted after this time (ISO 8601): the list of deletions.",
    ),
    OpenApiParameter(
        "attributes", str, description="Comma-separated attributes of each item, or `all`."
    ),
    OpenApiParameter("sort", str, description="Sort order, e.g. `created_at:desc`."),
    OpenApiParameter("from_date", OpenApiTypes.DATE, description="Items dated from this day."),
    OpenApiParameter("to_date", OpenApiTypes.DATE, description="Items dated up to this day."),
]


def sage_problem(error: AccountingApiError) -> ProxyProblem | Unavailable:
    """The problem answering a Sage failure that came with no answer to pass on."""
    if isinstance(error, AccountingBusy):
        return ProxyProblem(
            HTTPStatus.TOO_MANY_REQUESTS, error.message, code="sage_busy", wait=error.retry_after
        )
    if isinstance(error, AccountingAnswerTooLarge):
        return ProxyProblem(HTTPStatus.BAD_GATEWAY, error.message, code="sage_answer_too_large")
    if error.status is None and error.retryable:
        return Unavailable(error.message)
    return ProxyProblem(HTTPStatus.BAD_GATEWAY, error.message, code="sage_error")


def sage_error_problem(answer: sage_proxy.ProxyAnswer) -> ProxyProblem:
    """Sage's error answer (its status, its error array) wrapped as a problem document."""
    body = answer.body
    errors = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    if answer.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        detail = _("Sage failed to answer the request; Sage's answer is in `sage`.")
    else:
        detail = _("Sage refused the request; Sage's answer is in `sage`.")
    retry_after = answer.retry_after or ""
    wait = int(retry_after) if retry_after.isdigit() else None
    return ProxyProblem(
        answer.status,
        detail,
        code="sage_error",
        wait=wait,
        sage={
            "status": answer.status,
            "request_id": answer.request_id,
            "errors": [e for e in errors if isinstance(e, dict)],
        },
    )


class SageProxy(OrganizationView):
    """Read-only pass-through to Sage for the company's connection."""

    @extend_schema(
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            **problems(409, 502, 503),
            # Sage's own refusals and failures, wrapped: Sage's answer is in `sage`.
            **{
                (status, PROBLEM_CONTENT_TYPE): SageProblemSerializer
                for status in (*SAGE_STATUSES, 429, 502)
            },
        },
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH),
            OpenApiParameter(
                "path",
                str,
                OpenApiParameter.PATH,
                description="A Sage API resource, e.g. `ledger_accounts` or `contacts/{id}`.",
            ),
            *SAGE_QUERY_PARAMETERS,
        ],
        summary="Read Sage data of the company (GET only), e.g. ledger_accounts",
        description=(
            "Sage's JSON as it came, with `$next` and `$back` turned into URLs of this "
            "proxy. `path` is a Sage API resource of the connection's API version (v3.1, "
            "or v3.0's accounts API) among those this API reads (not `user` nor "
            "`businesses`): no `..`, no absolute URL. When Sage refuses or fails, the "
            "answer has Sage's status and is a problem document (`code` `sage_error`) with "
            "Sage's error array in `sage.errors`. Too many requests to Sage under way for "
            "the app or the company: 429 (`sage_busy`) with Retry-After."
        ),
    )
    def get(self, request: Request, pk: int, path: str) -> Response:
        company = company_of(request, pk)
        connection = connection_of(company)
        if unreadable_fields(connection) or unreadable_fields(connection.credential_set):
            raise Unavailable(
                _("This company's stored authorization cannot be read with the current keys.")
            )
        try:
            answer = sage_proxy.sage_proxy_get(
                connection=connection,
                path=path,
                query=[(k, v) for k, vs in request.query_params.lists() for v in vs],
            )
        except sage_proxy.ProxyPathRefused:
            raise NotFound(_("Not a Sage API resource.")) from None
        except sage_proxy.ResourceNotAllowed:
            raise ProxyProblem(
                HTTPStatus.FORBIDDEN,
                _("This API does not read this Sage resource."),
                code="resource_not_allowed",
            ) from None
        except ConnectionBusy:
            raise Unavailable(
                _("The connection to Sage is being renewed; retry shortly."), wait=1
            ) from None
        except TokenError as error:
            if error.retryable:
                raise Unavailable(str(error)) from None
            raise Conflict(
                _("The company must relink its Sage business: Sage no longer accepts it.")
            ) from None
        except AccountingApiError as error:
            raise sage_problem(error) from None
        if answer.status >= HTTPStatus.BAD_REQUEST:
            raise sage_error_problem(answer)
        body = answer.body
        if answer.links:
            base = public_url("api:sage_proxy", pk=company.pk, path="")
            body = body | {k: base + v if v else None for k, v in answer.links.items()}
        headers = {"Retry-After": answer.retry_after} if answer.retry_after else None
        return Response(body, status=answer.status, headers=headers)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([])
@authentication_classes([])
@throttle_classes([])
def not_found(request: Request, *args: object, **kwargs: object) -> Response:
    raise NotFound
