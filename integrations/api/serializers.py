"""What the API reads and writes: companies, their link URL and their connection.

Input is strict: a field the operation does not take is refused (400 naming it),
and text fields take JSON strings only (`123` is not a name). Times are ISO 8601
in UTC with a `Z`, everywhere.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations import selectors
from integrations.api.problems import Code
from integrations.companies.representation import (
    COMPANY_FIELDS,
    CompanyDataSerializer,
    UtcDateTimeField,
)
from integrations.connections.selectors import company_state, connection_state_of
from integrations.connections.states import Action, ConnectionState, State, Warning
from integrations.models import Company, Connection
from integrations.redirect_urls import MAX_LENGTH as REDIRECT_URL_MAX_LENGTH
from integrations.redirect_urls import validate_redirect_url

REDIRECT_URL_HELP = _(
    "Where the customer goes after linking, cancelling or failing, instead of the "
    "portal's result page; wins over the integration's. {companyId}, {externalId} and "
    "{status} (linked, cancelled, failed) are filled in, URL-encoded. https only. "
    "Empty: the integration's redirect URL, if any."
)


class StrictCharField(serializers.CharField):
    """Text from a JSON string only: a number or a boolean is refused, not turned into text."""

    default_error_messages = {"not_a_string": _("Send a string.")}

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return str(super().to_internal_value(data))


class StrictInputMixin:
    """Refuse fields the operation does not take, naming each (a typo must not lose data)."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(name) for name in data if name not in writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [_("Unknown field: this operation does not take it.")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictModelSerializer(StrictInputMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }


class StrictSerializer(StrictInputMixin, serializers.Serializer):
    pass


def _clean_text(value: str) -> str:
    value = " ".join(value.split())
    if not value.isprintable():
        raise serializers.ValidationError(_("Use only printable characters."))
    return value


class HealthSerializer(serializers.Serializer):
    warning = serializers.BooleanField(help_text=_("Whether the connection needs attention."))
    refresh_expires_soon = serializers.BooleanField()
    last_refresh_failed = serializers.BooleanField()


STATE_HELP = _(
    "The connection's state, in the words the portal's pages use: not_linked, waiting, "
    "choosing_business, cancelled, link_failed, linked, relink_requested, tokens_refused, "
    "unlinked."
)


def _state[T: Company | Connection](
    serializer: serializers.Serializer, obj: T, read: Callable[[T], ConnectionState]
) -> ConnectionState:
    """The one state answer for `obj`, worked out once per object and serializer."""
    cache: dict[tuple[str, object], ConnectionState] = serializer.context.setdefault("_states", {})
    key = (type(obj).__name__, obj.pk)
    if key not in cache:
        cache[key] = read(obj)
    return cache[key]


class ConnectionSerializer(StrictModelSerializer):
    state = serializers.SerializerMethodField(help_text=STATE_HELP)
    actions = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()
    linked_at = serializers.SerializerMethodField()
    health = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "status",
            "state",
            "actions",
            "warnings",
            "api_version",
            "country",
            "business_id",
            "business_name",
            "linked_at",
            "last_refreshed_at",
            "refresh_token_expires_at",
            "last_error",
            "last_error_code",
            "health",
        ]
        read_only_fields = fields

    def _answer(self, connection: Connection) -> ConnectionState:
        return _state(self, connection, connection_state_of)

    @extend_schema_field(serializers.ChoiceField(choices=State.choices))
    def get_state(self, connection: Connection) -> str:
        return self._answer(connection).state.value

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(Action.choices)))
    def get_actions(self, connection: Connection) -> list[str]:
        """What fits the state (unlink: POST …/connection/unlink succeeds)."""
        return sorted(a.value for a in self._answer(connection).actions)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(Warning.choices)))
    def get_warnings(self, connection: Connection) -> list[str]:
        """Why the connection needs attention; empty when it does not."""
        return [w.value for w in self._answer(connection).warnings]

    @extend_schema_field(UtcDateTimeField(allow_null=True))
    def get_linked_at(self, connection: Connection) -> str | None:
        """When the connection was made (its record); null unless Linked."""
        if not connection.is_linked:
            return None
        return str(UtcDateTimeField().to_representation(connection.created_at))

    @extend_schema_field(HealthSerializer)
    def get_health(self, connection: Connection) -> dict[str, bool]:
        answer = self._answer(connection)
        return {
            "warning": answer.needs_attention,
            "refresh_expires_soon": answer.refresh_expires_soon,
            "last_refresh_failed": answer.last_refresh_failed,
        }


class CompanySerializer(StrictModelSerializer, CompanyDataSerializer):
    """A company, as webhooks and the events feed describe it, and its link URL."""

    # The description is integrations/companies/representation.py's, shared with the events.

    name = StrictCharField(max_length=200)
    external_id = StrictCharField(max_length=200, required=False, allow_null=True, default=None)
    redirect_url = StrictCharField(
        max_length=REDIRECT_URL_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[validate_redirect_url],
        help_text=REDIRECT_URL_HELP,
    )
    link_url = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField(help_text=STATE_HELP)

    class Meta:
        model = Company
        read_only_fields = [
            "id",
            "connection_status",
            "state",
            "link_expires_at",
            "created_at",
            "updated_at",
        ]
        fields = [*COMPANY_FIELDS, "state", "link_url"]

    def validate_name(self, value: str) -> str:
        value = _clean_text(value)
        if not value:
            raise serializers.ValidationError(_("This field may not be blank."))
        return value

    def validate_redirect_url(self, value: str) -> str:
        organization = self.context.get("organization")
        if organization is not None:
            try:
                validate_redirect_url(value, allowed_origins=organization.allowed_redirect_origins)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages) from None
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

    @extend_schema_field(serializers.ChoiceField(choices=State.choices))
    def get_state(self, company: Company) -> str:
        return _state(self, company, company_state).state.value


class CompanyUpdateSerializer(CompanySerializer):
    name = StrictCharField(max_length=200, required=False)
    external_id = StrictCharField(max_length=200, required=False, allow_null=True)
    redirect_url = StrictCharField(
        max_length=REDIRECT_URL_MAX_LENGTH,
        required=False,
        allow_blank=True,
        validators=[validate_redirect_url],
        help_text=REDIRECT_URL_HELP,
    )


class CompanyFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Connection.Status.choices,
        required=False,
        help_text=_("Only the companies whose connection has this status."),
    )
    search = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_(
            "Only the companies whose name contains this text, or whose external_id is it."
        ),
    )
    external_id = serializers.CharField(
        max_length=200,
        required=False,
        help_text=_("Only the company with exactly this external_id (your own id for it)."),
    )


class LinkUrlSerializer(serializers.Serializer):
    link_url = serializers.CharField()
    expires_at = UtcDateTimeField()


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
    detail = serializers.CharField(help_text=_("For people; may change. Branch on code."))
    code = serializers.ChoiceField(
        choices=[(code.value, code.value) for code in Code],
        help_text=_(
            "Stable, machine-readable: invalid_request (400, see errors), malformed_body "
            "(400), api_key_required (401), forbidden (403), not_found (404), "
            "method_not_allowed (405), not_acceptable (406), conflict, external_id_taken, "
            "not_linked, idempotency_key_in_use (409), body_too_large (413), "
            "unsupported_media_type (415), idempotency_key_reused (422), rate_limited, "
            "too_many_failed_attempts (429), server_error (500), bad_gateway (502), "
            "unavailable (503); from the Sage proxy: sage_error (Sage's status, its answer "
            "in sage), sage_busy (429), resource_not_allowed (404), sage_answer_too_large "
            "(502); from the synced data: unknown_data_type (404, the types in types)."
        ),
    )
    errors = FieldErrorSerializer(many=True, required=False)
    types = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("unknown_data_type: the data types this API syncs."),
    )


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
