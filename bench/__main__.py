"""`make bench`: the portal under gunicorn with production settings, measured with wrk.

Everything runs on 127.0.0.1 in a throwaway PostgreSQL database that is dropped
at the end. See docs/performance.md for the method and the last run.
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
from http import HTTPStatus
from http.client import HTTPConnection
from pathlib import Path

import psycopg

from . import cpu, environment, report, rounds
from .load import LoadResult, wrk

SIZES = (10, 10_000)


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
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1 or args.warmup < 1:
        parser.error("--rounds, --duration and --warmup must be at least 1")
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


def run(args, workdir: Path) -> tuple[list[report.Row], str, str]:
    port, sandbox_port = environment.free_port(), environment.free_port()
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

        from . import callback, seed

        step("migrating and collecting static files")
        seed.prepare()
        world = seed.world_create()
        postgres_version = connection.cursor().connection.info.parameter_status("server_version")
        sandbox = server = None
        try:
            sandbox = start_sandbox(sandbox_port, workdir)
            server = environment.start(
                environment.gunicorn_command(port, args.workers),
                env={},
                log=workdir / "gunicorn.log",
            )
            environment.wait_for_port(port, server, what="gunicorn")
            processes = cpu.Processes(
                portal=server.pid, sandbox=sandbox.pid if sandbox else None, database=database_name
            )
            rows = []
            for size in SIZES:
                step(f"seeding {size:,} companies")
                seed.companies_add(world=world, total=size)
                # What autovacuum does within a minute of a bulk load in production: the
                # statistics, and the visibility map that lets a COUNT read the index alone.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
                size_rows, baseline = rows_at(size, port, world, args, processes)
                rows += size_rows
            step("OAuth callback")
            rows.append(
                callback.row(
                    port=port,
                    sandbox=sandbox and sandbox_port,
                    size=SIZES[-1],
                    args=args,
                    workdir=workdir,
                    baseline=baseline,
                    processes=processes,
                )
            )
        except Exception:
            for log in ("gunicorn.log", "sandbox.log"):
                sys.stderr.write(
                    (workdir / log).read_text()[-3000:] if (workdir / log).exists() else ""
                )
            raise
        finally:
            environment.stop(server)
            environment.stop(sandbox)
            connection.close()
    settings_line = (
        f"gunicorn {args.workers} sync workers; wrk -t{args.threads} -c{args.connections}; "
        f"per company count, {args.warmup} s warm-up per page, then {args.rounds} interleaved "
        f"rounds of {slice_seconds(args)} s per page (the baseline, then each page); "
        "DEBUG off, SSL redirect and secure cookies on (wrk sends X-Forwarded-Proto: https), "
        "persistent DB connections"
    )
    return rows, postgres_version, settings_line


def start_sandbox(port: int, workdir: Path):
    """Start the Sage sandbox process; None (and a warning) when it cannot run."""
    process = environment.start(
        environment.sandbox_command(port), env={}, log=workdir / "sandbox.log"
    )
    try:
        environment.wait_for_port(port, process, what="the Sage sandbox")
    except RuntimeError as error:
        step(f"WARNING: {error}; the OAuth callback is not measured")
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


def failure_row(label: str, size: int, error: Exception) -> report.Row:
    step(f"  WARNING: {label}: {error!r:.200}")
    return report.Row(label, size, None, None, note=f"failed: {error!r:.120}")


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
            rows, postgres_version, settings_line = run(args, Path(tmp))
    except psycopg.OperationalError as error:
        print(
            f"PostgreSQL is not reachable ({error}); the bench needs it at "
            f"{environment.PG_ADMIN_URL} (set BENCH_PG_URL to use another server).",
            file=sys.stderr,
        )
        return 2
    table_md = report.table(rows, method=report.method_notes(args, slice_seconds(args)))
    results = report.targets(rows, SIZES)
    targets_md = report.targets_text(results)
    cpu_md = report.cpu_table(rows)
    machine_md = report.machine(
        postgres_version=postgres_version, settings_line=settings_line, load=load_before
    )
    print(f"\n{table_md}\n\n{cpu_md}\n\nTargets:\n{targets_md}\n\n{machine_md}")
    if not args.no_write:
        report.write(table_md=table_md, cpu_md=cpu_md, targets_md=targets_md, machine_md=machine_md)
        print(f"\nWritten to {report.PERFORMANCE_MD.relative_to(environment.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
