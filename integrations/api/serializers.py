"""What the API reads and writes: companies, their link URL and their connection."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations import selectors
from integrations.models import Company, Connection
from integrations.redirect_urls import MAX_LENGTH as REDIRECT_URL_MAX_LENGTH
from integrations.redirect_urls import validate_redirect_url

REDIRECT_URL_HELP = _(
    "Where the customer goes after linking, cancelling or failing, instead of the "
    "portal's result page; wins over the integration's. {companyId}, {externalId} and "
    "{status} (linked, cancelled, failed) are filled in, URL-encoded. https only. "
    "Empty: the integration's redirect URL, if any."
)


def _clean_text(value: str) -> str:
    value = " ".join(value.split())
    if not value.isprintable():
        raise serializers.ValidationError(_("Use only printable characters."))
    return value


class HealthSerializer(serializers.Serializer):
    warning = serializers.BooleanField()
    refresh_expires_soon = serializers.BooleanField()
    last_refresh_failed = serializers.BooleanField()


class ConnectionSerializer(serializers.ModelSerializer):
    linked_at = serializers.SerializerMethodField()
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

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_linked_at(self, connection: Connection) -> str | None:
        """When the connection was made (its record); null unless Linked."""
        return connection.created_at.isoformat() if connection.is_linked else None

    @extend_schema_field(HealthSerializer)
    def get_health(self, connection: Connection) -> dict[str, bool]:
        health = selectors.connection_health(connection)
        return {
            "warning": health.warning,
            "refresh_expires_soon": health.refresh_expires_soon,
            "last_refresh_failed": health.last_refresh_failed,
        }


class CompanySerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=200)
    external_id = serializers.CharField(
        max_length=200, required=False, allow_null=True, default=None
    )
    redirect_url = serializers.CharField(
        max_length=REDIRECT_URL_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[validate_redirect_url],
        help_text=REDIRECT_URL_HELP,
    )
    link_url = serializers.SerializerMethodField()
    connection_status = serializers.SerializerMethodField()

    class Meta:
        model = Company
        read_only_fields = ["id", "link_expires_at", "created_at", "updated_at"]
        fields = [
            "name",
            "external_id",
            "redirect_url",
            "link_url",
            "connection_status",
            *read_only_fields,
        ]

    def validate_name(self, value: str) -> str:
        value = _clean_text(value)
        if not value:
            raise serializers.ValidationError(_("This field may not be blank."))
        return value

    def validate_external_id(self, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value or not value.isprintable():
            raise serializers.ValidationError(_("Use printable characters, or null for none."))
        return value

    def get_link_url(self, company: Company) -> str:
        """The URL to send the business customer to (valid until link_expires_at)."""
        return selectors.company_link_url(company)

    @extend_schema_field(
        serializers.ChoiceField(choices=Connection.Status.choices, allow_null=True)
    )
    def get_connection_status(self, company: Company) -> str | None:
        connection = getattr(company, "connection", None)
        return connection.status if connection is not None else None


class CompanyUpdateSerializer(CompanySerializer):
    name = serializers.CharField(max_length=200, required=False)
    external_id = serializers.CharField(max_length=200, required=False, allow_null=True)
    redirect_url = serializers.CharField(
        max_length=REDIRECT_URL_MAX_LENGTH,
        required=False,
        allow_blank=True,
        validators=[validate_redirect_url],
        help_text=REDIRECT_URL_HELP,
    )


class CompanyFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Connection.Status.choices, required=False)
    search = serializers.CharField(max_length=200, required=False, allow_blank=True)


class LinkUrlSerializer(serializers.Serializer):
    link_url = serializers.CharField()
    expires_at = serializers.DateTimeField()


class UnlinkSerializer(serializers.Serializer):
    status = serializers.CharField()
    revoked = serializers.BooleanField(help_text=_("Whether Sage confirmed the revocation."))


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details (served as application/problem+json)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True, required=False)


class Conflict409(ProblemSerializer):
    existing_company_id = serializers.IntegerField(required=False)


class SageErrorSerializer(serializers.Serializer):
    """One of Sage's errors, as Sage sent it."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Sage's own member names start with `$`, which a class attribute cannot.
        return {
            "$severity": serializers.CharField(required=False),
            "$dataCode": serializers.CharField(required=False),
            "$message": serializers.CharField(required=False),
            "$source": serializers.CharField(required=False),
        }


class SageAnswerSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text=_("The status Sage answered."))
    request_id = serializers.CharField(
        help_text=_("Sage's x_request_id, for Sage's support (empty when Sage sent none).")
    )
    errors = SageErrorSerializer(many=True, help_text=_("Sage's error array, as it came."))


class SageProblemSerializer(ProblemSerializer):
    """A problem of the Sage pass-through: Sage's own error inside `sage`."""

    code = serializers.CharField(
        required=False,
        help_text=_(
            "sage_error: Sage refused or failed (its answer in `sage`); sage_busy: too many "
            "requests to Sage under way for the app or the company (retry after Retry-After); "
            "resource_not_allowed: not a Sage resource this API reads; "
            "sage_answer_too_large: Sage's answer is larger than this API passes on."
        ),
    )
    sage = SageAnswerSerializer(required=False)
