"""Connections set up for the keep-alive pass, and the shape of a pass's result."""

from datetime import timedelta

from django.utils import timezone

from integrations.models import Connection

PASS_COUNTS = ("refreshed", "deauthorized", "failed", "busy", "not_processed", "skipped")


def expiring_in(connection, days: float) -> Connection:
    """Set when `connection`'s refresh token expires, `days` from now; return it re-read."""
    Connection.objects.filter(pk=connection.pk).update(
        refresh_token_expires_at=timezone.now() + timedelta(days=days)
    )
    return Connection.objects.get(pk=connection.pk)


def counts(**values: int) -> dict[str, int]:
    """A pass's result: every count zero unless given."""
    return dict.fromkeys(PASS_COUNTS, 0) | values


def due_and_not_due(sandbox, org_a, org_b, link_connection, *, due_b_days: float) -> dict:
    """Two due connections (2 and `due_b_days` days left), one not due (20 days), one
    Deauthorized (due by date)."""
    due = expiring_in(link_connection(sandbox, org_a, name="Due"), 2)
    due_b = expiring_in(link_connection(sandbox, org_b, name="Due B"), due_b_days)
    later = expiring_in(link_connection(sandbox, org_a, name="Later"), 20)
    gone = expiring_in(link_connection(sandbox, org_a, name="Gone"), 1)
    Connection.objects.filter(pk=gone.pk).update(
        status=Connection.Status.DEAUTHORIZED, state=Connection.State.TOKENS_REFUSED
    )
    return {"due": due, "due_b": due_b, "later": later, "gone": gone}
