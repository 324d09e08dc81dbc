"""How often an integration's linked companies are synced: the choices, and saving one."""

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from ..history import Actor, history_record
from ..models import HistoryEvent, Integration


class SyncSchedule(models.IntegerChoices):
    """`Integration.sync_interval`, in minutes; 0: only on demand and after a link."""

    EVERY_15_MINUTES = 15, _("Every 15 minutes")
    HOURLY = 60, _("Every hour")
    EVERY_6_HOURS = 6 * 60, _("Every 6 hours")
    DAILY = 24 * 60, _("Every day")
    OFF = 0, _("Off: only Sync now, the API and right after a link")


def schedule_label(minutes: int) -> str:
    """The schedule's words; a value not offered (set in the admin, say) as minutes."""
    try:
        return str(SyncSchedule(minutes).label)
    except ValueError:
        return str(_("Every %(minutes)s minutes") % {"minutes": minutes})


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
