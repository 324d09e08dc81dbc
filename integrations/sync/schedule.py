"""How often an integration's linked companies are synced: saving it, with history."""

from django.db import transaction

from integrations.audit.history import Actor, history_record
from integrations.models import HistoryEvent, Integration


def sync_schedule_set(*, integration: Integration, minutes: int, actor: Actor) -> bool:
    """Save the integration's sync interval, with a history event; False when unchanged."""
    if minutes == integration.sync_interval:
        return False
    with transaction.atomic():
        previous = integration.sync_interval
        integration.sync_interval = minutes
        integration.save(update_fields=["sync_interval", "updated_at"])
        history_record(
            organization=integration.organization,
            integration=integration,
            actor=actor,
            kind=HistoryEvent.Kind.SYNC_SCHEDULE_CHANGED,
            details={"schedule": minutes, "previous_schedule": previous},
        )
    return True
