"""The webhooks API (endpoints, their delivery log, resend) and the events feed.

The same services as Settings › Webhooks (webhooks/services.py): the page and the
API create, change, rotate, delete, test and resend alike, and record the same
history (naming the API key). A signing secret is in the answer that creates it
(create, rotate) and never again. An endpoint of another organization is a 404.
"""

from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.api.authentication import organization_of
from integrations.api.pagination import StrictCursorPagination
from integrations.api.problems import Code, Conflict
from integrations.api.views import OrganizationView, problems
from integrations.api.webhook_serializers import (
    EventFilterSerializer,
    EventSerializer,
    SigningSecretSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
)
from integrations.webhooks import selectors
from integrations.webhooks import services as service
from integrations.webhooks.models import WebhookEndpoint

TAG = ["webhooks"]


class EndpointCursor(StrictCursorPagination):
    ordering = "created_at"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"


class DeliveryCursor(StrictCursorPagination):
    ordering = "-created_at"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"


class EventCursor(StrictCursorPagination):
    """Oldest first: a platform catching up reads on with `next` until it is empty."""

    ordering = "id"
    page_size = 100
    max_page_size = 500
    page_size_query_param = "limit"


def endpoint_of(request: Request, pk: object) -> WebhookEndpoint:
    """The key's organization's endpoint `pk`, or a 404."""
    try:
        return selectors.webhook_endpoint_for(organization=organization_of(request), pk=pk)
    except WebhookEndpoint.DoesNotExist:
        raise NotFound from None


def _values(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in ("url", "events", "enabled") if k in data}


class WebhookList(OrganizationView, GenericAPIView):
    serializer_class = WebhookEndpointSerializer
    pagination_class = EndpointCursor

    @extend_schema(
        tags=TAG,
        responses={
            (200, "application/json"): WebhookEndpointSerializer(many=True),
            **problems(400),
        },
        summary="List the webhook endpoints",
    )
    def get(self, request: Request) -> Response:
        endpoints = selectors.webhook_endpoints_for(organization=organization_of(request))
        page = self.paginate_queryset(endpoints)
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        tags=TAG,
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointCreatedSerializer, **problems(400)},
        summary="Add a webhook endpoint (its signing secret is in this answer only)",
    )
    def post(self, request: Request) -> Response:
        serializer = WebhookEndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = service.webhook_endpoint_create(
            organization=organization_of(request),
            actor=None,
            **_values(serializer.validated_data),
        )
        body = WebhookEndpointCreatedSerializer(endpoint).data | {"signing_secret": secret}
        location = settings.PORTAL_BASE_URL + reverse(
            "api:webhook_detail", kwargs={"pk": endpoint.pk}
        )
        return Response(body, status=HTTPStatus.CREATED, headers={"Location": location})


class WebhookDetail(OrganizationView):
    @extend_schema(
        tags=TAG,
        responses={200: WebhookEndpointSerializer, **problems()},
        summary="Read a webhook endpoint",
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(WebhookEndpointSerializer(endpoint_of(request, pk)).data)

    @extend_schema(
        tags=TAG,
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer, **problems(400)},
        summary="Change a webhook endpoint's URL, events or enabled",
        description="Enabling a disabled endpoint again forgets its failing streak.",
    )
    def patch(self, request: Request, pk: str) -> Response:
        endpoint = endpoint_of(request, pk)
        serializer = WebhookEndpointUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = {"url": endpoint.url, "events": endpoint.events, "enabled": endpoint.enabled}
        endpoint = service.webhook_endpoint_update(
            endpoint=endpoint, actor=None, **(values | _values(serializer.validated_data))
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        tags=TAG,
        responses={204: None, **problems()},
        summary="Delete a webhook endpoint and its delivery log",
    )
    def delete(self, request: Request, pk: str) -> Response:
        service.webhook_endpoint_delete(endpoint=endpoint_of(request, pk), actor=None)
        return Response(status=HTTPStatus.NO_CONTENT)


class WebhookRotateSecret(OrganizationView):
    @extend_schema(
        tags=TAG,
        request=None,
        responses={200: SigningSecretSerializer, **problems()},
        summary="Give the endpoint a new signing secret (in this answer only)",
        description="The old secret stops signing at once.",
    )
    def post(self, request: Request, pk: str) -> Response:
        secret = service.webhook_secret_rotate(endpoint=endpoint_of(request, pk), actor=None)
        return Response(SigningSecretSerializer({"signing_secret": secret}).data)


class WebhookTest(OrganizationView):
    @extend_schema(
        tags=TAG,
        request=None,
        responses={202: WebhookDeliverySerializer, **problems(409)},
        summary="Send the endpoint a webhook.test event",
        description="Its delivery is in the endpoint's delivery log. 409 when disabled.",
    )
    def post(self, request: Request, pk: str) -> Response:
        try:
            delivery = service.webhook_send_test(endpoint=endpoint_of(request, pk))
        except service.EndpointDisabled:
            raise Conflict(
                _("Enable the endpoint before sending it a test event."),
                code=Code.ENDPOINT_DISABLED,
            ) from None
        return Response(WebhookDeliverySerializer(delivery).data, status=HTTPStatus.ACCEPTED)


class WebhookDeliveries(OrganizationView, GenericAPIView):
    serializer_class = WebhookDeliverySerializer
    pagination_class = DeliveryCursor

    @extend_schema(
        tags=TAG,
        responses={
            (200, "application/json"): WebhookDeliverySerializer(many=True),
            **problems(400),
        },
        summary="The endpoint's delivery log, newest first",
    )
    def get(self, request: Request, pk: str) -> Response:
        endpoint = endpoint_of(request, pk)
        page = self.paginate_queryset(selectors.webhook_delivery_log(endpoint=endpoint))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookResend(OrganizationView):
    @extend_schema(
        tags=TAG,
        request=None,
        responses={202: WebhookDeliverySerializer, **problems(409)},
        summary="Send a delivered or failed event again, with the same message id",
        description=(
            "The retry schedule starts again. 409 while it is still pending (its next "
            "attempt is planned) or when the endpoint is disabled."
        ),
    )
    def post(self, request: Request, pk: str, delivery_id: str) -> Response:
        endpoint = endpoint_of(request, pk)
        delivery = endpoint.deliveries.filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound
        try:
            resent = service.webhook_resend(delivery=delivery)
        except service.EndpointDisabled:
            raise Conflict(
                _("Enable the endpoint before resending an event."), code=Code.ENDPOINT_DISABLED
            ) from None
        if not resent:
            raise Conflict(
                _("This event is still being delivered: its next try is planned."),
                code=Code.DELIVERY_PENDING,
            )
        return Response(WebhookDeliverySerializer(delivery).data, status=HTTPStatus.ACCEPTED)


class EventList(OrganizationView, GenericAPIView):
    serializer_class = EventSerializer
    pagination_class = EventCursor

    @extend_schema(
        tags=["events"],
        parameters=[EventFilterSerializer],
        responses={(200, "application/json"): EventSerializer(many=True), **problems(400)},
        summary="The events feed: every event, oldest first, as webhooks send them",
        description=(
            "Each item is the payload a webhook delivery carries. Follow `next` to "
            "catch up after an outage: keep the last `next` URL and read it again later. "
            "`sequence` numbers each company's events (1, 2, ...) so they can be ordered."
        ),
    )
    def get(self, request: Request) -> Response:
        filters = EventFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = selectors.platform_events(
            organization=organization_of(request),
            type=filters.validated_data.get("type", ""),
            company_id=filters.validated_data.get("company"),
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response([event.payload for event in page])
