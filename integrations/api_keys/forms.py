"""The form of the API keys page: a new key's name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.forms.names import printable_name
from integrations.forms.widgets import BoundedTextInput


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Key name"),
        max_length=50,
        strip=True,
        widget=BoundedTextInput,
        help_text=_("What the key is for, e.g. “Production backend”."),
    )

    def clean_name(self) -> str:
        return printable_name(self.cleaned_data["name"])
