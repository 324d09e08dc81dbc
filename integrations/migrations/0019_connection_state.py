"""Connection.state: the state in the reader's words, stored by the writers of connections.

Existing rows are filled from the answer the portal gave until now, worked out from the
connection's status, its tokens and its company's last lifecycle event (the rules are
copied here as they stood, since a migration must not follow later code).
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KT

# The events that said why a connection was where it was, newest first.
LIFECYCLE_KINDS = ("link_failed", "linked", "marked_for_relink", "deauthorized", "unlinked")
BATCH = 1000


def state_from_history(status: str, tokens_held: bool, kind: str, reason: str) -> str:
    """The state as `connections.states` worked it out before it was stored."""
    if status == "Linked":
        return "linked"
    if status == "Unlinked":
        return "unlinked"
    if status == "Deauthorized":
        return "relink_requested" if kind == "marked_for_relink" else "tokens_refused"
    if tokens_held:
        return "choosing_business"
    if kind == "link_failed":
        return "cancelled" if reason == "access_denied" else "link_failed"
    return "waiting"


def connection_states_fill(apps, schema_editor) -> None:
    Connection = apps.get_model("integrations", "Connection")
    HistoryEvent = apps.get_model("integrations", "HistoryEvent")
    newest = HistoryEvent.objects.filter(
        company=OuterRef("company_id"), kind__in=LIFECYCLE_KINDS
    ).order_by("-created_at", "-pk")
    rows = Connection.objects.annotate(
        last_kind=Subquery(newest.values("kind")[:1]),
        last_reason=Subquery(newest.annotate(reason=KT("details__reason")).values("reason")[:1]),
    ).values_list("pk", "status", "access_token_expires_at", "last_kind", "last_reason")
    by_state: dict[str, list] = {}
    for pk, status, expires, kind, reason in rows.iterator(chunk_size=BATCH):
        state = state_from_history(status, expires is not None, kind or "", reason or "")
        by_state.setdefault(state, []).append(pk)
    for state, pks in by_state.items():
        for start in range(0, len(pks), BATCH):
            Connection.objects.filter(pk__in=pks[start : start + BATCH]).update(state=state)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0018_sync_schedule_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="state",
            field=models.CharField(
                choices=[
                    ("not_linked", "Not linked yet"),
                    ("waiting", "Waiting for the customer"),
                    ("choosing_business", "Choosing a business"),
                    ("cancelled", "Cancelled"),
                    ("link_failed", "Link failed"),
                    ("linked", "Linked"),
                    ("relink_requested", "Relink requested"),
                    ("tokens_refused", "Relink needed"),
                    ("unlinked", "Unlinked"),
                ],
                default="waiting",
                max_length=20,
                verbose_name="state",
            ),
        ),
        migrations.RunPython(connection_states_fill, migrations.RunPython.noop, elidable=True),
    ]
