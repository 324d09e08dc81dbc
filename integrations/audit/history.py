"""Recording history events: who did what, when, never a secret value."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from integrations.accounting import ApiVersion
from integrations.models import Company, HistoryEvent, Integration
from portal.organizations.models import Membership, Organization

# How many of the latest events a page's history shows.
HISTORY_SIZE = 50

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User  # User: AUTH_USER_MODEL

# Who did it: request.user from a page or the admin, None for the system (keep-alive, Sage).
type Actor = User | AnonymousUser | None

# The prefix of the API key the current request acts with (set by the REST API around
# each request): the events it causes name the key, as a page's name their user.
_api_key_prefix: ContextVar[str | None] = ContextVar("history_api_key_prefix", default=None)


@contextmanager
def acting_with_api_key(prefix: str) -> Iterator[None]:
    """Record `details["api_key"] = prefix` on every event recorded inside the block."""
    token = _api_key_prefix.set(prefix)
    try:
        yield
    finally:
        _api_key_prefix.reset(token)


def history_record(
    *,
    organization: Organization,
    kind: HistoryEvent.Kind,
    actor: Actor = None,
    integration: Integration | None = None,
    company: Company | None = None,
    details: dict[str, Any] | None = None,
) -> HistoryEvent:
    """Record one event. `details` holds names and statuses only, never secret values."""
    details = dict(details or {})
    if (prefix := _api_key_prefix.get()) is not None:
        details.setdefault("api_key", prefix)
    return HistoryEvent.objects.create(
        organization=organization,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        integration=integration,
        company=company,
        details=details,
    )


def note_details(note: str) -> dict[str, str]:
    """`{"note": note}` for a reason support wrote (shown to the organization); `{}` without."""
    note = note.strip()
    return {"note": note} if note else {}


def history_details_text(event: HistoryEvent) -> str:
    """The event's details as a sentence in the reader's language, never as JSON."""
    from django.utils.translation import gettext

    from integrations.models import CredentialSet

    details = event.details or {}
    words = {
        "reason": lambda v: _label(HistoryEvent.Reason, v),
        "via": lambda v: _label(HistoryEvent.Via, v),
        "fields": lambda v: ", ".join(CredentialSet.field_label(n) for n in v),
        "revoked": lambda v: gettext("yes") if v else gettext("no"),
        "revoke_failed": lambda v: gettext("yes") if v else gettext("no"),
        "created": lambda v: gettext("yes") if v else gettext("no"),
        "api_version": _version,
        "role": lambda v: _label(Membership.Role, v),
        "previous_role": lambda v: _label(Membership.Role, v),
        "required": lambda v: gettext("yes") if v else gettext("no"),
    }
    if event.kind == HistoryEvent.Kind.CREDENTIAL_TYPE_CHANGED:
        words |= {"from": _version, "to": _version}
    if event.kind == HistoryEvent.Kind.SYNC_SCHEDULE_CHANGED:
        schedule = Integration.SyncInterval.label_of
        words |= {"schedule": schedule, "previous_schedule": schedule}
    names = {
        "reason": gettext("reason"),
        "via": gettext("from"),
        "fields": gettext("fields"),
        "api_version": gettext("API version"),
        "country": gettext("country"),
        "business": gettext("Sage business"),
        "revoked": gettext("revoked at Sage"),
        "revoke_failed": gettext("revocation failed"),
        "created": gettext("new set"),
        "from": gettext("before"),
        "to": gettext("after"),
        "result": gettext("result"),
        "error": gettext("error"),
        "name": gettext("name"),
        "expires": gettext("expires"),
        "note": gettext("note"),
        "redirect_url": gettext("redirect URL"),
        "email": gettext("email"),
        "previous_role": gettext("previous role"),
        "role": gettext("role"),
        "required": gettext("required"),
        "schedule": gettext("sync schedule"),
        "previous_schedule": gettext("previous sync schedule"),
    }
    # In one order everywhere (PostgreSQL's jsonb keeps its own key order, not ours).
    order = [key for key in names if key in details] + sorted(set(details) - set(names))
    parts = [
        f"{names.get(key, key)}: {words[key](details[key]) if key in words else details[key]}"
        for key in order
    ]
    return (("; ".join(parts)) + ".") if parts else "—"


def _label(choices: Any, value: object) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _version(value: object) -> str:
    """A stored API version in its short words ("API v3.1")."""
    try:
        return str(ApiVersion(str(value)).short_label)
    except ValueError:
        return str(value)
