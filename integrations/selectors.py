"""The reads the pages need: an integration with its sets, the companies list, history.

Writes live in `services/`; these functions only read, and never call Sage.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import (
    Case,
    Count,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations import accounting
from integrations.accounting import ApiVersion
from integrations.audit.history import HISTORY_SIZE
from integrations.connections.selectors import company_state, last_event_annotations
from integrations.connections.states import ConnectionState, State
from integrations.models import (
    Company,
    Connection,
    CredentialSet,
    HistoryEvent,
    Integration,
    keepalive_deadline,
)
from portal.organizations.models import Organization
from portal.public_urls import public_url

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

COMPANY_LIST_FIELDS = (
    "name",
    "connection__status",
    "connection__state",
    "connection__last_refreshed_at",
    "connection__refresh_token_expires_at",
    "connection__last_error",
    "connection__business_name",  # "previously linked to …" after an unlink
    "connection__country",
)


class IntegrationState(models.TextChoices):
    NOT_CONFIGURED = "NotConfigured", _("Not configured")
    DISABLED = "Disabled", _("Disabled")
    ENABLED = "Enabled", _("Enabled")
    # Enabled, but Sage rejected the keys new links use when last asked: links fail.
    ENABLED_KEYS_REJECTED = "EnabledKeysRejected", _("Enabled · keys rejected")

    @property
    def is_configured(self) -> bool:
        return self != IntegrationState.NOT_CONFIGURED


def integration_state(integration: Integration | None) -> IntegrationState:
    """Return what the accounting integrations page shows for `integration`."""
    if integration is None:
        return IntegrationState.NOT_CONFIGURED
    # integration_summary_for annotates the count; integration_for prefetches the sets.
    has_sets = getattr(integration, "credential_set_count", None)
    if has_sets is None:
        has_sets = bool(integration.credential_sets.all())
    if not has_sets:
        return IntegrationState.NOT_CONFIGURED
    if not integration.enabled:
        return IntegrationState.DISABLED
    if hasattr(integration, "check_result"):  # integration_summary_for's annotation
        rejected = integration.check_result == CredentialSet.Check.REJECTED
    else:
        chosen = integration.chosen_credential_set()
        rejected = chosen is not None and chosen.keys_rejected
    return IntegrationState.ENABLED_KEYS_REJECTED if rejected else IntegrationState.ENABLED


def integration_for(
    *, organization: Organization, platform: str = Integration.Platform.SAGE
) -> Integration | None:
    """Return the organization's integration for `platform`, or None if never saved.

    Its credential sets are prefetched, each with `linked_count`: its Linked
    connections, counted from the (credential_set, status) index alone.
    """
    linked = (
        Connection.objects.linked()
        .filter(credential_set=OuterRef("pk"))
        .order_by()
        .values("credential_set")
        .annotate(n=Count("*"))  # not COUNT(id): the index alone answers COUNT(*)
        .values("n")
    )
    sets = CredentialSet.objects.annotate(linked_count=Coalesce(Subquery(linked), 0)).order_by(
        "api_version"
    )
    return (
        Integration.objects.for_org(organization)
        .filter(platform=platform)
        .prefetch_related(Prefetch("credential_sets", queryset=sets))
        .first()
    )


def integration_summary_for(
    *, organization: Organization, platform: str = Integration.Platform.SAGE
) -> Integration | None:
    """Return the integration for `platform` with its number of credential sets, in one query.

    It carries Sage's last answer about the keys new links use: `check_result`, `check_at`.
    """
    chosen = CredentialSet.objects.filter(
        integration=OuterRef("pk"), api_version=OuterRef("new_links_api_version")
    )
    return (
        Integration.objects.for_org(organization)
        .filter(platform=platform)
        .annotate(
            credential_set_count=Count("credential_sets"),
            check_result=Subquery(chosen.values("last_check_result")[:1]),
            check_at=Subquery(chosen.values("last_check_at")[:1]),
        )
        .first()
    )


def integration_support_notice(*, integration: Integration | None) -> str:
    """Why support disabled the integration, while it stays disabled; "" otherwise."""
    if integration is None or integration.enabled:
        return ""
    last = (
        HistoryEvent.objects.for_integration(integration)
        .filter(kind__in=[HistoryEvent.Kind.ENABLED, HistoryEvent.Kind.DISABLED])
        .order_by("-created_at", "-pk")
        .first()
    )
    if last is None or last.details.get("via") != HistoryEvent.Via.ADMIN:
        return ""
    words = {
        "date": formats.date_format(last.created_at, "DATETIME_FORMAT"),
        "note": last.details.get("note", ""),
    }
    if words["note"]:
        return gettext("Disabled by support on %(date)s: %(note)s") % words
    return gettext("Disabled by support on %(date)s.") % words


@dataclass(frozen=True)
class KeysCheck:
    """Sage's last answer about a set of keys, as the pages show it."""

    result: str  # a CredentialSet.Check value, or "" when never asked
    at: datetime | None

    @property
    def is_accepted(self) -> bool:
        return self.result == CredentialSet.Check.ACCEPTED

    @property
    def is_rejected(self) -> bool:
        return self.result == CredentialSet.Check.REJECTED

    @property
    def is_unreachable(self) -> bool:
        return self.result == CredentialSet.Check.UNREACHABLE


def keys_check(integration: Integration | None) -> KeysCheck | None:
    """Sage's last answer about the keys new links use (from integration_summary_for)."""
    if integration is None or not getattr(integration, "credential_set_count", 0):
        return None
    return KeysCheck(
        getattr(integration, "check_result", "") or "", getattr(integration, "check_at", None)
    )


@dataclass(frozen=True)
class CredentialCard:
    """One stored credential set, as the settings page summarises it."""

    api_version: str
    label: "StrPromise | str"  # "API v3.1", "API v3.0 (legacy)"
    is_legacy: bool
    client_id: str
    used_for_new_links: bool
    linked_count: int
    check: KeysCheck


def credential_cards(*, integration: Integration | None) -> list[CredentialCard]:
    """The integration's credential sets, newest API version first (from integration_for)."""
    if integration is None:
        return []
    sets = sorted(integration.credential_sets.all(), key=lambda s: s.api_version, reverse=True)
    return [
        CredentialCard(
            api_version=s.api_version,
            label=ApiVersion(s.api_version).short_label,
            is_legacy=accounting.is_legacy(s.api_version),
            client_id=s.client_id,
            used_for_new_links=s.api_version == integration.new_links_api_version,
            linked_count=getattr(s, "linked_count", 0),
            check=KeysCheck(s.last_check_result, s.last_check_at),
        )
        for s in sets
    ]


@dataclass(frozen=True)
class SetupProgress:
    """The first steps of an organization: what the checklist ticks off."""

    configured: bool
    enabled: bool
    has_company: bool


def setup_progress(*, organization: Organization) -> SetupProgress:
    integration = integration_summary_for(organization=organization)
    return SetupProgress(
        configured=integration_state(integration).is_configured,
        enabled=bool(integration and integration.enabled),
        has_company=Company.objects.for_org(organization).exists(),
    )


def linked_counts(*, integration: Integration | None) -> dict[str, int]:
    """Return how many Linked connections use each API version's set of `integration`.

    `integration` comes from integration_for, which counted them with the sets.
    """
    if integration is None:
        return {}
    # getattr: the stubs do not follow an annotation into a Prefetch queryset.
    counts = (
        (s.api_version, getattr(s, "linked_count", 0)) for s in integration.credential_sets.all()
    )
    return {api_version: count for api_version, count in counts if count}


def integration_history(
    *, integration: Integration | None, limit: int, page: int | str | None = 1
) -> Page | None:
    """One page (`limit` a page, newest first) of the integration's own events, each with
    the labels of the fields it names; None without an integration."""
    if integration is None:
        return None
    events = HistoryEvent.objects.for_integration(integration).select_related("actor")
    found = Paginator(events, limit).get_page(page)
    found.object_list = list(found.object_list)
    answers = dict(CredentialSet.Check.choices)
    for event in found.object_list:
        event.field_labels = [CredentialSet.field_label(n) for n in event.details.get("fields", [])]
        # What Sage answered, for "Credentials checked" events.
        event.check_label = str(answers.get(event.details.get("result", ""), ""))
        if event.kind == HistoryEvent.Kind.SYNC_SCHEDULE_CHANGED:
            event.check_label = Integration.SyncInterval.label_of(event.details.get("schedule", 0))
    return found


def company_for(*, organization: Organization, pk: int) -> Company:
    """Return the organization's company `pk` with its connection; raise DoesNotExist."""
    return (
        Company.objects.for_org(organization)
        .select_related("connection__credential_set", "connection__integration")
        .get(pk=pk)
    )


def company_history(*, company: Company) -> QuerySet[HistoryEvent]:
    return (
        HistoryEvent.objects.for_org(company.organization)
        .for_company(company)
        .select_related("actor")[:HISTORY_SIZE]
    )


def company_link_url(company: Company) -> str:
    """The link URL to send to the business customer: PORTAL_BASE_URL, never the Host header."""
    return public_url("integrations:link", company.link_token)


class CompanyFilter(models.TextChoices):
    """The companies list's status filters; a company may be in two (Linked, Needs attention)."""

    LINKED = "linked", _("Linked")
    WAITING = "waiting", _("Waiting")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENTION = "attention", _("Needs attention")
    UNLINKED = "unlinked", _("Unlinked")


# Which filter each state of connection_states falls under (needs attention aside).
FILTER_OF_STATE: dict[State, CompanyFilter] = {
    State.NOT_LINKED: CompanyFilter.WAITING,
    State.WAITING: CompanyFilter.WAITING,
    State.CHOOSING_BUSINESS: CompanyFilter.WAITING,
    State.CANCELLED: CompanyFilter.CANCELLED,
    State.LINK_FAILED: CompanyFilter.ATTENTION,
    State.LINKED: CompanyFilter.LINKED,
    State.RELINK_REQUESTED: CompanyFilter.ATTENTION,
    State.TOKENS_REFUSED: CompanyFilter.ATTENTION,
    State.UNLINKED: CompanyFilter.UNLINKED,
}


def _list_state() -> Coalesce:
    """Each company's state, as stored on its connection (connection_state's): not linked
    yet without one."""
    return Coalesce("connection__state", Value(State.NOT_LINKED.value))


# A linked company needs attention when its authorization expires soon or its last
# refresh failed (as connection_state's warnings say): read from the connection's columns.
def _linked_needs_attention() -> Q:
    return Q(connection__state=State.LINKED) & (
        ~Q(connection__last_error="")
        | Q(connection__refresh_token_expires_at__lte=keepalive_deadline())
    )


def _filter_q(choice: CompanyFilter) -> Q:
    """The companies under `choice`, on `list_state`."""
    states = [s.value for s, f in FILTER_OF_STATE.items() if f == choice]
    q = Q(list_state__in=states)
    if choice == CompanyFilter.ATTENTION:
        q |= _linked_needs_attention()
    return q


def company_filter_counts(*, organization: Organization, query: str = "") -> dict[str, int]:
    """How many of the organization's companies each filter holds ("all" too), in one query
    (grouped by the stored state)."""
    companies = Company.objects.for_org(organization).order_by()
    if query:
        companies = companies.filter(name__icontains=query)
    grouped = (
        companies.annotate(
            list_state=_list_state(),
            linked_attention=Case(
                When(_linked_needs_attention(), then=Value(True)),
                default=Value(False),
                output_field=models.BooleanField(),
            ),
        )
        .values("list_state", "linked_attention")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(["all", *CompanyFilter.values], 0)
    for group in grouped:
        counts["all"] += group["n"]
        counts[FILTER_OF_STATE[State(group["list_state"])].value] += group["n"]
        if group["linked_attention"]:
            counts[CompanyFilter.ATTENTION.value] += group["n"]
    return counts


def companies_for_list(
    *, organization: Organization, query: str = "", status: str = ""
) -> QuerySet[Company]:
    """The organization's companies, those needing attention first, then by last activity
    (the connection's last change, or the company's creation); only their ids.

    `status`: a CompanyFilter value keeps only those companies. Page through it, then read
    a page's rows with `company_list_page`: sorting 10,000 companies reads no history.
    """
    companies = Company.objects.for_org(organization).only("pk").alias(list_state=_list_state())
    if query:
        companies = companies.filter(name__icontains=query)
    if status in CompanyFilter.values:
        companies = companies.filter(_filter_q(CompanyFilter(status)))
    attention = Case(
        When(_filter_q(CompanyFilter.ATTENTION), then=Value(0)),
        default=Value(1),
        output_field=models.IntegerField(),
    )
    activity = Coalesce("connection__updated_at", "created_at")
    return companies.order_by(attention, activity.desc(), "pk")


def company_list_page(companies) -> list[Company]:
    """One page of `companies_for_list`, in its order, each company with its connection and
    what its row shows (only the columns the list shows: not the encrypted tokens)."""
    pks = [company.pk for company in companies]
    events = HistoryEvent.objects.filter(company=OuterRef("pk"))
    found = (
        Company.objects.filter(pk__in=pks)
        .select_related("connection")
        .only(*COMPANY_LIST_FIELDS)
        .annotate(**last_event_annotations(events))
    )
    by_pk = {company.pk: company for company in found}
    return [by_pk[pk] for pk in pks]


@dataclass(frozen=True)
class CompanyRow:
    """One row of the companies list, with what its cells show worked out in Python."""

    name: str
    url: str
    state: ConnectionState
    # None after an unlink: the list says "previously linked" rather than a stale refresh.
    last_refreshed_at: datetime | None


def company_list_rows(companies) -> list[CompanyRow]:
    """Build the rows of one page of `company_list_page`."""
    rows = []
    for company in companies:
        connection = getattr(company, "connection", None)
        state = company_state(company)
        unlinked = connection is None or state.state == State.UNLINKED
        refreshed = None if connection is None or unlinked else connection.last_refreshed_at
        rows.append(CompanyRow(company.name, company.get_absolute_url(), state, refreshed))
    return rows


def credentials_rejected_at(*, integration: Integration | None) -> datetime | None:
    """When Sage last rejected the integration's keys during a customer's link
    (`invalid_client`), unless the keys were saved, accepted or used to link since."""
    if integration is None:
        return None
    events = HistoryEvent.objects.filter(integration=integration)
    rejected = (
        events.filter(kind=HistoryEvent.Kind.LINK_FAILED, details__reason="invalid_client")
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if rejected is None:
        return None
    cleared = events.filter(created_at__gt=rejected).filter(
        Q(kind__in=[HistoryEvent.Kind.CREDENTIALS_CHANGED, HistoryEvent.Kind.LINKED])
        | Q(kind=HistoryEvent.Kind.CREDENTIALS_CHECKED, details__result="accepted")
    )
    return None if cleared.exists() else rejected


def api_companies(
    *, organization: Organization, status: str = "", search: str = "", external_id: str = ""
) -> QuerySet[Company]:
    """The organization's companies with their connection, for the API (no token columns).

    `status`: a connection status; `search`: part of the name, or the whole external ID;
    `external_id`: exactly this external ID.
    """
    events = HistoryEvent.objects.filter(company=OuterRef("pk"))
    companies = (
        Company.objects.for_org(organization)
        .select_related("connection")
        .defer("connection__access_token", "connection__refresh_token")
        .annotate(**last_event_annotations(events))  # each company's state, in this query
    )
    if status:
        companies = companies.filter(connection__status=status)
    if search:
        companies = companies.filter(Q(name__icontains=search) | Q(external_id=search))
    if external_id:
        companies = companies.filter(external_id=external_id)
    return companies


def connection_unlink_revoked(connection: Connection) -> bool:
    """Whether Sage confirmed the revocation of the company's last unlink."""
    event = (
        HistoryEvent.objects.filter(
            company_id=connection.company_id, kind=HistoryEvent.Kind.UNLINKED
        )
        .order_by("-created_at", "-pk")
        .values_list("details", flat=True)
        .first()
    )
    return bool(event and event.get("revoked"))
