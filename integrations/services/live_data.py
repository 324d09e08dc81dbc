"""Live data of a linked company, read through the Sage API client."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext

from ..models import Connection
from ..sage.client import SageClient
from ..sage.errors import SageApiError
from ..sage.versions import ApiVersion
from .connection_client import connection_client
from .connections import RelinkRequired, TokenError

logger = logging.getLogger(__name__)

PREVIEW_SIZE = 20


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


@dataclass(frozen=True)
class LiveData:
    state: LiveState
    business: Business | None = None
    ledger_accounts: Preview | None = None
    contacts: Preview | None = None
    error: str = ""
    request_id: str = ""

    @property
    def needs_relink(self) -> bool:
        return self.state == LiveState.RELINK

    @property
    def failed(self) -> bool:
        return self.state == LiveState.ERROR

    @property
    def ok(self) -> bool:
        return self.state == LiveState.OK


def _text(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("displayed_as") or value.get("name") or value.get("id") or "")
    return "" if value is None else str(value)


def _business(client: SageClient, connection: Connection) -> Business:
    if connection.api_version == ApiVersion.V30:
        # API v3.0 keeps business details in its "core" API: show what the link stored.
        return Business(name=connection.business_name, country=connection.country, address_lines=[])
    path = f"businesses/{connection.business_id}" if connection.business_id else "businesses/lead"
    data = client.get(path)
    if not isinstance(data, dict):
        raise SageApiError(gettext("Sage sent an unexpected answer."))
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
    client: SageClient, path: str, row: Callable[[dict[str, Any]], dict[str, str]]
) -> Preview:
    page = client.page(path, {"items_per_page": PREVIEW_SIZE})
    rows = [row(item) for item in page.items]
    return Preview(rows=rows, total=page.total if page.total is not None else len(rows))


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


def company_live_data(*, connection: Connection) -> LiveData:
    """Read the business details and first pages of ledger accounts and contacts, live."""
    if connection.status == Connection.Status.DEAUTHORIZED:
        return LiveData(state=LiveState.RELINK)
    try:
        client = connection_client(connection=connection, budget=settings.SAGE_PAGE_BUDGET)
        business = _business(client, connection)
        ledger_accounts = _preview(client, "ledger_accounts", _ledger_account)
        contacts = _preview(client, "contacts", _contact)
    except RelinkRequired:
        return LiveData(state=LiveState.RELINK)
    except TokenError as error:
        return LiveData(state=LiveState.ERROR, error=str(error))
    except SageApiError as error:
        logger.warning("Live data for connection %s failed: %s", connection.pk, error.data_code)
        return LiveData(state=LiveState.ERROR, error=error.message, request_id=error.request_id)
    return LiveData(
        state=LiveState.OK, business=business, ledger_accounts=ledger_accounts, contacts=contacts
    )
