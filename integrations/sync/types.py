"""The one declaration of the Sage data types the portal syncs.

Adding a type is a line here (and a test): the engine, the API and the pages read
this table. `path` is the v3.1 list endpoint, `v30_path` the v3.0 one (None when
the v3.0 API lacks the type: a v3.0 connection then skips it).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@dataclass(frozen=True)
class SyncType:
    key: str
    path: str
    v30_path: str | None
    label: "StrPromise"
    # The record fields copied into columns of their own, that the API filters on.
    filter_fields: tuple[str, ...] = ("displayed_as",)
    # Whether Sage's list takes `deleted_since` (most do; a type without it is never flagged).
    deleted_since: bool = True

    def path_for(self, api_version: str) -> str | None:
        """The list endpoint for a connection's API version, or None when it has none."""
        return self.path if api_version == "3.1" else self.v30_path


SYNC_TYPES: tuple[SyncType, ...] = (
    SyncType("contacts", "contacts", "contacts", _("Contacts")),
    SyncType("ledger_accounts", "ledger_accounts", "ledger_accounts", _("Ledger accounts")),
    SyncType("sales_invoices", "sales_invoices", "sales_invoices", _("Sales invoices")),
    SyncType("purchase_invoices", "purchase_invoices", "purchase_invoices", _("Purchase invoices")),
    SyncType("bank_accounts", "bank_accounts", "bank_accounts", _("Bank accounts")),
    SyncType("contact_payments", "contact_payments", "contact_payments", _("Contact payments")),
)

SYNC_TYPES_BY_KEY: dict[str, SyncType] = {t.key: t for t in SYNC_TYPES}


def sync_type_choices() -> list[tuple[str, "StrPromise"]]:
    return [(t.key, t.label) for t in SYNC_TYPES]


def types_for_version(api_version: str) -> list[SyncType]:
    """The types a connection of `api_version` syncs, in declaration order."""
    return [t for t in SYNC_TYPES if t.path_for(api_version)]
