"""Forms of the companies pages: search, create."""

from django import forms
from django.utils.translation import gettext_lazy as _

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
        # Collapse runs of whitespace so "Acme  Ltd" and "Acme Ltd" read the same.
        name = " ".join(self.cleaned_data["name"].split())
        if not name.isprintable():
            raise forms.ValidationError(
                _("Use only printable characters in the name."), code="not_printable"
            )
        return name
