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

    @classmethod
    def showing(cls, integration: Integration) -> "SyncScheduleForm":
        """The form as the page shows it: the integration's schedule chosen, listed too when
        it is not one of those offered (set in the admin, say), so the page never shows
        another one as chosen."""
        form = cls(initial={"sync_interval": integration.sync_interval})
        if integration.sync_interval not in Integration.SyncInterval.values:
            current = integration.sync_interval
            field = form.fields["sync_interval"]
            assert isinstance(field, forms.TypedChoiceField)
            field.choices = [
                (current, Integration.SyncInterval.label_of(current)),
                *Integration.SyncInterval.choices,
            ]
        return form
