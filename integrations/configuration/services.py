"""Saving credentials, enabling and disabling an integration, marking connections for relink."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from integrations import accounting
from integrations.accounting import ApiVersion
from integrations.audit.history import Actor, history_record, note_details
from integrations.connections.lifecycle import connection_mark_for_relink
from integrations.crypto import DecryptionError
from integrations.models import CredentialSet, HistoryEvent, Integration
from portal.organizations.models import Organization


class IntegrationNotReady(Exception):
    """The integration cannot be enabled: its chosen credential set is missing or incomplete."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(", ".join(missing))


class KeysRejected(Exception):
    """Sage rejected the chosen keys when last asked, and nobody confirmed enabling anyway."""


class RelinkNotConfirmed(Exception):
    """The client ID of a set with linked connections changes, and nobody confirmed it."""

    def __init__(self, linked: int):
        self.linked = linked
        super().__init__(f"{linked} linked connection(s)")


@dataclass(frozen=True)
class SaveResult:
    integration: Integration
    credential_set: CredentialSet
    changed_fields: list[str]
    relinked: int


def integration_missing_fields(*, integration: Integration | None) -> list[str]:
    """Return the fields the chosen credential set lacks; empty means it may be enabled.

    The one place the enable rule lives. The database guarantees that each stored set
    is complete for its version (check constraints); whether the chosen set exists is a
    question across two tables, which a check constraint cannot ask, so it is asked here.
    """
    version = integration.new_links_api_version if integration else accounting.DEFAULT_VERSION
    chosen = integration.chosen_credential_set() if integration else None
    if chosen is None:
        return list(CredentialSet.field_names(version))
    return chosen.missing_fields()


@sensitive_variables("value")
def _current(credential_set: CredentialSet, name: str) -> str | None:
    """Return the stored value, or None when the current keys cannot decrypt it."""
    try:
        value: str = getattr(credential_set, name)
    except DecryptionError:
        return None  # a new value replaces it; the admin is fixing exactly this
    return value


@sensitive_variables("values", "value", "client_secret", "signing_secret", "subscription_key")
@transaction.atomic
def credentials_save(
    *,
    organization: Organization,
    actor: Actor,
    api_version: str,
    client_id: str,
    client_secret: str = "",
    signing_secret: str = "",
    subscription_key: str = "",
    confirm_relink: bool = False,
) -> SaveResult:
    """Create or update the credential set of `api_version` and choose it for new links.

    A blank secret keeps the stored value; the other version's set is left as it is.
    """
    version = ApiVersion(api_version)
    integration, created = Integration.objects.select_for_update().get_or_create(
        organization=organization, platform=Integration.Platform.SAGE
    )
    credential_set = (
        CredentialSet.objects.select_for_update()
        .filter(integration=integration, api_version=version)
        .first()
    )
    is_new = credential_set is None
    if credential_set is None:
        credential_set = CredentialSet(integration=integration, api_version=version)

    values = {
        "client_id": client_id,
        "client_secret": client_secret,
        "signing_secret": signing_secret,
        "subscription_key": subscription_key,
    }
    changed: list[str] = []
    for name in CredentialSet.field_names(version):
        value = values[name].strip()
        if name in CredentialSet.SECRET_FIELDS and not value:
            continue  # blank when editing: keep what is stored
        if _current(credential_set, name) != value:
            setattr(credential_set, name, value)
            changed.append(name)

    relinked = 0
    if not is_new and "client_id" in changed:
        # Tokens were issued to the old app: those connections must link again.
        to_relink = list(credential_set.connections.linked().select_for_update())
        if to_relink and not confirm_relink:
            raise RelinkNotConfirmed(len(to_relink))
        for connection in to_relink:
            connection_mark_for_relink(
                connection=connection, actor=actor, reason=HistoryEvent.Reason.CLIENT_ID_CHANGED
            )
        relinked = len(to_relink)

    # The check constraints refuse an incomplete set; say so in our words first.
    missing = credential_set.missing_fields()
    if missing:
        raise IntegrationNotReady([CredentialSet.field_label(name) for name in missing])

    if changed:
        if set(changed) & set(CredentialSet.CHECKED_FIELDS):
            credential_set.forget_check()  # Sage's answer was about the old keys
        credential_set.save()
        history_record(
            organization=organization,
            integration=integration,
            actor=actor,
            kind=HistoryEvent.Kind.CREDENTIALS_CHANGED,
            details={"api_version": version.value, "fields": changed, "created": is_new},
        )
    if integration.new_links_api_version != version:
        previous = integration.new_links_api_version
        integration.new_links_api_version = version
        integration.save(update_fields=["new_links_api_version", "updated_at"])
        if not created:  # a brand-new integration has no previous choice to report
            history_record(
                organization=organization,
                integration=integration,
                actor=actor,
                kind=HistoryEvent.Kind.CREDENTIAL_TYPE_CHANGED,
                details={"from": previous, "to": version.value},
            )
    return SaveResult(integration, credential_set, changed, relinked)


def _set_enabled(
    integration: Integration,
    *,
    enabled: bool,
    actor: Actor,
    kind: HistoryEvent.Kind,
    details: dict[str, Any],
) -> bool:
    """Save `enabled` on the locked integration and record `kind`; False if it already was."""
    if integration.enabled == enabled:
        return False
    integration.enabled = enabled
    integration.save(update_fields=["enabled", "updated_at"])
    history_record(
        organization=integration.organization,
        integration=integration,
        actor=actor,
        kind=kind,
        details=details,
    )
    return True


@transaction.atomic
def integration_enable(
    *, integration: Integration, actor: Actor, keys_rejected_confirmed: bool = False
) -> bool:
    """Enable the integration; raise IntegrationNotReady if its chosen set is incomplete.

    Raise KeysRejected if Sage rejected the chosen keys when last asked, unless the
    admin confirmed. Return False when it was already enabled.
    """
    integration = (
        Integration.objects.select_for_update()
        .prefetch_related("credential_sets")
        .get(pk=integration.pk)
    )
    missing = integration_missing_fields(integration=integration)
    if missing:
        raise IntegrationNotReady([CredentialSet.field_label(name) for name in missing])
    chosen = integration.chosen_credential_set()
    rejected = chosen is not None and chosen.keys_rejected
    if rejected and not keys_rejected_confirmed and not integration.enabled:
        raise KeysRejected
    return _set_enabled(
        integration,
        enabled=True,
        actor=actor,
        kind=HistoryEvent.Kind.ENABLED,
        details={"api_version": integration.new_links_api_version},
    )


@transaction.atomic
def integration_disable(
    *,
    integration: Integration,
    actor: Actor,
    via: HistoryEvent.Via = HistoryEvent.Via.PORTAL,
    note: str = "",
) -> bool:
    """Disable the integration; return False when it was already disabled.

    `note`: why, in support's words; recorded in the history and shown to the organization.
    """
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    return _set_enabled(
        integration,
        enabled=False,
        actor=actor,
        kind=HistoryEvent.Kind.DISABLED,
        details={"via": HistoryEvent.Via(via).value, **note_details(note)},
    )
