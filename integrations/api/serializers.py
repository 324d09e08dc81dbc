"""What the API reads and writes: companies and their connection."""

from rest_framework import serializers

from .. import selectors
from ..models import Company, Connection


class ConnectionSerializer(serializers.ModelSerializer):
    health = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "status",
            "api_version",
            "country",
            "business_id",
            "business_name",
            "linked_at",
            "last_refreshed_at",
            "refresh_token_expires_at",
            "last_error",
            "health",
        ]
        read_only_fields = fields

    linked_at = serializers.SerializerMethodField()

    def get_linked_at(self, connection: Connection):
        return connection.created_at.isoformat() if connection.is_linked else None

    def get_health(self, connection: Connection) -> dict[str, bool]:
        health = selectors.connection_health(connection)
        return {
            "warning": health.warning,
            "refresh_expires_soon": health.refresh_expires_soon,
            "last_refresh_failed": health.last_refresh_failed,
        }


class CompanySerializer(serializers.ModelSerializer):
    connection_status = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = ["id", "name", "created_at", "updated_at", "connection_status"]
        read_only_fields = ["id", "created_at", "updated_at", "connection_status"]

    def get_connection_status(self, company: Company) -> str | None:
        connection = getattr(company, "connection", None)
        return connection.status if connection is not None else None
