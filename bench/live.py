"""The company page with live data (three Sage reads in parallel) at the sandbox's latency L.

One linked company whose tokens the sandbox knows. Warm cache: the portal as
deployed (LIVE_DATA_CACHE_SECONDS at its default), so after the first request
the page reads its live data from the cache. Cold cache: a second gunicorn, the
same in all but LIVE_DATA_CACHE_SECONDS=0, so every request reads Sage. Both,
and the accounting integrations page for reference, run in interleaved rounds
with few wrk connections (fewer than gunicorn's workers), so that p50 is the
page's own latency, not time queued behind other requests.
"""

import functools
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from django.urls import reverse

from integrations.connections.live_data import company_live_data
from integrations.models import Connection

from . import cpu, keepalive, rounds, seed
from .load import LoadResult, wrk

ACCOUNTING = "accounting integrations"
WARM = "company page, warm cache"
COLD = "company page, cold cache"


@dataclass
class Result:
    label: str
    load: LoadResult | None
    queries: int | None
    sage_calls: float | None = None  # Sage requests per page request (cold cache)
    note: str = ""


def company_path(connection: Connection) -> str:
    """The company page of `connection`, checked to read its live data from the sandbox."""
    live = company_live_data(connection=connection)
    if not live.ok:
        raise RuntimeError(f"the live data of the bench's company did not read: {live.error}")
    return reverse("integrations:company_detail", kwargs={"pk": connection.company_id})


def measure(
    *,
    world: seed.World,
    company: str,
    port: int,
    cold_port: int,
    sandbox_url: str,
    args,
    slice_seconds: int,
    processes: cpu.Processes,
    cold_processes: cpu.Processes,
    step: Callable[[str], None],
) -> list[Result]:
    cookie = world.session_cookie
    options = {"connections": args.live_connections, "threads": 1, "cookie": cookie}
    targets = {
        ACCOUNTING: (port, reverse("integrations:accounting_list"), processes),
        WARM: (port, company, processes),
        COLD: (cold_port, company, cold_processes),
    }
    queries, runs = {}, {}
    for label, (target_port, path, measured_processes) in targets.items():
        queries[label] = seed.queries_count(cookie=cookie, path=path, expect=HTTPStatus.OK)
        url = f"http://127.0.0.1:{target_port}{path}"
        wrk(url, seconds=args.warmup, **options)
        runs[label] = _counting_sage(
            cpu.measured(
                functools.partial(wrk, url, seconds=slice_seconds, **options), measured_processes
            ),
            sandbox_url,
        )
    _, series = rounds.interleave(
        baseline=None,
        pages=runs,
        rounds=args.rounds,
        on_error=lambda label, error: step(f"  WARNING: {label}: {error!r:.200}"),
    )
    results = []
    for label in targets:
        measured = series[label]
        if measured.failure:
            results.append(Result(label, None, queries[label], note=measured.failure))
            continue
        loads = [s.result for s in measured.slices]
        load = rounds.median_load(loads)
        calls = statistics.median(r.cpu_ms.get(SAGE_CALLS, 0.0) for r in loads)
        load.cpu_ms.pop(SAGE_CALLS, None)
        note = f"{load.errors:,} errors in {load.requests:,} requests" if load.errors else ""
        results.append(Result(label, load, queries[label], sage_calls=calls, note=note))
        step(f"  {label}: p50 per slice " + " ".join(f"{r.p50_ms:.1f}" for r in loads))
    return results


SAGE_CALLS = "_sage_calls"  # carried in LoadResult.cpu_ms between the slice and the table


def _counting_sage(run: Callable[[], LoadResult], sandbox_url: str) -> Callable[[], LoadResult]:
    """`run`, its result also carrying the Sage requests per page request."""

    def counted() -> LoadResult:
        before = keepalive.sandbox_stats(sandbox_url)["delayed"]
        result = run()
        after = keepalive.sandbox_stats(sandbox_url)["delayed"]
        if result.requests:
            result.cpu_ms[SAGE_CALLS] = (after - before) / result.requests
        return result

    return counted
