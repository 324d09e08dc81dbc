"""Sync throughput: Sage pages read and stored per second by N `db_worker` processes.

Its own sandbox process serves `--sync-companies` businesses with `--sync-contacts`
generated contacts each (and the other types' few records), after the injected
latency L, and knows the token pair of each linked connection (`--tokens`). For each
worker count the synced data is emptied, a sync is queued per connection (one task
each), N `manage.py db_worker` processes start, and the pages stored (each run's
`pages_done`, written in the page's own transaction) are counted from the first one
until every run has ended. A worker keeps up to SYNC_PAGE_CONCURRENCY (C) requests in
flight per run (threads, HTTP only) and stores the pages in its own thread, so the
ideal is workers × C ÷ L pages per second.

Then an incremental sync of every connection with nothing changed (the sandbox
counts the API requests: at most 2 per type), and the table's size per 100,000
records (pg_total_relation_size: rows, TOAST and indexes).
"""

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.request import urlopen

from django.conf import settings
from django.db import connection as db_connection
from django.db.models import Sum
from django.utils import timezone

from integrations.models import Company, Connection
from integrations.sage.sandbox import data
from integrations.sage.versions import ApiVersion
from integrations.sync.models import SyncCursor, SyncedRecord, SyncRun
from integrations.sync.types import types_for_version

from . import cpu, environment, seed

SHARE_OF_IDEAL = 0.8
MAX_REQUESTS_PER_TYPE = 2


@dataclass
class Result:
    workers: int
    concurrency: int
    latency_ms: float
    connections: int
    pages: int  # stored in the measured window
    rows: int  # records stored in the window
    seconds: float
    note: str = ""
    # CPU ms per page in the window: the db_workers, the bench database's PostgreSQL
    # backends, the sandbox (bench/cpu.py's groups; "portal" = the workers).
    cpu_ms: dict[str, float] = field(default_factory=dict)
    # Sage's side of the window: the mean number of API requests in flight at the sandbox
    # (of workers × C at most) and how long each took there on average (L and its work).
    in_flight: float = 0.0
    request_ms: float = 0.0

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_bound_rate(self) -> float:
        """Pages/s the machine's cores could give at this CPU per page, with nothing else."""
        total = sum(self.cpu_ms.values())
        return (os.cpu_count() or 1) * 1000 / total if total else 0.0

    @property
    def rows_rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def ideal(self) -> float:
        return self.workers * self.concurrency / (self.latency_ms / 1000)


@dataclass
class Incremental:
    connections: int
    types: int
    requests: int
    seconds: float

    @property
    def per_type(self) -> float:
        return self.requests / (self.connections * self.types)


@dataclass
class Size:
    records: int
    total_bytes: int

    @property
    def per_100k_mb(self) -> float:
        return self.total_bytes / self.records * 100_000 / 1e6 if self.records else 0.0


def sandbox_command(port: int, *, latency_ms: float, tokens: Path, businesses: int, contacts: int):
    command = environment.sandbox_command(port, latency_ms=latency_ms, tokens=tokens)
    # --materialize: the records are made once at start, so that the sandbox's share of
    # the cores the bench measures is the answers' encoding, not making Sage's data.
    seed = ["--businesses", str(businesses), "--seed", f"contacts={contacts}", "--materialize"]
    return command + seed


def token_pairs(count: int) -> list[tuple[str, str]]:
    return [(secrets.token_urlsafe(32), secrets.token_urlsafe(32)) for _ in range(count)]


def linked_connections(world: seed.World, pairs: list[tuple[str, str]]) -> list[Connection]:
    """One linked company per token pair, each with its own Sage business."""
    now = timezone.now()
    companies = Company.objects.bulk_create(
        Company(organization=world.organization, name=f"Sync {n:04d}", created_by=world.admin)
        for n in range(len(pairs))
    )
    return Connection.objects.bulk_create(
        Connection(
            company=company,
            integration=world.integration,
            credential_set=world.credential_set,
            status=Connection.Status.LINKED,
            state=Connection.State.LINKED,
            api_version=ApiVersion.V31,
            country="GB",
            business_id=data.make_business(n)["id"],  # the sandbox's business number n
            business_name=f"{company.name} (Sage)",
            access_token=access,
            refresh_token=refresh,
            access_token_expires_at=now,  # the first use refreshes (see bench/keepalive.py)
            refresh_token_expires_at=now + timedelta(days=31),
            last_refreshed_at=now,
        )
        for n, (company, (access, refresh)) in enumerate(zip(companies, pairs, strict=True))
    )


def sandbox_stats(sandbox_url: str) -> dict:
    with urlopen(f"{sandbox_url}/_sandbox/stats", timeout=10) as response:  # noqa: S310 - loopback
        return json.load(response)


def worker_command(worker_id: str) -> list[str]:
    from .keepalive import worker_command as db_worker

    return db_worker(worker_id)


def _forget(connections: list[Connection]) -> None:
    """Start from nothing: the bench's connections hold no run, cursor or record, and no
    run of another connection waits. The earlier parts queued some (each OAuth callback's
    link queues a first sync): the workers would take them with the bench's, oldest
    first, and a measure with 1 worker spent half its time on them (0.47 × ideal in a
    full `make bench`, 0.93 with `--parts sync`)."""
    ids = [c.pk for c in connections]
    SyncRun.objects.filter(connection_id__in=ids).delete()
    SyncRun.objects.filter(status__in=SyncRun.ACTIVE).delete()
    SyncCursor.objects.filter(connection_id__in=ids).delete()
    SyncedRecord.objects.filter(connection_id__in=ids).delete()
    with db_connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE integrations_syncedrecord")


def _progress(ids) -> tuple[int, int]:
    """(pages stored, runs still queued or running): cheap enough to ask five times a
    second without weighing on the database it measures."""
    runs = SyncRun.objects.filter(connection_id__in=ids)
    pages = runs.aggregate(pages=Sum("pages_done"))["pages"] or 0
    return pages, runs.filter(status__in=SyncRun.ACTIVE).count()


def _rows(ids) -> int:
    """Records stored (counted once at each end of the measured window)."""
    return SyncedRecord.objects.filter(connection_id__in=ids).count()


def _run_all(connections, *, workers: int, concurrency: int, workdir: Path, label: str):
    """Queue a sync per connection, run `workers` db_workers until every run has ended;
    yield (pages, rows, active) as it goes, from the first page stored."""
    from django_tasks_db.models import DBTaskResult

    from integrations.sync.services import sync_request

    DBTaskResult.objects.all().delete()
    for connection in connections:
        sync_request(connection, SyncRun.Trigger.SCHEDULE)
    env = {"SYNC_PAGE_CONCURRENCY": str(concurrency), "LOG_LEVEL": "WARNING"}
    processes = [
        environment.start(
            worker_command(f"sync-{label}-{n}"), env=env, log=workdir / f"sync-{label}-{n}.log"
        )
        for n in range(workers)
    ]
    return processes


def measure(
    *,
    connections: list[Connection],
    workers: int,
    concurrency: int,
    latency_ms: float,
    workdir: Path,
    sandbox_pid: int,
    sandbox_url: str,
    database: str,
    timeout: float = 600,
) -> Result:
    """A first sync of every connection by `workers` db_workers; pages/s from the first page."""
    _forget(connections)
    ids = [c.pk for c in connections]
    processes = _run_all(
        connections, workers=workers, concurrency=concurrency, workdir=workdir, label=str(workers)
    )
    note = ""
    try:
        deadline = time.monotonic() + 60
        while (progress := _progress(ids))[0] == 0:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError("no db_worker stored a sync page within 60 s")
            time.sleep(0.05)
        groups = [
            cpu.Processes(portal=p.pid, sandbox=sandbox_pid if n == 0 else None, database=database)
            for n, p in enumerate(processes)
        ]
        ticks, sage = _ticks(groups), sandbox_stats(sandbox_url)
        start, (pages0, _) = time.monotonic(), progress
        rows0 = _rows(ids)
        end = start + timeout
        while (progress := _progress(ids))[1] and time.monotonic() < end:
            time.sleep(0.2)
        elapsed = time.monotonic() - start
        used, sage_after = _ticks(groups, ticks), sandbox_stats(sandbox_url)
        (pages, active), rows = _progress(ids), _rows(ids)
        if active:
            note = f"{active} runs unfinished after {timeout:g} s"
        failed = SyncRun.objects.filter(connection_id__in=ids).exclude(status="succeeded").count()
        if failed:
            note = (note + "; " if note else "") + f"{failed} runs did not succeed"
    finally:
        for process in processes:
            environment.stop(process)
    busy = sage_after["api_in_flight_seconds"] - sage["api_in_flight_seconds"]
    asked = sage_after["api_requests"] - sage["api_requests"]
    return Result(
        in_flight=busy / elapsed if elapsed > 0 else 0.0,
        request_ms=busy / asked * 1000 if asked else 0.0,
        workers=workers,
        concurrency=concurrency,
        latency_ms=latency_ms,
        connections=len(ids),
        pages=pages - pages0,
        rows=rows - rows0,
        seconds=elapsed,
        note=note,
        cpu_ms={g: t * cpu.TICK_MS / (pages - pages0) for g, t in used.items()}
        if pages > pages0
        else {},
    )


def _ticks(groups: list[cpu.Processes], since: dict | None = None) -> dict:
    from .keepalive import _ticks as ticks

    return ticks(groups, since)


def incremental(
    *, connections: list[Connection], workers: int, concurrency: int, sandbox_url: str, workdir
) -> Incremental:
    """Sync every connection again with nothing changed at Sage; count Sage's requests."""
    ids = [c.pk for c in connections]
    SyncRun.objects.filter(connection_id__in=ids).delete()  # their cursors stay
    before = sandbox_stats(sandbox_url)["api_requests"]
    started = time.monotonic()
    processes = _run_all(
        connections, workers=workers, concurrency=concurrency, workdir=workdir, label="again"
    )
    try:
        deadline = time.monotonic() + 300
        while _progress(ids)[1] and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for process in processes:
            environment.stop(process)
    requests = sandbox_stats(sandbox_url)["api_requests"] - before
    return Incremental(
        connections=len(ids),
        types=len(types_for_version(ApiVersion.V31)),
        requests=requests,
        seconds=time.monotonic() - started,
    )


def size() -> Size:
    with db_connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE integrations_syncedrecord")
        cursor.execute("SELECT pg_total_relation_size('integrations_syncedrecord')")
        (total,) = cursor.fetchone()
    return Size(records=SyncedRecord.objects.count(), total_bytes=total)


def table(results: list[Result], again: Incremental | None, measured: Size | None) -> str:
    if not results:
        return ""
    lines = [
        "| sync | C per worker | L (ms) | companies | pages | seconds | pages/s | ideal/s "
        "| × ideal | rows/s | CPU ms/page: worker, PostgreSQL, sandbox | CPU-bound pages/s "
        "| at Sage: in flight, ms each |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.workers} db_worker{'s' if r.workers > 1 else ''} | {r.concurrency} "
            f"| {r.latency_ms:g} | {r.connections:,} | {r.pages:,} | {r.seconds:.1f} "
            f"| {r.rate:.1f} | {r.ideal:.0f} | {r.rate / r.ideal:.2f} | {r.rows_rate:,.0f} "
            f"| {_cpu(r)} | {r.cpu_bound_rate:.0f} | {r.in_flight:.2f}, {r.request_ms:.0f} |"
            + (f" {r.note}" if r.note else "")
        )
    out = "\n".join(lines)
    if again:
        out += (
            f"\n\nIncremental sync with nothing changed: {again.requests:,} Sage requests for "
            f"{again.connections:,} companies × {again.types} types = "
            f"{again.per_type:.2f} per type ({again.seconds:.1f} s)."
        )
    if measured:
        out += (
            f"\n\nStorage: {measured.records:,} records take "
            f"{measured.total_bytes / 1e6:.1f} MB (rows, TOAST and indexes) = "
            f"{measured.per_100k_mb:.1f} MB per 100,000 records."
        )
    return out


def _cpu(r: Result) -> str:
    names = (cpu.PORTAL, cpu.POSTGRES, cpu.SANDBOX)
    return ", ".join(f"{r.cpu_ms.get(name, 0):.0f}" for name in names)


def targets(results: list[Result], again: Incremental | None) -> list[tuple[str, bool | None, str]]:
    if not results:
        return [("sync throughput", None, "not measured")]
    out: list[tuple[str, bool | None, str]] = []
    for r in results:
        share = r.rate / r.ideal
        out.append(
            (
                f"sync with {r.workers} worker(s) ≥ {SHARE_OF_IDEAL} × ideal ({r.workers} × "
                f"{r.concurrency} ÷ {r.latency_ms:g} ms = {r.ideal:.0f} pages/s)",
                share >= SHARE_OF_IDEAL and not r.note,
                f"{r.rate:.1f} pages/s = {share:.2f} × ideal" + (f"; {r.note}" if r.note else ""),
            )
        )
    if again:
        out.append(
            (
                f"incremental sync with nothing changed ≤ {MAX_REQUESTS_PER_TYPE} requests "
                "per type",
                again.per_type <= MAX_REQUESTS_PER_TYPE,
                f"{again.per_type:.2f} per type",
            )
        )
    return out


def concurrency() -> int:
    return int(settings.SYNC_PAGE_CONCURRENCY)
