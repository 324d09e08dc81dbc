"""The form of a webhook endpoint: its URL (checked against SSRF), events, enabled."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from integrations.webhooks.http import Refusal, UnsafeUrl, resolve
from integrations.webhooks.models import WebhookEvent

URL_REFUSALS = {
    Refusal.NOT_HTTPS: _("Use an https:// URL."),
    Refusal.NO_HOST: _("Enter a URL with a host name and a valid port."),
    Refusal.CREDENTIALS: _("Leave user names and passwords out of the URL."),
    Refusal.UNRESOLVABLE: _("This host name could not be resolved."),
    Refusal.FORBIDDEN_ADDRESS: _(
        "This host resolves to a private, loopback, link-local or reserved address: "
        "webhooks go to public addresses only."
    ),
}


def validate_webhook_url(url: str) -> None:
    """Refuse a URL a webhook may not go to (the SSRF check), in the words of URL_REFUSALS."""
    try:
        resolve(url, allow_loopback_http=settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP)
    except UnsafeUrl as error:
        raise forms.ValidationError(URL_REFUSALS[error.refusal], code=error.refusal.value) from None


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Endpoint URL"),
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/portal"}),
        help_text=_("Your backend's URL that receives the events, over https."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events to send"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    enabled = forms.BooleanField(
        label=_("Send events to this endpoint"), required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP:  # development: say what the check allows
            self.fields["url"].help_text = _(
                "Your backend's URL that receives the events, over https (http is allowed "
                "to 127.0.0.1 and localhost here, for development)."
            )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        validate_webhook_url(url)
        return url
