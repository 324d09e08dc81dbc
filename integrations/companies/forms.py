"""Forms of the companies pages: search, create, confirm, a page of a Sage list."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.forms.names import printable_name
from integrations.forms.widgets import BoundedTextInput


class CompanySearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name"),
        required=False,
        max_length=200,
        strip=True,
        widget=BoundedTextInput,
    )
    # A selectors.CompanyFilter value; anything else shows every company.
    status = forms.CharField(required=False, max_length=20)


class CompanyForm(forms.Form):
    name = forms.CharField(
        label=_("Company name"), max_length=200, strip=True, widget=BoundedTextInput
    )

    def clean_name(self) -> str:
        return printable_name(self.cleaned_data["name"])


class ConfirmForm(forms.Form):
    """A POST that does something irreversible carries `confirm`: the confirmation's button."""

    confirm = forms.BooleanField(required=True)


class LivePageForm(forms.Form):
    """Which page of a Sage list to show; anything else shows the first."""

    page = forms.IntegerField(min_value=1, max_value=10_000, required=False)

    def clean_page(self) -> int:
        return self.cleaned_data["page"] or 1
