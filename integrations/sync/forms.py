"""The sync schedule of the integration settings page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.models import Integration


class SyncScheduleForm(forms.Form):
    sync_interval = forms.TypedChoiceField(
        label=_("Sync the linked companies' data"),
        choices=Integration.SyncInterval.choices,
        coerce=int,
    )
