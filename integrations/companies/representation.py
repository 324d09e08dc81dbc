"""How a company is described to the platform: one serializer for the REST API and the events.

The API's company (integrations/api/serializers.py) extends it with what only the API
gives (the link URL, a bearer link for the customer, and the input rules); webhooks
and the events feed send exactly this. Below the services and the API, so that both
use the one description (importing nothing above the models).
"""

from datetime import UTC
from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.models import Company, Connection

COMPANY_FIELDS = [
    "id",
    "name",
    "external_id",
    "redirect_url",
    "connection_status",
    "link_expires_at",
    "created_at",
    "updated_at",
]


class UtcDateTimeField(serializers.DateTimeField):
    """ISO 8601 in UTC (`2026-12-01T09:30:00Z`), whatever zone the request runs in."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)


class CompanyDataSerializer(serializers.ModelSerializer):
    """A company as the platform reads it, in answers and in events alike."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
    }

    connection_status = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = COMPANY_FIELDS
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(choices=Connection.Status.choices, allow_null=True)
    )
    def get_connection_status(self, company: Company) -> str | None:
        connection = getattr(company, "connection", None)
        return connection.status if connection is not None else None


def company_data(company: Company) -> dict:
    """The company as webhooks and the events feed describe it (a plain, JSON-ready dict)."""
    return dict(CompanyDataSerializer(company).data)
