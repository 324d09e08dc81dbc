"""The integration settings form: which credentials, and the keys of the chosen set."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import QueryDict
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from integrations import accounting
from integrations.accounting import ApiVersion
from integrations.crypto import DecryptionError
from integrations.forms.widgets import BoundedTextInput
from integrations.models import CredentialSet, Integration, mask_secret
from portal.failed_posts import FailedPost

KEY_MAX_LENGTH = 255
# Secrets are never sent back to the browser, not even after an error.
REENTER = {
    "client_secret": _("Re-enter the client secret: what you typed is not kept after an error."),
    "signing_secret": _("Re-enter the signing secret: what you typed is not kept after an error."),
    "subscription_key": _(
        "Re-enter the subscription key: what you typed is not kept after an error."
    ),
}
PREFIXES = {ApiVersion.V30: "v30", ApiVersion.V31: "v31"}


@sensitive_variables("value")
def validate_key(value: str, label: str) -> None:
    """Refuse whitespace inside a key and characters a pasted key never holds."""
    if any(ch.isspace() for ch in value):
        raise ValidationError(
            gettext("%(field)s: secure keys must not contain spaces.") % {"field": label},
            code="inner_space",
        )
    # Keys are printable ASCII; anything else (a non-breaking or zero-width space, a
    # typographic quote) arrived with a copy from a document and would fail at Sage.
    if not value.isascii() or not value.isprintable():
        raise ValidationError(
            gettext("%(field)s: use only letters, digits and punctuation, without accents.")
            % {"field": label},
            code="not_ascii",
        )


def _stored(stored: CredentialSet | None, name: str) -> str:
    """Return the stored value of `name`, or a placeholder when the keys cannot decrypt it."""
    if stored is None:
        return ""
    try:
        return getattr(stored, name)
    except DecryptionError:
        # Wrong or dropped encryption key: the page still renders; saving a new value fixes it.
        return "????"


class KeyField(forms.CharField):
    def __init__(self, *, secret: bool, **kwargs):
        widget = (
            forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            if secret
            else BoundedTextInput(attrs={"autocomplete": "off", "spellcheck": "false"})
        )
        super().__init__(max_length=KEY_MAX_LENGTH, strip=True, widget=widget, **kwargs)

    @sensitive_variables("value")
    def validate(self, value):
        super().validate(value)
        if value:
            validate_key(value, str(self.label))


class CredentialSetForm(forms.Form):
    """The keys of one API version; a secret left blank keeps the stored one."""

    # The hidden group must not block the browser's submit of the chosen one.
    use_required_attribute = False

    def __init__(self, *args, version: ApiVersion, stored: CredentialSet | None, **kwargs):
        # Callers pass data (and files) positionally, never a prefix.
        super().__init__(*args, prefix=PREFIXES[version], **kwargs)  # type: ignore[misc]
        self.version, self.stored = version, stored
        for name in CredentialSet.field_names(version):
            label = CredentialSet.field_label(name)
            secret = name in CredentialSet.SECRET_FIELDS
            stored_value = _stored(stored, name)
            self.fields[name] = KeyField(
                secret=secret, label=label, required=not stored_value, initial=None
            )
            if secret and stored_value:
                self.fields[name].masked = mask_secret(stored_value)  # type: ignore[attr-defined]
                self.fields[name].help_text = _("Leave blank to keep the stored value.")
            elif not secret:
                self.fields[name].initial = stored_value


class CredentialsForm:
    """The choice of credential type plus one form per API version; only the chosen one counts.

    Without JavaScript both groups are on the page, so the other group's input is ignored.
    """

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        integration: Integration | None = None,
        linked_counts: dict[str, int] | None = None,
    ) -> None:
        stored = (
            {s.api_version: s for s in integration.credential_sets.all()} if integration else {}
        )
        chosen = integration.new_links_api_version if integration else accounting.DEFAULT_VERSION
        if stored and chosen not in stored:
            chosen = next(iter(stored))  # e.g. only a v3.0 set, from before v3.1 existed
        self.choice = ChoiceForm(data, initial={"credential_type": chosen})
        self.groups = {
            version: CredentialSetForm(data, version=version, stored=stored.get(version))
            for version in ApiVersion
        }
        self.linked_counts = linked_counts or {}
        self.data = data
        for version, group in self.groups.items():
            # The other group's input is ignored: neither validated nor shown back.
            group.is_bound = group.is_bound and version == self.chosen_version()
        # The version new links use today: choosing v3.0 instead must be confirmed.
        self.current_version = ApiVersion(chosen) if integration and stored else None

    def chosen_version(self) -> ApiVersion:
        value = self.choice["credential_type"].value()
        return ApiVersion(value) if value in ApiVersion else accounting.DEFAULT_VERSION

    @property
    def chosen(self) -> CredentialSetForm:
        return self.groups[self.chosen_version()]

    @property
    def asks_v30_confirmation(self) -> bool:
        """Whether saving with v3.0 chosen would move new links to v3.0 (the dialog's cue)."""
        return self.current_version != accounting.LEGACY_VERSION

    @property
    def client_id_changed(self) -> bool:
        """Whether the posted client ID of the chosen set differs from the stored one."""
        group = self.chosen
        if self.data is None or group.stored is None:
            return False
        posted = (group["client_id"].value() or "").strip()
        return posted != group.stored.client_id

    def keys_rejected(self) -> None:
        """Sage rejected the posted keys, which would have replaced the stored ones."""
        self.choice.add_error(
            None,
            ValidationError(
                gettext(
                    "Sage rejected the new keys; your previous keys are still in use. Check "
                    "the client ID and secret, or tick Save anyway to replace them."
                ),
                code="keys_rejected",
            ),
        )

    @property
    def rejected_box_shown(self) -> bool:
        return self.choice.has_error(NON_FIELD_ERRORS, "keys_rejected")

    def show_failure(self, failed: FailedPost) -> None:
        """Show a refused save again after its redirect: its errors, the secrets to retype."""
        failed.show_on(self.choice, self.chosen)
        self.typed_secrets = failed.typed_secrets

    # The secret inputs that held a value when the form was refused (names, never values).
    typed_secrets: frozenset[str] = frozenset()

    @property
    def relink_box_shown(self) -> bool:
        return self.client_id_changed and bool(self.linked_counts.get(self.chosen_version()))

    @property
    def cleared_secrets(self) -> dict[str, str]:
        """The secret inputs of the chosen set that held a value the page does not send back,
        each with what to tell the admin."""
        group = self.chosen
        if self.data is None:
            return {}
        return {
            group[name].html_name: str(REENTER[name])
            for name in CredentialSet.field_names(group.version)
            if name in REENTER
            and (group[name].value() or group[name].html_name in self.typed_secrets)
        }

    def error_summary(self) -> list[tuple[str, str]]:
        """Every error of the page as (the id of the input it is about or "", message)."""
        summary: list[tuple[str, str]] = []
        for form in (self.choice, self.chosen):
            summary += [("", str(e)) for e in form.non_field_errors()]
            for name, errors in form.errors.items():
                if name == NON_FIELD_ERRORS:
                    continue
                bound, label = form[name], str(form[name].label)
                summary += [
                    (bound.id_for_label, e if e.startswith(label) else f"{label}: {e}")
                    for e in map(str, errors)
                ]
        return summary

    def is_valid(self) -> bool:
        if not (self.choice.is_valid() and self.chosen.is_valid()):
            return False
        if (
            self.chosen_version() == accounting.LEGACY_VERSION
            and self.asks_v30_confirmation
            and not self.choice.cleaned_data["confirm_v30"]
        ):
            self.choice.add_error(
                "confirm_v30",
                gettext(
                    "Confirm that new customers will only be able to choose the United "
                    "Kingdom or Ireland."
                ),
            )
            return False
        group, linked = self.chosen, self.linked_counts.get(self.chosen_version(), 0)
        changed = group.stored and group.cleaned_data["client_id"] != group.stored.client_id
        if linked and changed and not self.choice.cleaned_data["confirm_relink"]:
            group.add_error(
                "client_id",
                ngettext(
                    "%(count)d linked company uses this client ID and will need to relink. "
                    "Tick the box to confirm.",
                    "%(count)d linked companies use this client ID and will need to relink. "
                    "Tick the box to confirm.",
                    linked,
                )
                % {"count": linked},
            )
            return False
        return True

    @property
    def cleaned_data(self) -> dict:
        return {
            "api_version": self.chosen_version().value,
            "confirm_relink": self.choice.cleaned_data["confirm_relink"],
            "confirm_rejected": self.choice.cleaned_data["confirm_rejected"],
            **self.chosen.cleaned_data,
        }


class ChoiceForm(forms.Form):
    credential_type = forms.ChoiceField(
        label=_("What credentials do you have?"),
        choices=ApiVersion.choices(),
        widget=forms.RadioSelect(attrs={"data-reveals": "credential-type"}),
    )
    confirm_relink = forms.BooleanField(
        label=_("I understand that the linked companies will need to relink."), required=False
    )
    confirm_rejected = forms.BooleanField(
        label=_("Save anyway: new links will fail until the keys are fixed."), required=False
    )
    confirm_v30 = forms.BooleanField(
        label=_(
            "I understand that new customers will only be able to choose the United Kingdom "
            "or Ireland."
        ),
        required=False,
    )


class ToggleForm(forms.Form):
    enabled = forms.BooleanField(required=False)
    # Set by the confirmation (dialog or page) of a disable, or of enabling rejected keys.
    confirmed = forms.BooleanField(required=False)
