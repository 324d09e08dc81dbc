"""The organization's API keys: create (the key is returned once), revoke, note their use."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations.audit.history import Actor, history_record
from integrations.models import HistoryEvent, OrganizationAPIKey
from portal.organizations.models import Organization

# `last_used_at` is written at most this often per key: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@sensitive_variables("key")
@transaction.atomic
def api_key_create(
    *, organization: Organization, name: str, actor: Actor
) -> tuple[OrganizationAPIKey, str]:
    """Create a key; return it with the key itself, which is stored only as a hash."""
    api_key, key = OrganizationAPIKey.objects.create_key(
        organization=organization,
        name=name,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    assert isinstance(api_key, OrganizationAPIKey)
    history_record(
        organization=organization,
        actor=actor,
        kind=HistoryEvent.Kind.API_KEY_CREATED,
        details={"name": name, "prefix": api_key.prefix},
    )
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: OrganizationAPIKey, actor: Actor) -> bool:
    """Revoke a key for good; False if it already was."""
    updated = OrganizationAPIKey.objects.filter(pk=api_key.pk, revoked=False).update(revoked=True)
    if not updated:
        return False
    history_record(
        organization=api_key.organization,
        actor=actor,
        kind=HistoryEvent.Kind.API_KEY_REVOKED,
        details={"name": api_key.name, "prefix": api_key.prefix},
    )
    return True


def api_key_touch(*, api_key: OrganizationAPIKey) -> None:
    """Note that the key was just used (to the minute)."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        OrganizationAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
