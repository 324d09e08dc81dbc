"""The sync engine: queue a sync of a connection, run it, and forget a connection's data.

A run reads every data type its connection's API version has (types.SYNC_TYPES),
200 records a page. A type's first pass reads everything; later passes ask Sage only
for what changed: `updated_or_created_since` the start of the last good pass minus
SYNC_OVERLAP_SECONDS (so that nothing on the boundary is lost), then `deleted_since`.
Each page's rows, the type's cursor (how far the pass got) and the run's counts are
written in one transaction, so a crash resumes from the next page, never from zero.

One worker at a time holds a run: it claims it under a row lock taken with SKIP
LOCKED, for a lease (SYNC_LEASE_SECONDS) that each page's transaction renews, and
checks that it still holds it; a run whose worker died is taken over once its lease
runs out. A worker fetches up to SYNC_PAGE_CONCURRENCY pages of a type at once
(threads; HTTP only) and stores them in order in its own thread. See docs/sync.md.
"""

import logging
import math
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import psycopg
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db import connection as db_connection
from django.db.models import F, Q
from django.tasks import task
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from psycopg.types.json import Jsonb

from integrations.accounting import AccountingApiError
from integrations.companies.representation import company_data
from integrations.connections.client import connection_ensure_fresh, connection_fixed_client
from integrations.connections.errors import RelinkRequired, TokenError
from integrations.connections.refresh import connection_refresh
from integrations.connections.selectors import connection_state_of
from integrations.models import Connection, Integration
from integrations.sync.models import SyncCursor, SyncedRecord, SyncRun, SyncRunQuerySet
from integrations.sync.retention import records_forget
from integrations.sync.types import SyncType, types_for_version
from integrations.webhooks.models import WebhookEvent
from integrations.webhooks.services import webhook_emit

if TYPE_CHECKING:
    from integrations.accounting import AccountingClient

logger = logging.getLogger(__name__)


class Page(Protocol):
    """One page of a list, as the accounting client answers it."""

    @property
    def items(self) -> list[dict[str, Any]]: ...
    @property
    def total(self) -> int | None: ...
    @property
    def next_path(self) -> str | None: ...


UPDATED, DELETED = SyncCursor.Phase.UPDATED, SyncCursor.Phase.DELETED
SYNCED_FIELDS = ["sage_updated_at", "deleted_at", "data", "displayed_as", "modified_at"]
# A fixed client's token is used while it has this long left (a page takes well under).
TOKEN_SLACK = timedelta(seconds=30)


# --- Queueing -------------------------------------------------------------------------


def sync_request(connection: Connection, trigger: str) -> SyncRun:
    """Queue a sync of `connection`, unless one is queued or running: return that one.

    The partial unique constraint `syncrun_one_active_per_connection` makes the
    check and the insert one step, whatever races to queue a sync: the INSERT is
    ignored when an active run exists, and the active run is read back (two queries,
    also inside a link's transaction). The run's task is enqueued once the caller's
    transaction commits.
    """
    run = SyncRun(connection=connection, trigger=trigger)
    SyncRun.objects.bulk_create([run], ignore_conflicts=True)
    active = SyncRun.objects.active().get(connection=connection)
    if active.pk == run.pk:
        sync_enqueue_after_commit(active)
    return active


def sync_enqueue_after_commit(run: SyncRun, *, delay: float = 0) -> None:
    run_id = str(run.pk)

    def enqueue() -> None:
        backend = sync_run.get_backend()
        if delay and backend.supports_defer:
            sync_run.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(run_id)
        elif not delay:
            sync_run.enqueue(run_id)
        # A delay the backend cannot keep: the periodic sweep enqueues the run again.

    transaction.on_commit(enqueue)


@task
def sync_run(run_id: str) -> str:
    """Run one queued sync (or take over one whose worker died), and, while this worker
    has room, the other queued ones (see _Worker); return how the first one ended."""
    claimed = _claim(uuid.UUID(run_id))
    if claimed is None:
        return "busy"
    return _Worker().run(claimed).status


def sync_due_connections() -> list[SyncRun]:
    """Queue a scheduled sync of every linked connection whose integration's interval passed."""
    now = timezone.now()
    queued = []
    for integration in Integration.objects.filter(enabled=True, sync_interval__gt=0):
        since = now - timedelta(minutes=integration.sync_interval)
        connections = (
            Connection.objects.linked()
            .filter(integration=integration)
            .exclude(sync_runs__created_at__gt=since)
        )
        queued += [sync_request(c, SyncRun.Trigger.SCHEDULE) for c in connections]
    return queued


def sync_sweep() -> dict[str, int]:
    """The periodic pass: queue the due syncs, and enqueue again the runs left waiting.

    A queued run whose task was lost (a worker killed before it started, a 429 delay
    the backend could not keep) and a running one whose lease ran out are enqueued
    again; a task for a run another worker holds ends at once ("busy").
    """
    queued = sync_due_connections()
    now = timezone.now()
    stale = timedelta(seconds=float(settings.SYNC_LEASE_SECONDS))
    waiting = SyncRun.objects.filter(status=SyncRun.Status.QUEUED, created_at__lte=now - stale)
    orphaned = SyncRun.objects.filter(status=SyncRun.Status.RUNNING, lease_expires_at__lte=now)
    again = list(waiting.values_list("pk", flat=True)) + list(orphaned.values_list("pk", flat=True))
    for pk in again:
        sync_run.enqueue(str(pk))
    return {"queued": len(queued), "enqueued_again": len(again)}


# --- Storing --------------------------------------------------------------------------


@dataclass
class Changes:
    """The Sage ids a page created, updated or flagged deleted in our copy."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def sage_time(value: object) -> datetime | None:
    """Sage's `updated_at`/`deleted_at` as an aware datetime, or None when unusable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _by_sage_id(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The items keyed by their Sage id (items without one are skipped; the last one wins)."""
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        sage_id = item.get("id")
        if isinstance(sage_id, str) and sage_id:
            found[sage_id] = item
    return found


def records_store(
    *,
    connection_id: uuid.UUID,
    data_type: str,
    items: Iterable[dict[str, Any]],
    now: datetime,
    none_stored: bool = False,
) -> Changes:
    """Upsert a page of records as Sage sent them; only changed ones are written.

    A record is new, or changed when Sage's `updated_at` or its contents differ from
    our copy, or when our copy was flagged deleted; an unchanged one keeps its
    `modified_at`. On PostgreSQL one statement does it all (_upsert_page); elsewhere
    (SQLite, `make run`) the stored copies are read first and the changed ones written
    with one bulk INSERT ... ON CONFLICT DO UPDATE. `none_stored`: the caller knows the
    type had no records yet (a first sync): nothing to read first.
    """
    by_id = _by_sage_id(items)
    if not by_id:
        return Changes()
    if db_connection.vendor == "postgresql":
        return _upsert_page(connection_id, data_type, by_id, now)
    return _upsert_compared(connection_id, data_type, by_id, now, none_stored=none_stored)


def _upsert_compared(
    connection_id: uuid.UUID,
    data_type: str,
    by_id: dict[str, dict[str, Any]],
    now: datetime,
    *,
    none_stored: bool,
) -> Changes:
    """Read the stored copies, compare in Python, bulk-upsert the changed ones (SQLite)."""
    stored = (
        {}
        if none_stored
        else {
            sage_id: (updated_at, data, deleted_at)
            for sage_id, updated_at, data, deleted_at in SyncedRecord.objects.filter(
                connection_id=connection_id, data_type=data_type, sage_id__in=list(by_id)
            ).values_list("sage_id", "sage_updated_at", "data", "deleted_at")
        }
    )
    changes = Changes()
    rows = []
    for sage_id, item in by_id.items():
        updated_at = sage_time(item.get("updated_at"))
        old = stored.get(sage_id)
        if old is None:
            changes.created.append(sage_id)
        elif old[2] is not None or old[0] != updated_at or old[1] != item:
            changes.updated.append(sage_id)
        else:
            continue
        rows.append(
            SyncedRecord(
                connection_id=connection_id,
                data_type=data_type,
                sage_id=sage_id,
                sage_updated_at=updated_at,
                deleted_at=None,
                data=item,
                displayed_as=_displayed_as(item),
                modified_at=now,
            )
        )
    if rows:
        SyncedRecord.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["connection", "data_type", "sage_id"],
            update_fields=SYNCED_FIELDS,
        )
    return changes


def _displayed_as(item: dict[str, Any]) -> str:
    return str(item.get("displayed_as") or "")[:255]


# The page travels as one JSON parameter, [[sage_id, updated_at, displayed_as, record], ...],
# encoded by orjson and bound on the server (psycopg's Cursor, not Django's client-side
# ClientCursor, which would quote its 300 kB in Python); PostgreSQL compares each with the
# stored copy (jsonb equality ignores key order) and updates only what changed. RETURNING
# says which rows were written, and `xmax = 0` which of them were inserted rather than
# updated (PostgreSQL's marker of a row version no transaction has replaced). Several times
# less CPU per page than bulk_create's, whose 1,600 parameters psycopg quotes one by one
# (docs/performance.md, sync).
UPSERT_PAGE = """
INSERT INTO integrations_syncedrecord AS stored
    (connection_id, data_type, sage_id, sage_updated_at, deleted_at, data, displayed_as,
     modified_at)
SELECT %s, %s, e->>0, (e->>1)::timestamptz, NULL, e->3, e->>2, %s
FROM jsonb_array_elements(%s) AS e
ON CONFLICT (connection_id, data_type, sage_id) DO UPDATE SET
    sage_updated_at = EXCLUDED.sage_updated_at,
    deleted_at = NULL,
    data = EXCLUDED.data,
    displayed_as = EXCLUDED.displayed_as,
    modified_at = EXCLUDED.modified_at
WHERE stored.deleted_at IS NOT NULL
    OR stored.sage_updated_at IS DISTINCT FROM EXCLUDED.sage_updated_at
    OR stored.data IS DISTINCT FROM EXCLUDED.data
RETURNING stored.sage_id, stored.xmax = 0
"""


def _upsert_page(
    connection_id: uuid.UUID, data_type: str, by_id: dict[str, dict[str, Any]], now: datetime
) -> Changes:
    page = []
    for sage_id, item in by_id.items():
        updated_at = sage_time(item.get("updated_at"))
        stamp = updated_at.isoformat() if updated_at else None
        page.append([sage_id, stamp, _displayed_as(item), item])
    db_connection.ensure_connection()
    with psycopg.Cursor(db_connection.connection) as cursor:  # in the caller's transaction
        cursor.execute(UPSERT_PAGE, [connection_id, data_type, now, Jsonb(page, orjson.dumps)])
        written = cursor.fetchall()
    changes = Changes()
    for sage_id, created in written:
        (changes.created if created else changes.updated).append(sage_id)
    return changes


def records_flag_deleted(
    *, connection_id: uuid.UUID, data_type: str, items: Iterable[dict[str, Any]], now: datetime
) -> Changes:
    """Flag deleted the records Sage reports deleted (those we hold and have not flagged)."""
    by_id = _by_sage_id(items)
    records = list(
        SyncedRecord.objects.filter(
            connection_id=connection_id,
            data_type=data_type,
            sage_id__in=list(by_id),
            deleted_at__isnull=True,
        ).only("pk", "sage_id")
    )
    for record in records:
        record.deleted_at = sage_time(by_id[record.sage_id].get("deleted_at")) or now
        record.modified_at = now
    SyncedRecord.objects.bulk_update(records, ["deleted_at", "modified_at"])
    return Changes(deleted=[record.sage_id for record in records])


# --- Running --------------------------------------------------------------------------


class LeaseLost(Exception):
    """Another worker took the run over (this one was too slow or presumed dead)."""


class NotLinked(Exception):
    """The connection left Linked during the sync (unlinked, deauthorized)."""


def _claim(run_id: uuid.UUID) -> SyncRun | None:
    """Take the run for this worker, or None when another holds it or it has ended."""
    return _take(SyncRun.objects.filter(pk=run_id), timezone.now())


def _claim_next() -> SyncRun | None:
    """Take the oldest queued run no worker holds and no delay holds back, or None."""
    now = timezone.now()
    due = SyncRun.objects.filter(status=SyncRun.Status.QUEUED).filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    )
    return _take(due.order_by("created_at", "pk"), now)


def _take(runs: SyncRunQuerySet, now: datetime) -> SyncRun | None:
    """Claim the first of `runs` that is queued, or running with its lease run out (its
    worker died), under a row lock other workers skip; None when there is none."""
    lease = timedelta(seconds=float(settings.SYNC_LEASE_SECONDS))
    with transaction.atomic():
        run = (
            runs.select_for_update(skip_locked=True, of=("self",))
            .select_related("connection__company__organization", "connection__credential_set")
            .first()
        )
        if run is None:
            return None
        expired = run.lease_expires_at is None or run.lease_expires_at <= now
        if not expired or run.status not in SyncRun.ACTIVE:
            return None  # held by a live worker, or ended
        run.status = SyncRun.Status.RUNNING
        run.claim = secrets.token_hex(16)
        run.lease_expires_at = now + lease
        run.started_at = run.started_at or now
        run.attempts += 1
        run.save(update_fields=["status", "claim", "lease_expires_at", "started_at", "attempts"])
        return run


def sync_connection(run: SyncRun | uuid.UUID) -> SyncRun | None:
    """Run a queued sync to its end; None when another worker holds it or it has ended."""
    claimed = _claim(run.pk if isinstance(run, SyncRun) else run)
    if claimed is None:
        return None
    return _Sync(claimed).execute()


class _Worker:
    """The runs one worker process holds at once.

    Up to SYNC_RUNS_PER_WORKER runs (one company each), each stored in a thread of its
    own with its own database connection, all asking Sage through one pool of
    SYNC_PAGE_CONCURRENCY threads: the worker never has more than that many pages in
    flight, and keeps them busy while a run claims, refreshes its token, stores a page
    or finishes. When a run ends, the worker claims the oldest queued run (SKIP
    LOCKED), until none is left or SYNC_WORKER_SECONDS have passed since its task
    began; the task of a run it took finds it held or ended. Both pools live as long as
    the process, so their threads' connections follow CONN_MAX_AGE like a request's.
    On SQLite (`make run`, one writer) it holds one run, in the task's own thread.
    """

    def __init__(self) -> None:
        self.width = max(1, int(settings.SYNC_RUNS_PER_WORKER))
        if db_connection.vendor == "sqlite":
            self.width = 1
        self.concurrency = max(1, int(settings.SYNC_PAGE_CONCURRENCY))
        self.until = time.monotonic() + float(settings.SYNC_WORKER_SECONDS)

    def run(self, first: SyncRun) -> SyncRun:
        """Run `first` (claimed), and the queued runs taken while there is room; return
        `first` as it ended."""
        if self.width == 1:
            return _Sync(first).execute()
        sage = _process_pool("sage", self.concurrency)
        runners = _process_pool("run", self.width)
        first_done = runners.submit(_run_in_thread, first, sage)
        running = {first_done}
        while running:
            while len(running) < self.width and time.monotonic() < self.until:
                taken = _claim_next()
                if taken is None:
                    break
                running.add(runners.submit(_run_in_thread, taken, sage))
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                if future is not first_done and future.exception() is not None:
                    logger.error("A sync stopped its thread", exc_info=future.exception())
        return first_done.result()


_pools: dict[tuple[str, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _process_pool(name: str, size: int) -> ThreadPoolExecutor:
    """This process's pool of `size` threads for `name` (made on first use, in the
    process that uses it: an RQ job's forked work horse makes its own)."""
    with _pools_lock:
        pool = _pools.get((name, size))
        if pool is None:
            pool = _pools[name, size] = ThreadPoolExecutor(size, thread_name_prefix=f"sync-{name}")
        return pool


def _run_in_thread(run: SyncRun, sage: ThreadPoolExecutor) -> SyncRun:
    """One run in a runner thread, its connection handled as a request's would be."""
    close_old_connections()
    try:
        return _Sync(run, sage).execute()
    finally:
        close_old_connections()


class _Sync:
    def __init__(self, run: SyncRun, sage: ThreadPoolExecutor | None = None) -> None:
        self.run = run
        self.sage = sage  # the worker's pool of Sage requests; None: the run's own
        self.connection = run.connection
        self._state_word: str | None = None
        self._company: dict[str, Any] | None = None
        self.lease = timedelta(seconds=float(settings.SYNC_LEASE_SECONDS))
        self.per_page = int(settings.SYNC_PAGE_SIZE)
        self.concurrency = max(1, int(settings.SYNC_PAGE_CONCURRENCY))
        self.batch = max(1, int(settings.SYNC_STORE_PAGES))
        self._client: AccountingClient | None = None
        self._client_until: datetime | None = None

    # The run's end.

    def execute(self) -> SyncRun:
        try:
            if self.run.trigger == SyncRun.Trigger.LINK and self.run.attempts == 1:
                records_forget(self.connection.pk)  # a (re)link: the data may be another business's
            self._sync_types(types_for_version(self.connection.api_version))
        except LeaseLost:
            logger.warning("Sync %s was taken over by another worker", self.run.pk)
            self.run.refresh_from_db()
            return self.run
        except (RelinkRequired, NotLinked):
            self._stop()
        except TokenError as error:
            self._finish(SyncRun.Status.FAILED, "token", str(error))
        except AccountingApiError as error:
            if error.status == 429:
                self._later(error)
            else:
                logger.warning("Sync %s: Sage answered %s (%s)", self.run.pk, error.status, error)
                self._finish(SyncRun.Status.FAILED, "sage", error.message)
        except Exception:
            logger.exception("Sync %s failed on our side", self.run.pk)
            message = gettext("An error on our side stopped the sync; the next one resumes it.")
            self._finish(SyncRun.Status.FAILED, "internal", message)
        else:
            self._finish(SyncRun.Status.SUCCEEDED)
        return self.run

    def _stop(self) -> None:
        """The connection must link again (or was unlinked): stop, and say why."""
        status = (
            Connection.objects.filter(pk=self.connection.pk)
            .values_list("status", flat=True)
            .first()
        )
        if status == Connection.Status.DEAUTHORIZED:
            code = "deauthorized"
            message = gettext(
                "Sage no longer accepts this connection: the company must link again."
            )
        else:
            code = "not_linked"
            message = gettext("The company is no longer linked to Sage.")
        self._finish(SyncRun.Status.STOPPED, code, message)

    def _later(self, error: AccountingApiError) -> None:
        """Sage kept answering 429 after the client's bounded waits: try again later."""
        delay = float(settings.SYNC_RATE_LIMITED_DELAY)
        with transaction.atomic():
            held = self._mine().update(
                status=SyncRun.Status.QUEUED,
                claim="",
                # Not taken again before then (_claim_next), whichever worker has room.
                lease_expires_at=timezone.now() + timedelta(seconds=delay),
                error_code="rate_limited",
                error=gettext("Sage asked to slow down; the sync goes on shortly."),
                counts=self.run.counts,
            )
            if held:
                sync_enqueue_after_commit(self.run, delay=delay)
        self.run.refresh_from_db()

    def _finish(self, status: str, code: str = "", message: str = "") -> None:
        now = timezone.now()
        with transaction.atomic():
            held = self._mine().update(
                status=status,
                finished_at=now,
                error_code=code,
                error=message,
                counts=self.run.counts,
                claim="",
                lease_expires_at=None,
            )
            self.run.refresh_from_db()
            if held:
                webhook_emit(
                    event=WebhookEvent.SYNC_COMPLETED,
                    company=self.connection.company,
                    connection=self.connection,
                    # As the run ends (a Deauthorized answer may have changed it).
                    state=connection_state_of(self.connection).state.value,
                    sync=_sync_data(self.run),
                )
        logger.info("Sync %s of connection %s: %s", self.run.pk, self.connection.pk, status)

    def _described(self) -> dict[str, Any]:
        """The company as the run's data.changed events describe it (worked out once)."""
        if self._company is None:
            self._company = company_data(self.connection.company)
        return self._company

    def _state(self) -> str:
        """The connection's state word for the run's data.changed events, as every
        webhook says it (worked out once a run: one query, not one a page)."""
        if self._state_word is None:
            self._state_word = connection_state_of(self.connection).state.value
        return self._state_word

    def _mine(self) -> SyncRunQuerySet:
        return SyncRun.objects.filter(
            pk=self.run.pk, claim=self.run.claim, status=SyncRun.Status.RUNNING
        )

    # One type.

    def _sync_types(self, sync_types: list[SyncType]) -> None:
        """Read every type's pages, up to `concurrency` requests in flight across the types.

        A type whose page count is not known yet (its phase's first page not stored)
        has one request in flight; once its first page gives `$total`, its other pages
        go out as slots free up. Pages are stored in the order they were asked for, so
        each type's cursor moves one page at a time.
        """
        reads = []
        cursors = {c.data_type: c for c in SyncCursor.objects.filter(connection=self.connection)}
        missing = [
            SyncCursor(connection=self.connection, data_type=t.key)
            for t in sync_types
            if t.key not in cursors
        ]
        # ignore_conflicts: a worker that took over may have made them already.
        SyncCursor.objects.bulk_create(missing, ignore_conflicts=True)
        if missing:
            cursors = {
                c.data_type: c for c in SyncCursor.objects.filter(connection=self.connection)
            }
        for sync_type in sync_types:
            path = sync_type.path_for(self.connection.api_version)
            assert path is not None  # types_for_version keeps the types the version has
            cursor = cursors[sync_type.key]
            if not cursor.phase:
                self._begin_pass(cursor, sync_type)
            reads.append(_Read(cursor, path))
        ahead: deque[tuple[_Read, int, int, Future[Any]]] = deque()
        with _pool(self.sage, self.concurrency) as pool:
            try:
                while True:
                    while len(ahead) < self.concurrency:
                        read = next((r for r in reads if r.can_ask()), None)
                        if read is None:
                            break
                        number = read.ask()
                        client, params = self._client_now(), self._params(read.cursor, number)
                        future = pool.submit(client.page, read.path, params)
                        ahead.append((read, read.generation, number, future))
                    if not ahead:
                        return
                    read, generation, number, future = ahead.popleft()
                    read.in_flight -= 1
                    try:
                        page: Page = future.result()
                    except AccountingApiError as error:
                        if error.status != 401:
                            raise
                        page = self._fetch(read.path, self._params(read.cursor, number))
                    if generation != read.generation:
                        continue  # asked before its phase ended (Sage had fewer pages)
                    read.answered(page, self.per_page, number)
                    items, last = list(page.items), read.last(number, page)
                    stored = 1
                    # The type's next pages, asked right behind it, go in the same
                    # transaction (one lock, cursor, lease and data.changed for them all):
                    # they are awaited (the other runs of the worker keep its Sage
                    # requests busy meanwhile); one that failed is left for the loop.
                    while not last and stored < self.batch:
                        following = _next_in_line(ahead, read, generation)
                        if following is None or following.exception() is not None:
                            break
                        _, _, number, future = ahead.popleft()
                        read.in_flight -= 1
                        page = future.result()
                        read.answered(page, self.per_page, number)
                        items += page.items
                        last, stored = read.last(number, page), stored + 1
                    self._store(
                        read.cursor,
                        number,
                        items,
                        last=last,
                        none_stored=read.none_stored,
                        pages=stored,
                    )
                    if last:
                        read.next_phase()
            finally:
                for *_, pending in ahead:
                    pending.cancel()

    def _begin_pass(self, cursor: SyncCursor, sync_type: SyncType) -> None:
        """A new pass over the type: the question it asks stays the same until it ends."""
        overlap = timedelta(seconds=float(settings.SYNC_OVERLAP_SECONDS))
        cursor.run = self.run
        cursor.phase = UPDATED
        cursor.page = 0
        cursor.run_started_at = timezone.now()
        cursor.run_updated_since = cursor.updated_since - overlap if cursor.updated_since else None
        cursor.run_deleted_since = (
            cursor.deleted_since - overlap
            if cursor.deleted_since and sync_type.deleted_since
            else None
        )
        cursor.save()

    def _params(self, cursor: SyncCursor, page: int) -> dict[str, object]:
        params: dict[str, object] = {
            "items_per_page": self.per_page,
            "page": page,
            "attributes": "all",
        }
        if cursor.phase == UPDATED and cursor.run_updated_since is not None:
            params["updated_or_created_since"] = cursor.run_updated_since.isoformat()
        if cursor.phase == DELETED:
            assert cursor.run_deleted_since is not None
            params["deleted_since"] = cursor.run_deleted_since.isoformat()
        return params

    def _client_now(self) -> "AccountingClient":
        """A client with a token good for a while; made again before it runs short."""
        now = timezone.now()
        if self._client is None or self._client_until is None or now >= self._client_until:
            self.connection = connection_ensure_fresh(connection=self.connection)
            self._client = connection_fixed_client(connection=self.connection)
            expires = self.connection.access_token_expires_at or now
            self._client_until = expires - Connection.REFRESH_MARGIN - TOKEN_SLACK
        return self._client

    def _fetch(self, path: str, params: dict[str, object]) -> Page:
        """One page; after a 401 (the token refused early), refresh once and ask again."""
        try:
            return self._client_now().page(path, params)
        except AccountingApiError as error:
            if error.status != 401:
                raise
        self.connection = connection_refresh(
            connection=self.connection, rejected_access_token=self.connection.access_token
        )
        self._client = None
        return self._client_now().page(path, params)

    def _store(
        self,
        cursor: SyncCursor,
        number: int,
        items: list[dict[str, Any]],
        *,
        last: bool,
        none_stored: bool,
        pages: int = 1,
    ) -> None:
        """A page's rows (or the rows of `pages` pages in a row, `number` the last), the
        cursor and the run's counts, in one transaction."""
        now = timezone.now()
        data_type = cursor.data_type
        with transaction.atomic():
            _commit_without_waiting_for_disk()
            self._hold_linked()
            if cursor.phase == UPDATED:
                changes = records_store(
                    connection_id=self.connection.pk,
                    data_type=data_type,
                    items=items,
                    now=now,
                    none_stored=none_stored,
                )
            else:
                changes = records_flag_deleted(
                    connection_id=self.connection.pk, data_type=data_type, items=items, now=now
                )
            cursor.page = number
            cursor.run = self.run
            counts = self.run.counts.setdefault(
                data_type, {"created": 0, "updated": 0, "deleted": 0, "total": 0}
            )
            counts["created"] += len(changes.created)
            counts["updated"] += len(changes.updated)
            counts["deleted"] += len(changes.deleted)
            if last:
                self._end_phase(cursor, now)
                if not cursor.phase:
                    counts["total"] = (
                        SyncedRecord.objects.filter(
                            connection_id=self.connection.pk, data_type=data_type
                        )
                        .live()
                        .count()
                    )
            cursor.save()
            # The lease, renewed with the page: a worker that lost it writes nothing.
            if not self._mine().update(
                lease_expires_at=now + self.lease,
                pages_done=F("pages_done") + pages,
                counts=self.run.counts,
            ):
                raise LeaseLost
            self.run.pages_done += pages
            if changes:
                webhook_emit(
                    event=WebhookEvent.DATA_CHANGED,
                    company=self.connection.company,
                    connection=self.connection,
                    state=self._state(),
                    described=self._described(),
                    data_type=data_type,
                    created=changes.created,
                    updated=changes.updated,
                    deleted=changes.deleted,
                )

    def _end_phase(self, cursor: SyncCursor, now: datetime) -> None:
        """The phase's last page: on to the deleted ones, or the pass is done."""
        if cursor.phase == UPDATED and cursor.run_deleted_since is not None:
            cursor.phase = DELETED
            cursor.page = 0
            return
        cursor.phase = ""
        cursor.page = 0
        cursor.synced_at = now
        cursor.updated_since = cursor.run_started_at
        cursor.deleted_since = cursor.run_started_at

    def _hold_linked(self) -> None:
        """Lock the connection's row (shared with other syncs' pages, not with an unlink)
        and check that it is still Linked: an unlink waits for this page, and the next
        page sees it."""
        linked = (
            Connection.objects.select_for_update(no_key=True)
            .filter(pk=self.connection.pk, status=Connection.Status.LINKED)
            .values_list("pk", flat=True)
        )
        if not list(linked):
            raise NotLinked


def _commit_without_waiting_for_disk() -> None:
    """A page's commit need not wait for PostgreSQL to flush it to disk: the rows, the
    cursor and the events of a page are one transaction, so a crash of the database that
    loses the last pages' commits loses them whole, and the run reads them again from
    the cursor it finds (`SET LOCAL synchronous_commit TO OFF`: this transaction only;
    the rest of the portal's commits still wait)."""
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _next_in_line(
    ahead: deque[tuple["_Read", int, int, Future[Any]]], read: "_Read", generation: int
) -> Future[Any] | None:
    """The request first in line when it is the same type's next page in the same phase
    (answered or not), else None."""
    if not ahead:
        return None
    next_read, next_generation, _, future = ahead[0]
    if next_read is read and next_generation == generation:
        return future
    return None


@contextmanager
def _pool(shared: ThreadPoolExecutor | None, size: int) -> Iterator[ThreadPoolExecutor]:
    """The worker's pool of Sage requests, or one of the run's own (`sync_connection`)."""
    if shared is not None:
        yield shared
        return
    with ThreadPoolExecutor(size, thread_name_prefix="sync-sage") as own:
        yield own


class _Read:
    """Where the reading of one type stands within a run (see _Sync._sync_types)."""

    def __init__(self, cursor: SyncCursor, path: str) -> None:
        self.cursor = cursor
        self.path = path
        self.generation = 0  # one per phase: answers to an earlier phase are dropped
        self.in_flight = 0
        # A first pass that had stored nothing when this run began: its pages need no
        # lookup of what is stored (every record is new).
        self.none_stored = cursor.updated_since is None and cursor.page == 0
        self._start()

    def _start(self) -> None:
        self.next = self.cursor.page + 1  # the next page to ask for
        self.pages: int | None = None  # how many pages the phase has, once known

    def can_ask(self) -> bool:
        if not self.cursor.phase:
            return False  # done
        if self.pages is None:
            return self.in_flight == 0  # one at a time until $total is known
        return self.next <= self.pages

    def ask(self) -> int:
        number = self.next
        self.next += 1
        self.in_flight += 1
        return number

    def answered(self, page: Page, per_page: int, number: int) -> None:
        if self.pages is None:
            if page.total is not None and page.next_path:
                self.pages = max(number, math.ceil(page.total / per_page))
            elif page.next_path:
                self.next = number + 1  # no $total: follow $next a page at a time

    @staticmethod
    def last(number: int, page: Page) -> bool:
        return not page.next_path

    def next_phase(self) -> None:
        """The phase's last page was stored: _store moved the cursor on (or ended the pass)."""
        self.generation += 1
        self.in_flight = 0
        self._start()


def _sync_data(run: SyncRun) -> dict[str, Any]:
    """A run as the webhooks and the API show it."""
    return {
        "id": str(run.pk),
        "trigger": run.trigger,
        "status": run.status,
        "counts": run.counts,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error_code": run.error_code,
        "error": run.error,
    }
