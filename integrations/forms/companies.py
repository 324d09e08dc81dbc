"""Forms of the companies pages: search, create."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .names import printable_name
from .widgets import BoundedTextInput


class CompanySearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name"),
        required=False,
        max_length=200,
        strip=True,
        widget=BoundedTextInput,
    )


class CompanyForm(forms.Form):
    name = forms.CharField(
        label=_("Company name"), max_length=200, strip=True, widget=BoundedTextInput
    )

    def clean_name(self) -> str:
        return printable_name(self.cleaned_data["name"])
