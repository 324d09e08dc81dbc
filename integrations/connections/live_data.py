"""Live data of a linked company, read through the Sage API client.

The three reads (business, ledger accounts, contacts) run at the same time, with an
access token made fresh beforehand. What they read is cached per connection for
LIVE_DATA_CACHE_SECONDS, and the last good read is kept longer: when Sage is down,
the page shows it, with when it was read. When one or two of the reads fail, the
page shows what the others brought, and the failed part says why (not cached: the
next visit reads again).
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext

from integrations import accounting
from integrations.accounting import AccountingApiError, AccountingClient, ApiAuth, endpoints
from integrations.connections.client import connection_client, connection_fixed_client
from integrations.connections.errors import RelinkRequired, TokenError
from integrations.connections.live_data_cache import fresh_key, last_key
from integrations.connections.refresh import connection_refresh
from integrations.models import Connection

T = TypeVar("T")

logger = logging.getLogger(__name__)

PREVIEW_SIZE = 10  # rows of each list on the company page; the rest on the list's own pages
LIST_PAGE_SIZE = 20  # as many as Sage gives by default


class LiveState(models.TextChoices):
    OK = "ok"
    RELINK = "relink"
    ERROR = "error"


@dataclass(frozen=True)
class Business:
    name: str
    country: str
    address_lines: list[str]


@dataclass(frozen=True)
class Preview:
    """The first page of a list, and how many items the list holds in all."""

    rows: list[dict[str, str]]
    total: int


class _Outcome:
    """What a template asks of a read's state."""

    state: LiveState

    @property
    def needs_relink(self) -> bool:
        return self.state == LiveState.RELINK

    @property
    def failed(self) -> bool:
        return self.state == LiveState.ERROR

    @property
    def ok(self) -> bool:
        return self.state == LiveState.OK


@dataclass(frozen=True)
class LiveData(_Outcome):
    state: LiveState
    business: Business | None = None
    ledger_accounts: Preview | None = None
    contacts: Preview | None = None
    error: str = ""
    request_id: str = ""
    read_at: datetime | None = None
    stale: bool = False  # Sage failed just now: this is the data read at `read_at`
    # The parts whose read failed while the others came back: part -> why, in words.
    failed_parts: dict[str, str] = field(default_factory=dict)


def _text(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("displayed_as") or value.get("name") or value.get("id") or "")
    return "" if value is None else str(value)


def _business(client: AccountingClient, connection: Connection) -> Business:
    if accounting.is_legacy(connection.api_version):
        # API v3.0 keeps business details in its "core" API, under the resource owner.
        core = client.with_base_url(endpoints.v30_core_url())
        data = core.get(f"businesses/{connection.resource_owner_id}")
    else:
        lead = "businesses/lead"
        data = client.get(
            f"businesses/{connection.business_id}" if connection.business_id else lead
        )
    if not isinstance(data, dict):
        raise AccountingApiError(gettext("Sage sent an unexpected answer."))
    address = [
        _text(data.get(key))
        for key in ("address_line_1", "address_line_2", "city", "region", "postal_code")
    ]
    return Business(
        name=_text(data.get("name") or data.get("displayed_as")),
        country=_text(data.get("country")),
        address_lines=[line for line in address if line],
    )


def _preview(
    client: AccountingClient, path: str, row: Callable[[dict[str, Any]], dict[str, str]]
) -> Preview:
    page = client.page(path, {"items_per_page": PREVIEW_SIZE})
    rows = [row(item) for item in page.items]
    return Preview(rows=rows, total=page.total if page.total is not None else len(rows))


class LiveList(models.TextChoices):
    """A list of a Sage business that the portal pages through."""

    LEDGER_ACCOUNTS = "ledger_accounts"
    CONTACTS = "contacts"


def _ledger_account(item: dict[str, Any]) -> dict[str, str]:
    return {
        "code": _text(item.get("nominal_code")),
        "name": _text(item.get("name") or item.get("displayed_as")),
        "type": _text(item.get("ledger_account_type")),
    }


def _contact(item: dict[str, Any]) -> dict[str, str]:
    types = item.get("contact_types")
    return {
        "name": _text(item.get("name") or item.get("displayed_as")),
        "reference": _text(item.get("reference")),
        "types": ", ".join(_text(t) for t in types) if isinstance(types, list) else _text(types),
        "email": _text(item.get("email")),
    }


def _in_parallel(*reads: Callable[[], Any]) -> list[Any]:
    """Run `reads` at once, in the caller's language; each one's result, or what it raised."""
    language = translation.get_language()

    def run(read: Callable[[], T]) -> T:
        with translation.override(language):
            return read()

    with ThreadPoolExecutor(max_workers=len(reads)) as pool:
        futures = [pool.submit(run, read) for read in reads]
    return [future.exception() if future.exception() else future.result() for future in futures]


class _TokenRefused(Exception):
    """Sage answered 401 to an access token we hold as fresh (revoked early, clock skew)."""

    def __init__(self, auth: ApiAuth):
        super().__init__("refused")
        self.auth = auth


def _refused(auth: ApiAuth) -> None:
    raise _TokenRefused(auth)  # out of the reading thread, to the caller's


PARTS = ("business", "ledger_accounts", "contacts")


def _read_all(client: AccountingClient, connection: Connection) -> list[Any]:
    return _in_parallel(
        lambda: _business(client, connection),
        lambda: _preview(client, "ledger_accounts", _ledger_account),
        lambda: _preview(client, "contacts", _contact),
    )


def _read(connection: Connection) -> LiveData:
    """Read the three parts from Sage, within SAGE_PAGE_BUDGET (TokenError, AccountingApiError).

    The reads run in threads that never touch the database: a token refused early is
    refreshed here, under the row lock, and the reads run once more. When every read
    failed, the first failure is raised; when some did, the others are kept.
    """
    budget: float | None = float(settings.SAGE_PAGE_BUDGET)
    for renew in (_refused, None):
        client = connection_fixed_client(connection=connection, budget=budget, renew=renew)
        outcomes = _read_all(client, connection)
        refused = next((o for o in outcomes if isinstance(o, _TokenRefused)), None)
        if refused is not None and renew is not None:
            connection = connection_refresh(
                connection=connection, rejected_access_token=refused.auth.access_token
            )
            budget = client.time_left()
            continue
        break
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    unexpected = next((f for f in failures if not isinstance(f, AccountingApiError)), None)
    if unexpected is not None or len(failures) == len(outcomes):
        raise unexpected or failures[0]
    parts = dict(zip(PARTS, outcomes, strict=True))
    failed = {name: o for name, o in parts.items() if isinstance(o, AccountingApiError)}
    for name, error in failed.items():
        logger.warning(
            "Live data %s for connection %s failed: %s", name, connection.pk, error.data_code
        )
    return LiveData(
        state=LiveState.OK,
        business=None if "business" in failed else parts["business"],
        ledger_accounts=None if "ledger_accounts" in failed else parts["ledger_accounts"],
        contacts=None if "contacts" in failed else parts["contacts"],
        read_at=timezone.now(),
        failed_parts={name: error.message for name, error in failed.items()},
        request_id=next((e.request_id for e in failed.values() if e.request_id), ""),
    )


def company_live_data(*, connection: Connection) -> LiveData:
    """Read the business details and first pages of ledger accounts and contacts.

    From the cache when they were read a moment ago; the last good read, marked stale,
    when Sage cannot answer now.
    """
    if connection.status == Connection.Status.DEAUTHORIZED:
        return LiveData(state=LiveState.RELINK)
    cached = cache.get(fresh_key(connection.pk))
    if isinstance(cached, LiveData):
        return cached
    try:
        live = _read(connection)
    except RelinkRequired:
        return LiveData(state=LiveState.RELINK)
    except TokenError as error:
        return LiveData(state=LiveState.ERROR, error=str(error))
    except AccountingApiError as error:
        logger.warning("Live data for connection %s failed: %s", connection.pk, error.data_code)
        last = cache.get(last_key(connection.pk))
        if error.retryable and isinstance(last, LiveData):
            return replace(last, stale=True, error=error.message, request_id=error.request_id)
        return LiveData(state=LiveState.ERROR, error=error.message, request_id=error.request_id)
    if live.failed_parts:
        return live  # read again on the next visit; the last whole read stays the last good one
    cache.set(fresh_key(connection.pk), live, settings.LIVE_DATA_CACHE_SECONDS)
    cache.set(last_key(connection.pk), live, settings.LIVE_DATA_LAST_SECONDS)
    return live


@dataclass(frozen=True)
class ListPage(_Outcome):
    """One page of a Sage list: its rows, the list's size, and whether more follow."""

    state: LiveState
    number: int = 1
    rows: list[dict[str, str]] | None = None
    total: int = 0
    has_next: bool = False
    error: str = ""
    request_id: str = ""

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.has_next else None

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // LIST_PAGE_SIZE))


_ROWS: dict[LiveList, Callable[[dict[str, Any]], dict[str, str]]] = {
    LiveList.LEDGER_ACCOUNTS: _ledger_account,
    LiveList.CONTACTS: _contact,
}


def company_live_list(*, connection: Connection, which: LiveList, number: int) -> ListPage:
    """Read page `number` (LIST_PAGE_SIZE rows) of one of the business's lists from Sage.

    Sage pages its lists itself (`page`, `items_per_page`; `$next` when more follow):
    one call, within SAGE_PAGE_BUDGET, and nothing cached.
    """
    if connection.status == Connection.Status.DEAUTHORIZED:
        return ListPage(state=LiveState.RELINK, number=number)
    try:
        client = connection_client(connection=connection, budget=float(settings.SAGE_PAGE_BUDGET))
        page = client.page(which.value, {"page": number, "items_per_page": LIST_PAGE_SIZE})
    except RelinkRequired:
        return ListPage(state=LiveState.RELINK, number=number)
    except TokenError as error:
        return ListPage(state=LiveState.ERROR, number=number, error=str(error))
    except AccountingApiError as error:
        logger.warning("Live list for connection %s failed: %s", connection.pk, error.data_code)
        return ListPage(
            state=LiveState.ERROR, number=number, error=error.message, request_id=error.request_id
        )
    rows = [_ROWS[which](item) for item in page.items]
    seen = (number - 1) * LIST_PAGE_SIZE + len(rows)
    return ListPage(
        state=LiveState.OK,
        number=number,
        rows=rows,
        total=page.total if page.total is not None else seen,
        has_next=bool(page.next_path),
    )
