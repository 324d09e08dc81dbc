"""The sandbox's list data: records per business and type, which tests can change.

Sage's list semantics (its OpenAPI, v3.1): `updated_or_created_since` keeps the
records created or updated at or after the time (inclusive); `deleted_since` answers
only the records deleted after the time (exclusive), each as `id`, `displayed_as`,
`$path` and `deleted_at`. Generated records are made on demand from their index, so a
business can hold many thousands (the benchmark) without holding them in memory;
only the records a test created, updated or deleted are stored.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from integrations.sage.sandbox import data

# The list types the sandbox serves (v3.1 and v3.0 alike): the synced data types.
KINDS = (
    "contacts",
    "ledger_accounts",
    "sales_invoices",
    "purchase_invoices",
    "bank_accounts",
    "contact_payments",
)
GENERATED_UPDATED = datetime.fromisoformat(data.UPDATED)


def sage_time(epoch: float) -> str:
    """A time as Sage writes it: UTC, to the second."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_since(value: str) -> datetime:
    """A `..._since` value: a date or a date-time with an offset; ValueError otherwise."""
    parsed = datetime.fromisoformat(value.replace(" ", "+"))  # a `+` decoded as a space
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Generated(Sequence):
    """Records 0..count-1 made on demand (a list that is never built)."""

    def __init__(self, make: Callable[[int], dict], size: int) -> None:
        self.make, self.size = make, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.make(i) for i in range(*index.indices(self.size))]
        if not -self.size <= index < self.size:
            raise IndexError(index)
        return self.make(index % self.size)


class RecordSet:
    """The records of one type of one business: generated ones, and what tests changed."""

    def __init__(self, make: Callable[[int], dict], count: int) -> None:
        self.generated: Sequence[dict] = Generated(make, count)  # or a list (materialize)
        self.changed: dict[str, dict] = {}  # id -> the record as it is now (updated or created)
        self.created: list[str] = []  # ids of created records, in order
        self.deleted: dict[str, dict] = {}  # id -> what deleted_since answers

    def all(self) -> Sequence[dict]:
        """The live records in list order: generated first, then the created ones."""
        if not self.changed and not self.deleted:
            return self.generated
        live = [
            self.changed.get(item["id"], item)
            for item in self.generated
            if item["id"] not in self.deleted
        ]
        return live + [self.changed[i] for i in self.created if i not in self.deleted]

    def get(self, item_id: str) -> dict | None:
        if item_id in self.deleted:
            return None
        if item_id in self.changed:
            return self.changed[item_id]
        return next((item for item in self.all() if item["id"] == item_id), None)

    def listing(
        self, *, updated_since: datetime | None = None, deleted_since: datetime | None = None
    ) -> Sequence[dict]:
        """What a list answers for these filters (Sage's semantics, see the module)."""
        if deleted_since is not None:
            return [
                item
                for item in self.deleted.values()
                if datetime.fromisoformat(item["deleted_at"]) > deleted_since
            ]
        if updated_since is None:
            return self.all()
        # Generated records all carry data.UPDATED: skip them without making them.
        pool = self.all() if updated_since <= GENERATED_UPDATED else self._changed_live()
        return [
            item for item in pool if datetime.fromisoformat(item["updated_at"]) >= updated_since
        ]

    def _changed_live(self) -> list[dict]:
        return [item for i, item in self.changed.items() if i not in self.deleted]

    def create(self, item: dict) -> dict:
        self.changed[item["id"]] = item
        self.created.append(item["id"])
        return item

    def update(self, item_id: str, fields: dict[str, Any], now: str) -> dict:
        current = self.get(item_id)
        if current is None:
            raise KeyError(item_id)
        updated = {**current, **fields, "updated_at": now}
        self.changed[item_id] = updated
        return updated

    def delete(self, item_id: str, now: str) -> dict:
        current = self.get(item_id)
        if current is None:
            raise KeyError(item_id)
        gone = {key: current[key] for key in ("id", "displayed_as", "$path")}
        self.deleted[item_id] = {**gone, "deleted_at": now}
        return self.deleted[item_id]


def maker(kind: str, business: dict) -> Callable[[int], dict]:
    """Make record number `index` (0-based) of `kind` for `business`."""
    if kind == "contacts":
        return lambda index: data.contact(business, index + 1)
    if kind == "ledger_accounts":
        return lambda index: data.ledger_account(business, data.CHART[index])
    return lambda index: data.generic_record(kind, business, index + 1)


def default_count(kind: str) -> int:
    return {"contacts": 25, "ledger_accounts": len(data.CHART)}.get(kind, 5)


def new_record(kind: str, business: dict, number: int, fields: dict, now: str) -> dict:
    """A record created now: the generated shape of `kind`, with `fields` on top."""
    item = maker(kind, business)(number - 1) | {"created_at": now, "updated_at": now}
    item_id = data.make_id(kind, business["id"], "created", number)
    displayed_as = fields.get("displayed_as", item["displayed_as"])
    return {**item, **data.ref(kind, item_id, displayed_as), **fields}
