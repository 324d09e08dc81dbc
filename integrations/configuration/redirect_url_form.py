"""The integration's redirect URL: where customers go after linking."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.forms.widgets import BoundedTextInput
from integrations.redirect_urls import MAX_LENGTH, validate_redirect_url
from portal.organizations.models import Organization

EXAMPLE = "https://app.example.com/sage/done?company={externalId}&status={status}"


class RedirectUrlForm(forms.Form):
    redirect_url = forms.CharField(
        label=_("Redirect URL"),
        required=False,
        max_length=MAX_LENGTH,
        strip=True,
        validators=[validate_redirect_url],
        widget=BoundedTextInput(
            attrs={
                "inputmode": "url",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": EXAMPLE,
            }
        ),
    )

    def __init__(self, *args, organization: Organization | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_redirect_url(self) -> str:
        url = self.cleaned_data["redirect_url"]
        if self.organization is not None:
            validate_redirect_url(url, allowed_origins=self.organization.allowed_redirect_origins)
        return url
