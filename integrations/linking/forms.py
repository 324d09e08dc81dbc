"""Forms of the link pages: the country step and the business choice."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.accounting import countries_for


class CountryForm(forms.Form):
    country = forms.ChoiceField(label=_("Country"))

    def __init__(self, *args, api_version: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.countries = countries_for(api_version)
        # self.fields holds the ChoiceField declared above (typed as a plain Field).
        self.fields["country"].choices = [(c.code, c.name) for c in self.countries]  # type: ignore[attr-defined]


class BusinessForm(forms.Form):
    business = forms.ChoiceField(label=_("Sage business"), widget=forms.RadioSelect)

    def __init__(self, *args, businesses: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business"].choices = businesses  # type: ignore[attr-defined]
