"""What the webhooks API and the events feed read and write."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from integrations.api.serializers import StrictModelSerializer, StrictSerializer
from integrations.webhooks.forms import validate_webhook_url
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

URL_HELP = _(
    "Your backend's URL that receives the events: https, and a host that resolves to "
    "public addresses only."
)


def _events_field(**kwargs: object) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        allow_empty=False,
        max_length=len(WebhookEvent.values),
        help_text=_("The events to send (at least one)."),
        **kwargs,
    )


class WebhookEndpointSerializer(StrictModelSerializer):
    """A webhook endpoint (its signing secret is never shown again after create/rotate)."""

    url = serializers.URLField(
        max_length=500, validators=[validate_webhook_url], help_text=URL_HELP
    )
    events = _events_field()
    enabled = serializers.BooleanField(default=True)

    class Meta:
        model = WebhookEndpoint
        read_only_fields = ["id", "created_at", "updated_at", "failing_since", "disabled_at"]
        fields = ["url", "events", "enabled", *read_only_fields]

    def validate_events(self, value: list[str]) -> list[str]:
        return sorted(set(value))


class WebhookEndpointUpdateSerializer(WebhookEndpointSerializer):
    url = serializers.URLField(
        max_length=500, validators=[validate_webhook_url], help_text=URL_HELP, required=False
    )
    events = _events_field(required=False)
    enabled = serializers.BooleanField(required=False)


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    signing_secret = serializers.CharField(
        read_only=True,
        help_text=_("The Standard Webhooks secret (whsec_...): shown in this answer only."),
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "signing_secret"]


class SigningSecretSerializer(StrictSerializer):
    signing_secret = serializers.CharField(
        help_text=_("The new Standard Webhooks secret (whsec_...): shown in this answer only.")
    )


class WebhookDeliverySerializer(StrictModelSerializer):
    """One event sent to one endpoint, and how its attempts went."""

    class Meta:
        model = WebhookDelivery
        fields = ["id", *WebhookDelivery.LOG_FIELDS]
        read_only_fields = fields


class EventSerializer(StrictSerializer):
    """An event: the payload its webhook deliveries carry."""

    type = serializers.ChoiceField(choices=WebhookEvent.choices)
    timestamp = serializers.DateTimeField()
    sequence = serializers.IntegerField(
        min_value=1,
        help_text=_("The event's number among its company's events (1, 2, ...)."),
    )
    data = serializers.DictField(
        help_text=_("`company` (as the companies API describes it), and `connection` or details.")
    )


class EventFilterSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=WebhookEvent.choices, required=False)
    company = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text=_("A company's id.")
    )
