"""Keep-alive throughput: due connections refreshed per second by N `db_worker` processes.

The sandbox knows every seeded token (`--tokens`, written here before it starts)
and answers each token request after the injected latency L. For each worker
count, every seeded connection is made due again, one per-connection task is
enqueued per connection, N `manage.py db_worker` processes are started, and the
connections whose refresh token is no longer due are counted from the first
refresh on, for a fixed window (or until all are done). The sandbox counts the
refresh tokens spent twice.

`db_worker` (django-tasks-db) runs one task at a time per process: it has no
thread or concurrency option, so C = 1 per worker process and the ideal rate
is workers / L.
"""

import json
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.request import urlopen

from django.utils import timezone

from integrations.models import Company, Connection, keepalive_deadline
from integrations.sage.versions import ApiVersion

from . import cpu, environment, seed

CONCURRENCY_PER_WORKER = 1  # db_worker: one task at a time per process
FAN_OUT_TASK = "integrations.tasks.keepalive_connection"


@dataclass
class Result:
    workers: int
    due: int
    refreshed: int  # in the measured window
    seconds: float
    double_spends: int
    deauthorized: int
    latency_ms: float
    task: str
    # CPU ms per refresh in the window: the db_worker processes, the bench database's
    # PostgreSQL backends, the sandbox (bench/cpu.py's groups; "portal" = the workers).
    cpu_ms: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.refreshed / self.seconds if self.seconds > 0 else 0.0

    @property
    def ideal(self) -> float:
        return self.workers * CONCURRENCY_PER_WORKER / (self.latency_ms / 1000)


def token_pairs(count: int) -> list[tuple[str, str]]:
    return [(secrets.token_urlsafe(32), secrets.token_urlsafe(32)) for _ in range(count)]


def tokens_file(path: Path, client_id: str, pairs: list[tuple[str, str]]) -> Path:
    """The file `python -m integrations.sage.sandbox --tokens` reads."""
    path.write_text("".join(f"{client_id} {access} {refresh}\n" for access, refresh in pairs))
    return path


def linked_connections(
    world: seed.World, pairs: list[tuple[str, str]], *, name: str, due: bool
) -> list[Connection]:
    """One linked company per token pair; its refresh token due for keep-alive or not."""
    now = timezone.now()
    first = Company.objects.filter(organization=world.organization).count()
    companies = Company.objects.bulk_create(
        Company(organization=world.organization, name=f"{name} {n:05d}", created_by=world.admin)
        for n in range(first, first + len(pairs))
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
            business_id="",  # the lead business
            business_name=f"{company.name} (Sage)",
            access_token=access,
            refresh_token=refresh,
            # Held as expired: the sandbox's copy expires 300 s after its start, so the
            # first use refreshes rather than trusting a lifetime the two might disagree on.
            access_token_expires_at=now,
            refresh_token_expires_at=now + (timedelta(days=1) if due else timedelta(days=31)),
            last_refreshed_at=now,
        )
        for company, (access, refresh) in zip(companies, pairs, strict=True)
    )


def task_to_enqueue():
    """The keep-alive fan-out's per-connection task, and its name for the table."""
    from integrations.tasks import keepalive_connection

    return keepalive_connection, FAN_OUT_TASK


def sandbox_stats(sandbox_url: str) -> dict:
    with urlopen(f"{sandbox_url}/_sandbox/stats", timeout=10) as response:  # noqa: S310 - loopback
        return json.load(response)


def worker_command(worker_id: str) -> list[str]:
    return [
        sys.executable,
        "manage.py",
        "db_worker",
        "--no-startup-delay",
        "--interval",
        "0.2",
        "--worker-id",
        worker_id,
        "--verbosity",
        "0",
    ]


def _not_due(world: seed.World) -> int:
    return Connection.objects.filter(
        integration=world.integration,
        status=Connection.Status.LINKED,
        refresh_token_expires_at__gt=keepalive_deadline(),
    ).count()


def measure(
    *,
    world: seed.World,
    connections: list[Connection],
    workers: int,
    seconds: float,
    sandbox_url: str,
    latency_ms: float,
    workdir: Path,
    sandbox_pid: int,
    database: str,
) -> Result:
    """Make every connection due, enqueue a task each, run `workers` db_workers, count."""
    from django_tasks_db.models import DBTaskResult

    ids = [c.pk for c in connections]
    deauthorized = Connection.objects.filter(pk__in=ids, status=Connection.Status.DEAUTHORIZED)
    deauthorized_before = deauthorized.count()
    Connection.objects.filter(pk__in=ids).update(
        refresh_token_expires_at=timezone.now() + timedelta(days=1)
    )
    DBTaskResult.objects.all().delete()
    task, task_name = task_to_enqueue()
    for pk in ids:
        task.enqueue(str(pk))
    before = sandbox_stats(sandbox_url)
    processes = [
        environment.start(
            worker_command(f"bench-{workers}-{n}"),
            env={},
            log=workdir / f"db_worker-{workers}-{n}.log",
        )
        for n in range(workers)
    ]
    note = ""
    try:
        deadline = time.monotonic() + 60
        while (done := _not_due(world)) == 0:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError("no db_worker refreshed a connection within 60 s")
            time.sleep(0.05)
        groups = [
            cpu.Processes(portal=p.pid, sandbox=sandbox_pid if n == 0 else None, database=database)
            for n, p in enumerate(processes)
        ]
        start, first, ticks = time.monotonic(), done, _ticks(groups)
        while done < len(ids) and time.monotonic() - start < seconds:
            time.sleep(0.25)
            done = _not_due(world)
        elapsed, refreshed, used = time.monotonic() - start, done - first, _ticks(groups, ticks)
        if done >= len(ids):
            note = "all done"
    finally:
        for process in processes:
            environment.stop(process)  # SIGTERM: db_worker finishes its task, then exits
    DBTaskResult.objects.all().delete()
    after = sandbox_stats(sandbox_url)
    return Result(
        workers=workers,
        due=len(ids),
        refreshed=refreshed,
        seconds=elapsed,
        double_spends=after["refresh_double_spends"] - before["refresh_double_spends"],
        deauthorized=deauthorized.count() - deauthorized_before,
        latency_ms=latency_ms,
        task=task_name,
        cpu_ms={g: t * cpu.TICK_MS / refreshed for g, t in used.items()} if refreshed else {},
        note=note,
    )


def _ticks(groups: list[cpu.Processes], since: dict | None = None) -> dict:
    """CPU ticks so far by process (`since` None), or used since `since` by group.

    Each worker is its own session; one snapshot per worker finds its processes,
    the database's backends and (with the first) the sandbox: merged by process.
    """
    found: dict = {}
    for group in groups:
        found |= cpu.snapshot(group)
    if since is None:
        return found
    return cpu.used(since, found)
