"""`make bench`: the portal under gunicorn with production settings, measured with wrk.

Everything runs on 127.0.0.1 in a throwaway PostgreSQL database that is dropped
at the end. See docs/performance.md for the method, docs/bench-latest.md for the last run.
"""

import argparse
import functools
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import psycopg

from . import cpu, environment, report, rounds
from .load import LoadResult, wrk

SIZES = (10, 10_000)
PARTS = ("pages", "live", "callback", "keepalive", "proxy", "sync")


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--duration",
        type=int,
        default=10,
        help="seconds measured per page and company count, split across the rounds "
        "(each slice lasts ceil(duration / rounds) s); the OAuth callback runs this long "
        "in one go (default 10)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved rounds per company count: each round runs the baseline and then "
        "every page for one slice; a page's ratio is taken against the baseline slices "
        "around its round, and the table gives the median over the rounds (default 3)",
    )
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    cores = os.cpu_count() or 1
    parser.add_argument("--workers", type=int, default=2 * cores, help="gunicorn workers")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=100,
        help="latency L the Sage sandbox adds to each token and API request (default 100)",
    )
    parser.add_argument(
        "--live-connections",
        type=int,
        default=2,
        help="wrk connections for the company page with live data and its reference, "
        "fewer than gunicorn's workers so p50 is a request's own latency (default 2)",
    )
    parser.add_argument(
        "--keepalive-connections",
        type=int,
        default=2000,
        help="due connections for the keep-alive throughput (default 2000)",
    )
    parser.add_argument(
        "--keepalive-seconds",
        type=float,
        default=20,
        help="seconds the keep-alive rate is measured for, from the first refresh, per "
        "worker count (less when every connection is done first; default 20)",
    )
    parser.add_argument(
        "--keepalive-workers",
        default="1,2",
        help="db_worker process counts to measure, comma separated (default 1,2)",
    )
    parser.add_argument(
        "--sync-companies", type=int, default=100, help="linked companies synced (default 100)"
    )
    parser.add_argument(
        "--sync-contacts",
        type=int,
        default=2000,
        help="contacts in each company's Sage business (default 2000)",
    )
    parser.add_argument(
        "--sync-workers",
        default="1,2",
        help="db_worker process counts for the sync, comma separated (default 1,2)",
    )
    parser.add_argument(
        "--sync-concurrency",
        type=int,
        default=None,
        help="Sage requests each worker keeps in flight (SYNC_PAGE_CONCURRENCY; default: "
        "the setting's)",
    )
    parser.add_argument(
        "--proxy-servers",
        default="sync,gthread,asgi",
        help="server kinds the Sage proxy is measured on, comma separated, among "
        "sync, gthread (the README's), asgi (default: all three)",
    )
    parser.add_argument(
        "--proxy-workers",
        type=int,
        default=3,
        help="worker processes of each server the Sage proxy is measured on (the README's 3)",
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"what to measure, comma separated, among {','.join(PARTS)} (default: all); "
        "a partial run never writes docs/bench-latest.md",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="do not update docs/bench-latest.md"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1 or args.warmup < 1:
        parser.error("--rounds, --duration and --warmup must be at least 1")
    if args.latency_ms <= 0:
        parser.error("--latency-ms must be more than 0")
    try:
        args.keepalive_workers = [int(n) for n in args.keepalive_workers.split(",")]
        args.sync_workers = [int(n) for n in args.sync_workers.split(",")]
    except ValueError:
        parser.error("--keepalive-workers, --sync-workers: comma separated numbers")
    args.proxy_servers = [kind.strip() for kind in args.proxy_servers.split(",") if kind.strip()]
    args.parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if args.parts - set(PARTS):
        parser.error(f"--parts: among {', '.join(PARTS)}")
    if args.parts != set(PARTS):
        args.no_write = True
    return args


def slice_seconds(args) -> int:
    """Seconds of one slice: the duration split across the rounds, whole seconds for wrk."""
    return max(1, math.ceil(args.duration / args.rounds))


def status_of(port: int, path: str, cookie: str) -> int:
    """GET `path` once from the server under test, without following redirects."""
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "X-Forwarded-Proto": "https"})
        return conn.getresponse().status
    finally:
        conn.close()


def warm_up(port: int, path: str, cookie: str, args) -> Callable[[], LoadResult]:
    """Check the page answers 200, warm it up; return the callable running one slice."""
    status = status_of(port, path, cookie)
    if status != HTTPStatus.OK:
        raise RuntimeError(f"the server answered {status} to GET {path}")
    url = f"http://127.0.0.1:{port}{path}"
    options = {"connections": args.connections, "threads": args.threads, "cookie": cookie}
    wrk(url, seconds=args.warmup, **options)
    return functools.partial(wrk, url, seconds=slice_seconds(args), **options)


@dataclass
class Outcome:
    rows: list[report.Row]
    live: list = field(default_factory=list)  # bench.live.Result
    keepalive: list = field(default_factory=list)  # bench.keepalive.Result
    sync: list = field(default_factory=list)  # bench.sync.Result
    sync_again: Any = None  # bench.sync.Incremental
    sync_size: Any = None  # bench.sync.Size
    proxy: list = field(default_factory=list)  # bench.proxy.Result
    postgres_version: str = ""
    settings_line: str = ""


def run(args, workdir: Path) -> Outcome:
    port, cold_port, sandbox_port = (environment.free_port() for _ in range(3))
    database_name = f"portal_bench_{os.getpid()}"
    with environment.database(database_name) as database_url:
        for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_COOKIES", "STATIC_MANIFEST"):
            os.environ.pop(name, None)  # never inherit the tests' relaxations
        os.environ.update(
            environment.production_env(
                database_url=database_url,
                port=port,
                sandbox_port=sandbox_port,
                static_root=workdir / "static",
            )
        )
        import django

        django.setup()
        from django.db import connection

        from . import callback, keepalive, live, peer, proxy, seed

        step("migrating and collecting static files")
        seed.prepare()
        world = seed.world_create()
        keepalive_world = seed.world_create(name="Keepalive Ltd")
        # Tokens the sandbox knows from its start: the keep-alive's and the live company's.
        pairs = keepalive.token_pairs(args.keepalive_connections + 1)
        proxy_pairs = keepalive.token_pairs(proxy.COMPANIES)
        tokens = keepalive.tokens_file(
            workdir / "tokens.txt", world.credential_set.client_id, pairs + proxy_pairs
        )
        postgres_version = connection.cursor().connection.info.parameter_status("server_version")
        sandbox = server = cold_server = None
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        outcome = Outcome(rows=[], postgres_version=postgres_version)
        try:
            sandbox = start_sandbox(sandbox_port, workdir, args.latency_ms, tokens)
            server = environment.start(
                environment.gunicorn_command(port, args.workers),
                env={},
                log=workdir / "gunicorn.log",
            )
            # The same portal, but every company page reads its live data from Sage: nothing
            # kept fresh, and its own cache keys, so no fresh data the other server cached.
            cold_env = {"LIVE_DATA_CACHE_SECONDS": "0"}
            if os.environ.get("CACHE_URL"):
                cold_env["CACHE_URL"] = os.environ["CACHE_URL"] + "?key_prefix=bench-cold"
            cold_server = environment.start(
                environment.gunicorn_command(cold_port, args.workers),
                env=cold_env,
                log=workdir / "gunicorn-cold.log",
            )
            environment.wait_for_port(port, server, what="gunicorn")
            environment.wait_for_port(cold_port, cold_server, what="gunicorn (cold cache)")
            step(
                f"gunicorn on :{port}, its cold-cache twin on :{cold_port}, Sage on :{sandbox_port}"
            )
            processes = cpu.Processes(
                portal=server.pid, sandbox=sandbox.pid if sandbox else None, database=database_name
            )
            rows = outcome.rows
            baseline = None
            for size in SIZES if "pages" in args.parts else ():
                step(f"seeding {size:,} companies")
                seed.companies_add(world=world, total=size)
                # What autovacuum does within a minute of a bulk load in production: the
                # statistics, and the visibility map that lets a COUNT read the index alone.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
                size_rows, baseline = rows_at(size, port, world, args, processes)
                rows += size_rows
            if sandbox and "live" in args.parts:
                step(f"company page with live data, L = {args.latency_ms:g} ms")
                [company] = keepalive.linked_connections(
                    world, pairs[-1:], name="Live Data Co", due=False
                )
                outcome.live = live.measure(
                    world=world,
                    company=live.company_path(company),
                    port=port,
                    cold_port=cold_port,
                    sandbox_url=sandbox_url,
                    args=args,
                    slice_seconds=slice_seconds(args),
                    processes=processes,
                    cold_processes=cpu.Processes(
                        portal=cold_server.pid, sandbox=sandbox.pid, database=database_name
                    ),
                    step=step,
                )
            if sandbox and "proxy" in args.parts:
                step(f"Sage proxy, L = {args.latency_ms:g} ms: {', '.join(args.proxy_servers)}")
                outcome.proxy = proxy.measure(
                    kinds=args.proxy_servers,
                    world=world,
                    pairs=proxy_pairs,
                    workers=args.proxy_workers,
                    sandbox_pid=sandbox.pid,
                    sandbox_url=sandbox_url,
                    database=database_name,
                    args=args,
                    slice_seconds=slice_seconds(args),
                    workdir=workdir,
                    step=step,
                )
            if "callback" in args.parts:
                step("OAuth callback")
                walk = callback.Walk(
                    port=port, args=args, workdir=workdir, baseline=baseline, processes=processes
                )
                rows.append(callback.row(walk, sandbox=sandbox and sandbox_port, size=SIZES[-1]))
                if sandbox:
                    step("allauth's OAuth2 callback (the peer)")
                    rows.append(peer.row(walk, size=SIZES[-1]))
            if sandbox and "keepalive" in args.parts:
                step(f"keep-alive: seeding {args.keepalive_connections:,} due connections")
                due = keepalive.linked_connections(
                    keepalive_world, pairs[:-1], name="Keepalive", due=True
                )
                for workers in args.keepalive_workers:
                    step(f"  keep-alive with {workers} db_worker process(es)")
                    result = keepalive.measure(
                        world=keepalive_world,
                        connections=due,
                        workers=workers,
                        seconds=args.keepalive_seconds,
                        sandbox_url=sandbox_url,
                        latency_ms=args.latency_ms,
                        workdir=workdir,
                        sandbox_pid=sandbox.pid,
                        database=database_name,
                    )
                    step(
                        f"  {workers} worker(s): {result.refreshed:,} refreshed in "
                        f"{result.seconds:.1f} s = {result.rate:.2f}/s; "
                        f"{result.double_spends} spent twice"
                    )
                    outcome.keepalive.append(result)
            if "sync" in args.parts:
                sync_part(args, workdir, outcome)
        except Exception:
            for log in ("gunicorn.log", "gunicorn-cold.log", "sandbox.log", "sync-sandbox.log"):
                sys.stderr.write(
                    (workdir / log).read_text()[-3000:] if (workdir / log).exists() else ""
                )
            raise
        finally:
            environment.stop(server)
            environment.stop(cold_server)
            environment.stop(sandbox)
            connection.close()
    outcome.settings_line = (
        f"gunicorn {args.workers} {environment.PRODUCTION_SERVER} workers "
        f"({environment.THREADS} threads each); wrk -t{args.threads} -c{args.connections}; "
        f"per company count, {args.warmup} s warm-up per page, then {args.rounds} interleaved "
        f"rounds of {slice_seconds(args)} s per page (the baseline, then each page); "
        "DEBUG off, SSL redirect and secure cookies on (wrk sends X-Forwarded-Proto: https), "
        f"persistent DB connections; the Sage sandbox adds L = {args.latency_ms:g} ms to each "
        "token and API request"
    )
    return outcome


def sync_part(args, workdir: Path, outcome: Outcome) -> None:
    """The sync's throughput, its incremental cost and its storage (bench/sync.py)."""
    from . import seed, sync

    step(
        f"sync: {args.sync_companies} linked companies × {args.sync_contacts:,} contacts, "
        f"L = {args.latency_ms:g} ms"
    )
    world = seed.world_create(name="Sync Ltd")
    pairs = sync.token_pairs(args.sync_companies)
    from .keepalive import tokens_file

    tokens = tokens_file(workdir / "sync-tokens.txt", world.credential_set.client_id, pairs)
    port = environment.free_port()
    process = environment.start(
        sync.sandbox_command(
            port,
            latency_ms=args.latency_ms,
            tokens=tokens,
            businesses=args.sync_companies,
            contacts=args.sync_contacts,
        ),
        env={},
        log=workdir / "sync-sandbox.log",
    )
    # The workers read Sage at this sandbox: their environment is the bench's own.
    sandbox_url = f"http://127.0.0.1:{port}"
    saved = {name: os.environ.get(name) for name in ("SAGE_API_URL", "SAGE_TOKEN_URL")}
    os.environ["SAGE_API_URL"] = f"{sandbox_url}/v3.1"
    os.environ["SAGE_TOKEN_URL"] = f"{sandbox_url}/token"
    try:
        environment.wait_for_port(port, process, what="the sync's Sage sandbox")
        connections = sync.linked_connections(world, pairs)
        concurrency = args.sync_concurrency or sync.concurrency()
        for workers in args.sync_workers:
            step(f"  first sync with {workers} db_worker process(es), C = {concurrency}")
            result = sync.measure(
                connections=connections,
                workers=workers,
                concurrency=concurrency,
                latency_ms=args.latency_ms,
                workdir=workdir,
                sandbox_pid=process.pid,
                sandbox_url=sandbox_url,
                database=os.environ["DATABASE_URL"].rsplit("/", 1)[-1],
            )
            step(
                f"  {workers} worker(s): {result.pages:,} pages in {result.seconds:.1f} s = "
                f"{result.rate:.1f}/s ({result.rate / result.ideal:.2f} × ideal), "
                f"{result.rows_rate:,.0f} rows/s {result.note}"
            )
            outcome.sync.append(result)
        outcome.sync_size = sync.size()
        step("  incremental sync with nothing changed")
        outcome.sync_again = sync.incremental(
            connections=connections,
            workers=max(args.sync_workers),
            concurrency=concurrency,
            sandbox_url=sandbox_url,
            workdir=workdir,
        )
        step(f"  {outcome.sync_again.per_type:.2f} Sage requests per type")
    finally:
        environment.stop(process)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_sandbox(port: int, workdir: Path, latency_ms: float, tokens: Path):
    """Start the Sage sandbox process; None (and a warning) when it cannot run."""
    process = environment.start(
        environment.sandbox_command(port, latency_ms=latency_ms, tokens=tokens),
        env={},
        log=workdir / "sandbox.log",
    )
    try:
        environment.wait_for_port(port, process, what="the Sage sandbox")
    except RuntimeError as error:
        step(f"WARNING: {error}; nothing that calls Sage is measured")
        environment.stop(process)
        return None
    return process


def rows_at(size, port, world, args, processes) -> tuple[list[report.Row], Callable | None]:
    """Measure every page at one company count in interleaved rounds.

    Returns the rows, in the order of `pages.listed()`, and the callable running
    one baseline slice (None when the baseline could not be measured). Each slice
    also measures the CPU per request of `processes` (see bench/cpu.py).
    """
    from . import pages, seed

    listed = pages.listed()
    failed: dict[str, report.Row] = {}
    queries: dict[str, int] = {}
    runs: dict[str, Callable[[], LoadResult]] = {}
    for label, path in listed:
        if path is None:
            failed[label] = report.Row(label, size, None, None, note="no such page yet")
            continue
        step(f"  {label} ({size:,}): queries, warm-up")
        try:
            queries[label] = seed.queries_count(cookie=world.session_cookie, path=path)
            runs[label] = cpu.measured(warm_up(port, path, world.session_cookie, args), processes)
        except Exception as error:  # noqa: BLE001 - a broken page is reported, the rest still run
            failed[label] = failure_row(label, size, error)
    baseline = runs.pop(report.BASELINE, None)
    step(f"  {args.rounds} rounds of {slice_seconds(args)} s per page ({size:,})")
    base, series = rounds.interleave(
        baseline=baseline,
        pages=runs,
        rounds=args.rounds,
        on_error=lambda label, error: step(f"  WARNING: {label}: {error!r:.200}"),
    )
    series[report.BASELINE] = base
    rows = []
    for label, _ in listed:
        if label in failed:
            rows.append(failed[label])
            continue
        measured = series[label]
        if measured.failure:
            rows.append(report.Row(label, size, None, None, note=measured.failure))
            continue
        load = rounds.median_load([s.result for s in measured.slices])
        per_slice = " ".join(f"{s.result.rps:.0f}" for s in measured.slices)
        per_round = " ".join(f"{r:.2f}" for r in measured.ratios)
        step(
            f"  {label} ({size:,}): req/s per slice {per_slice}"
            + (f"; × baseline per round {per_round}" if per_round else "")
        )
        ratio: float | None
        if label == report.BASELINE:
            ratio = 1.0
        else:
            ratio = statistics.median(measured.ratios) if measured.ratios else None
        note = f"{load.errors:,} errors in {load.requests:,} requests" if load.errors else ""
        rows.append(report.Row(label, size, load, queries[label], ratio=ratio, note=note))
    return rows, (None if base.failure else baseline)


def proxy_table(results, args) -> str:
    from . import proxy

    return proxy.table(results, latency_ms=args.latency_ms, workers=args.proxy_workers)


def failure_row(label: str, size: int, error: Exception) -> report.Row:
    step(f"  WARNING: {label}: {error!r:.200}")
    return report.Row(label, size, None, None, note=f"failed: {error!r:.120}")


def sync_table(outcome: Outcome) -> str:
    from . import sync

    return sync.table(outcome.sync, outcome.sync_again, outcome.sync_size)


_started = time.monotonic()


def step(message: str):
    print(f"[{time.monotonic() - _started:5.1f}s] {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    args = arguments(argv)
    if not shutil.which("wrk"):
        print("wrk not found: `make bench` installs Debian's wrk.", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
            outcome = run(args, Path(tmp))
    except psycopg.OperationalError as error:
        print(
            f"PostgreSQL is not reachable ({error}); the bench needs it at "
            f"{environment.PG_ADMIN_URL} (set BENCH_PG_URL to use another server).",
            file=sys.stderr,
        )
        return 2
    rows = outcome.rows
    table_md = report.table(rows, method=report.method_notes(args, slice_seconds(args)))
    results = report.targets(rows, SIZES)
    results += report.live_targets(outcome.live, latency_ms=args.latency_ms)
    results += report.keepalive_targets(outcome.keepalive)
    if "sync" in args.parts:
        from . import sync

        results += sync.targets(outcome.sync, outcome.sync_again)
    results += report.callback_targets(rows)
    if outcome.proxy:
        from . import proxy

        results += proxy.targets(
            outcome.proxy, latency_ms=args.latency_ms, chosen=environment.PRODUCTION_SERVER
        )
    targets_md = report.targets_text(results)
    cpu_md = report.cpu_table(rows)
    extra_md = "\n\n".join(
        part
        for part in (
            report.live_table(outcome.live, args=args, slice_s=slice_seconds(args)),
            report.keepalive_table(outcome.keepalive),
            sync_table(outcome),
            proxy_table(outcome.proxy, args),
        )
        if part
    )
    machine_md = report.machine(
        postgres_version=outcome.postgres_version,
        settings_line=outcome.settings_line,
        load=load_before,
    )
    print(f"\n{table_md}\n\n{cpu_md}\n\n{extra_md}\n\nTargets:\n{targets_md}\n\n{machine_md}")
    if not args.no_write:
        report.write(
            table_md=table_md,
            cpu_md=cpu_md,
            extra_md=extra_md,
            targets_md=targets_md,
            machine_md=machine_md,
        )
        print(f"\nWritten to {report.LATEST_MD.relative_to(environment.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
