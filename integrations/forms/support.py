"""The form of support's confirmation pages in the admin: why they act."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.forms.widgets import BoundedTextInput


class SupportReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=BoundedTextInput(attrs={"size": 80}),
        help_text=_("The organization sees it on its pages, with the change."),
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason.isprintable():
            raise forms.ValidationError(
                _("Use only printable characters in the reason."), code="not_printable"
            )
        return reason
