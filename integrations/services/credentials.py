"""Saving credentials, enabling and disabling an integration, marking connections for relink."""

from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from portal.models import Organization

from ..crypto import DecryptionError
from ..history import history_record
from ..models import ApiVersion, Connection, CredentialSet, HistoryEvent, Integration

SECRET_FIELDS = ("client_secret", "signing_secret", "subscription_key")
FIELDS_BY_VERSION = {
    ApiVersion.V30: ("client_id", "client_secret", "signing_secret", "subscription_key"),
    ApiVersion.V31: ("client_id", "client_secret"),
}


class IntegrationNotReady(Exception):
    """The integration cannot be enabled: its chosen credential set is missing or incomplete."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(", ".join(missing))


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


class IntegrationState(models.TextChoices):
    NOT_CONFIGURED = "NotConfigured", _("Not configured")
    DISABLED = "Disabled", _("Disabled")
    ENABLED = "Enabled", _("Enabled")


def integration_state(integration: Integration | None) -> IntegrationState:
    """Return what the accounting integrations page shows for `integration`."""
    if integration is None:
        return IntegrationState.NOT_CONFIGURED
    # integration_summary_for annotates this, saving the credential sets' query.
    has_sets = getattr(integration, "credential_set_count", None)
    if has_sets is None:
        has_sets = bool(integration.credential_sets.all())
    if not has_sets:
        return IntegrationState.NOT_CONFIGURED
    return IntegrationState.ENABLED if integration.enabled else IntegrationState.DISABLED


def linked_counts(*, integration: Integration | None) -> dict[str, int]:
    """Return how many Linked connections use each API version's set of `integration`.

    `integration` comes from integration_for, which counted them with the sets.
    """
    if integration is None:
        return {}
    return {
        s.api_version: s.linked_count for s in integration.credential_sets.all() if s.linked_count
    }


def field_label(name: str) -> str:
    """Return the translated label of a credential field."""
    return str(CredentialSet._meta.get_field(name).verbose_name)


def integration_for(*, organization: Organization, platform=Integration.Platform.SAGE):
    """Return the organization's integration for `platform`, or None if never saved.

    Its credential sets come with it, each with `linked_count` (its Linked
    connections): one query read from the sets' side, a second only when the
    integration has no set yet.
    """
    linked = (
        Connection.objects.filter(credential_set=OuterRef("pk"), status=Connection.Status.LINKED)
        .order_by()
        .values("credential_set")
        .annotate(n=Count("*"))  # not COUNT(id): the index alone answers COUNT(*)
        .values("n")
    )
    sets = list(
        CredentialSet.objects.for_org(organization)
        .filter(integration__platform=platform)
        .select_related("integration")
        .annotate(linked_count=Coalesce(Subquery(linked), 0))
        .order_by("api_version")
    )
    if not sets:
        integration = (
            Integration.objects.for_org(organization)
            .filter(platform=platform)
            .order_by("pk")  # one row at most (unique per platform): skip the ordering join
            .first()
        )
    else:
        integration = sets[0].integration
        for credential_set in sets:
            credential_set.integration = integration  # one instance, as a prefetch gives
    if integration is not None:
        # Fill the cache as prefetch_related("credential_sets") does, so that
        # integration.credential_sets.all() reads these rows without a query.
        prefetched = CredentialSet.objects.filter(integration=integration)
        prefetched._result_cache, prefetched._prefetch_done = sets, True
        integration._prefetched_objects_cache = {"credential_sets": prefetched}
    return integration


def integration_summary_for(*, organization: Organization, platform=Integration.Platform.SAGE):
    """Return the integration for `platform` with whether it has credentials, in one query."""
    # A count over a join builds faster than an Exists subquery (two sets at most).
    return (
        Integration.objects.for_org(organization)
        .filter(platform=platform)
        .annotate(credential_set_count=Count("credential_sets"))
        .order_by("pk")
        .first()
    )


def integration_missing_fields(*, integration: Integration | None) -> list[str]:
    """Return the fields the chosen credential set lacks; empty means it may be enabled.

    The one place the enable rule lives. The database guarantees that each stored set
    is complete for its version (check constraints); whether the chosen set exists is a
    question across two tables, which a check constraint cannot ask, so it is asked here.
    """
    version = ApiVersion(integration.credential_type) if integration else ApiVersion.V31
    chosen = integration.chosen_credential_set() if integration else None
    if chosen is None:
        return list(FIELDS_BY_VERSION[version])
    return [name for name in FIELDS_BY_VERSION[version] if name in chosen.missing_fields()]


def linked_connections(*, credential_set: CredentialSet | None):
    """Return the Linked connections that were linked with `credential_set`."""
    if credential_set is None:
        return Connection.objects.none()
    return Connection.objects.filter(credential_set=credential_set, status=Connection.Status.LINKED)


@sensitive_variables("value")
def _current(credential_set: CredentialSet, name: str) -> str | None:
    """Return the stored value, or None when the current keys cannot decrypt it."""
    try:
        return getattr(credential_set, name)
    except DecryptionError:
        return None  # a new value replaces it; the admin is fixing exactly this


@sensitive_variables("values", "value", "client_secret", "signing_secret", "subscription_key")
@transaction.atomic
def credentials_save(
    *,
    organization: Organization,
    actor,
    credential_type: str,
    client_id: str,
    client_secret: str = "",
    signing_secret: str = "",
    subscription_key: str = "",
    confirm_relink: bool = False,
) -> SaveResult:
    """Create or update the credential set of `credential_type` and choose it for new links.

    A blank secret keeps the stored value; the other version's set is left as it is.
    """
    version = ApiVersion(credential_type)
    integration, created = Integration.objects.select_for_update().get_or_create(
        organization=organization, platform=Integration.Platform.SAGE
    )
    credential_set = (
        CredentialSet.objects.select_for_update()
        .filter(integration=integration, api_version=version)
        .first()
    )
    is_new = credential_set is None
    if is_new:
        credential_set = CredentialSet(integration=integration, api_version=version)

    values = {
        "client_id": client_id,
        "client_secret": client_secret,
        "signing_secret": signing_secret,
        "subscription_key": subscription_key,
    }
    changed = []
    for name in FIELDS_BY_VERSION[version]:
        value = values[name].strip()
        if name in SECRET_FIELDS and not value:
            continue  # blank when editing: keep what is stored
        if _current(credential_set, name) != value:
            setattr(credential_set, name, value)
            changed.append(name)

    relinked = 0
    if not is_new and "client_id" in changed:
        # Tokens were issued to the old app: those connections must link again.
        to_relink = list(linked_connections(credential_set=credential_set).select_for_update())
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
        raise IntegrationNotReady([field_label(name) for name in missing])

    if changed:
        credential_set.save()
        history_record(
            organization=organization,
            integration=integration,
            actor=actor,
            kind=HistoryEvent.Kind.CREDENTIALS_CHANGED,
            details={"api_version": version.value, "fields": changed, "created": is_new},
        )
    if integration.credential_type != version:
        previous = integration.credential_type
        integration.credential_type = version
        integration.save(update_fields=["credential_type", "updated_at"])
        if not created:  # a brand-new integration has no previous choice to report
            history_record(
                organization=organization,
                integration=integration,
                actor=actor,
                kind=HistoryEvent.Kind.CREDENTIAL_TYPE_CHANGED,
                details={"from": previous, "to": version.value},
            )
    return SaveResult(integration, credential_set, changed, relinked)


@transaction.atomic
def integration_enable(*, integration: Integration, actor) -> bool:
    """Enable the integration; raise IntegrationNotReady if its chosen set is incomplete.

    Return False when it was already enabled.
    """
    integration = (
        Integration.objects.select_for_update()
        .prefetch_related("credential_sets")
        .get(pk=integration.pk)
    )
    missing = integration_missing_fields(integration=integration)
    if missing:
        raise IntegrationNotReady([field_label(name) for name in missing])
    if integration.enabled:
        return False
    integration.enabled = True
    integration.save(update_fields=["enabled", "updated_at"])
    history_record(
        organization=integration.organization,
        integration=integration,
        actor=actor,
        kind=HistoryEvent.Kind.ENABLED,
        details={"api_version": integration.credential_type},
    )
    return True


@transaction.atomic
def integration_disable(
    *, integration: Integration, actor, via: HistoryEvent.Via = HistoryEvent.Via.PORTAL
) -> bool:
    """Disable the integration; return False when it was already disabled."""
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    if not integration.enabled:
        return False
    integration.enabled = False
    integration.save(update_fields=["enabled", "updated_at"])
    history_record(
        organization=integration.organization,
        integration=integration,
        actor=actor,
        kind=HistoryEvent.Kind.DISABLED,
        details={"via": HistoryEvent.Via(via).value},
    )
    return True


@transaction.atomic
def connection_mark_for_relink(
    *, connection: Connection, actor, reason: HistoryEvent.Reason
) -> bool:
    """Set a connection Deauthorized so that its company links again; False if it already was."""
    connection = (
        Connection.objects.select_for_update()
        .select_related("company__organization", "integration")
        .get(pk=connection.pk)
    )
    if connection.status in (Connection.Status.DEAUTHORIZED, Connection.Status.UNLINKED):
        return False
    previous = connection.status
    connection.status = Connection.Status.DEAUTHORIZED
    connection.save(update_fields=["status", "updated_at"])
    history_record(
        organization=connection.company.organization,
        integration=connection.integration,
        company=connection.company,
        actor=actor,
        kind=HistoryEvent.Kind.MARKED_FOR_RELINK,
        details={"reason": HistoryEvent.Reason(reason).value, "from": previous},
    )
    return True
