"""The bench's tables (req/s, CPU per request), its targets, the machine, docs/bench-latest.md."""

import os
import platform
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import cpu
from .load import LoadResult

LATEST_MD = Path(__file__).resolve().parent.parent / "docs" / "bench-latest.md"
BASELINE = "baseline"
COMPANIES = "companies list"


@dataclass
class Row:
    page: str
    companies: int
    load: LoadResult | None  # None: the page could not be measured (see `note`)
    queries: int | None
    ratio: float | None = None
    note: str = ""


def method_notes(args, slice_s: int) -> list[str]:
    """How the table's numbers were taken, for the notes under it."""
    return [
        f"req/s, p50 and p99: the median over {args.rounds} rounds of {slice_s} s per page "
        f"(the baseline: over its {args.rounds + 1} slices, one before each round and one "
        "after the last); each round runs the baseline, then every page (their order "
        "rotates from round to round)",
        "× baseline: the median over the rounds of the page's req/s divided by the "
        "baseline's req/s at the middle of the page's slice, interpolated linearly between "
        "the baseline slices just before and just after the round, so the drift of the "
        "machine over a run cancels out; it is not the quotient of the req/s column",
        f"OAuth callback: one run of {args.duration} s (each callback URL is used once), its "
        f"× baseline against the mean of two {slice_s} s baseline slices run right before "
        "and right after it",
    ]


def table(rows: list[Row], method: Sequence[str] = ()) -> str:
    head = ["page", "companies", "req/s", "p50 (ms)", "p99 (ms)", "× baseline", "SQL queries"]
    lines = [head]
    for r in rows:
        load = r.load
        lines.append(
            [
                r.page,
                f"{r.companies:,}",
                f"{load.rps:,.0f}" if load else "—",
                f"{load.p50_ms:.2f}" if load else "—",
                f"{load.p99_ms:.2f}" if load else "—",
                f"{r.ratio:.2f}" if r.ratio is not None else "—",
                str(r.queries) if r.queries is not None else "—",
            ]
        )
    notes = [f"- {note}" for note in method]
    notes += [f"- {r.page} ({r.companies:,}): {r.note}" for r in rows if r.note]
    return "\n".join(_markdown(lines) + ([""] + notes if notes else []))


def cpu_table(rows: list[Row]) -> str:
    """CPU ms per request of each group of processes, the total, and how to read them."""
    head = [
        "page",
        "companies",
        *(f"{group} CPU ms/req" for group in cpu.GROUPS),
        "total CPU ms/req",
    ]
    lines = [head]
    for r in rows:
        measured = r.load.cpu_ms if r.load else {}
        cells = [f"{measured[g]:.2f}" if g in measured else "—" for g in cpu.GROUPS]
        total = f"{sum(measured.values()):.2f}" if measured else "—"
        lines.append([r.page, f"{r.companies:,}", *cells, total])
    notes = [
        "- CPU ms/req: the CPU time (utime + stime) each group of processes used during a "
        "slice, divided by the requests wrk completed in it; the median over the rounds (the "
        "OAuth callback: its one run). portal: gunicorn's master and workers; PostgreSQL: the "
        "backends of the bench's database; wrk: the load generator itself; total: their sum",
        "- on these saturated cores, × baseline ≈ (the baseline's total CPU per request) ÷ "
        "(the page's total CPU per request)",
    ]
    return "\n".join([*_markdown(lines), "", *notes])


def _markdown(lines: list[list[str]]) -> list[str]:
    """A Markdown table, its columns padded to their widest cell; `lines[0]` is the head."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return out


def targets(rows: list[Row], sizes: tuple[int, int]) -> list[tuple[str, bool | None, str]]:
    """Check the targets; None means not measurable in this run.

    The ratio to the baseline is reported in the table but is not a target.
    """
    small, large = sizes
    by = {(r.page, r.companies): r for r in rows}
    pages = sorted({r.page for r in rows if r.page != BASELINE}, key=[r.page for r in rows].index)
    results = []

    grows = []
    for page in [BASELINE, *pages]:
        a, b = by.get((page, small)), by.get((page, large))
        if a and b and a.queries is not None and b.queries is not None and a.queries != b.queries:
            grows.append(f"{page} {a.queries} → {b.queries}")
    compared = [p for p in [BASELINE, *pages] if (p, small) in by and (p, large) in by]
    results.append(
        (
            f"SQL query count does not grow from {small:,} to {large:,} companies",
            not grows if compared else None,
            "; ".join(grows) or f"equal for {', '.join(compared)}",
        )
    )

    a, b = by.get((COMPANIES, small)), by.get((COMPANIES, large))
    if a and b and a.load and b.load:
        factor = b.load.p50_ms / a.load.p50_ms
        detail = f"{b.load.p50_ms:.2f} ms vs {a.load.p50_ms:.2f} ms = {factor:.2f}×"
        base_a, base_b = by.get((BASELINE, small)), by.get((BASELINE, large))
        if base_a and base_b and base_a.load and base_b.load:
            # The two sizes are measured a minute apart: show how far the machine drifted.
            drift = base_b.load.p50_ms / base_a.load.p50_ms
            detail += f" (the baseline's p50 moved {drift:.2f}× between the two sizes)"
        results.append(
            (f"companies list p50 at {large:,} ≤ 1.5 × at {small:,}", factor <= 1.5, detail)
        )
    else:
        results.append(
            (f"companies list p50 at {large:,} ≤ 1.5 × at {small:,}", None, "not measured")
        )
    return results


def targets_text(results) -> str:
    mark = {True: "PASS", False: "FAIL", None: "N/A "}
    return "\n".join(f"- {mark[ok]}  {name}: {detail}" for name, ok, detail in results)


def _first(pattern: str, text: str, default: str = "?") -> str:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1).strip() if match else default


def machine(*, postgres_version: str, settings_line: str, load: float) -> str:
    """Describe the machine and the software the run used."""
    import django

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = int(_first(r"^MemTotal:\s+(\d+)", meminfo, "0"))
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    return "\n".join(
        [
            f"- CPU: {_first(r'^model name\s*:\s*(.+)$', cpuinfo)}, {os.cpu_count()} cores (nproc)",
            f"- memory: {mem_kb / 1024 / 1024:.1f} GiB",
            f"- OS: {platform.platform()}",
            f"- Python {platform.python_version()}, Django {django.get_version()}, "
            f"PostgreSQL {postgres_version}, {_first(r'^(wrk \S+)', wrk.stdout + wrk.stderr)}",
            f"- {settings_line}",
            f"- 1-minute load average before the run: {load:.1f}"
            + (" (other work was running: expect lower numbers)" if load > 1 else ""),
            f"- run at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        ]
    )


def write(*, table_md: str, cpu_md: str, extra_md: str, targets_md: str, machine_md: str) -> None:
    """Write the last run to docs/bench-latest.md (docs/performance.md links to it)."""
    LATEST_MD.write_text(
        "# Bench: the last run\n\n"
        "Written by `make bench` (bench/report.py): the method and the targets are in\n"
        "[performance.md](performance.md). Do not edit by hand.\n\n"
        f"{machine_md}\n\n{table_md}\n\n{cpu_md}\n\n"
        + (f"{extra_md}\n\n" if extra_md else "")
        + f"Targets:\n\n{targets_md}\n"
    )


# The company page with live data, the keep-alive, the OAuth callback beside allauth's.

LIVE_ACCOUNTING, LIVE_WARM, LIVE_COLD = (
    "accounting integrations",
    "company page, warm cache",
    "company page, cold cache",
)
COLD_MARGIN_MS = 60
KEEPALIVE_SHARE_OF_IDEAL = 0.8
KEEPALIVE_SCALING = 1.7
OURS, ALLAUTH = "OAuth callback", "allauth OAuth2 callback (peer)"


def live_table(results, *, args, slice_s: int) -> str:
    if not results:
        return ""
    head = ["page (live data)", "req/s", "p50 (ms)", "p99 (ms)", "Sage calls/req", "SQL queries"]
    head += ["portal CPU ms/req", "total CPU ms/req"]
    lines = [head]
    for r in results:
        load = r.load
        lines.append(
            [
                r.label,
                f"{load.rps:,.1f}" if load else "—",
                f"{load.p50_ms:.2f}" if load else "—",
                f"{load.p99_ms:.2f}" if load else "—",
                f"{r.sage_calls:.2f}" if r.sage_calls is not None else "—",
                str(r.queries) if r.queries is not None else "—",
                f"{load.cpu_ms[cpu.PORTAL]:.2f}" if load and cpu.PORTAL in load.cpu_ms else "—",
                f"{sum(load.cpu_ms.values()):.2f}" if load and load.cpu_ms else "—",
            ]
        )
    notes = [
        f"- L = {args.latency_ms:g} ms added by the sandbox to each token and API request; one "
        f"linked company whose tokens the sandbox knows; wrk -t1 -c{args.live_connections} "
        f"(fewer connections than gunicorn's {args.workers} workers: p50 is a request's own "
        f"latency, not a queue); {args.rounds} interleaved rounds of {slice_s} s, medians",
        "- cold cache: a second gunicorn, identical but for LIVE_DATA_CACHE_SECONDS=0, so "
        "every request reads Sage (business, ledger accounts, contacts in parallel); warm "
        "cache: the portal as deployed, the live data from the cache",
        "- Sage calls/req: requests the sandbox delayed during the slices ÷ page requests",
    ]
    notes += [f"- {r.label}: {r.note}" for r in results if r.note]
    return "\n".join([*_markdown(lines), "", *notes])


def live_targets(results, *, latency_ms: float) -> list[tuple[str, bool | None, str]]:
    by = {r.label: r for r in results}
    cold, warm, accounting = (by.get(k) for k in (LIVE_COLD, LIVE_WARM, LIVE_ACCOUNTING))
    cold_name = f"company page, cold cache, p50 ≤ L + {COLD_MARGIN_MS} ms (the reads overlap)"
    warm_name = "company page, warm cache, p50 ≤ 2 × the accounting integrations page's p50"
    out: list[tuple[str, bool | None, str]] = []
    if cold and cold.load:
        limit = latency_ms + COLD_MARGIN_MS
        detail = (
            f"{limit:g} ms (L = {latency_ms:g} ms); {cold.sage_calls or 0:.2f} Sage calls per page"
        )
        out.append(_p50_target(cold_name, cold.load, limit, detail))
    else:
        out.append((cold_name, None, "not measured"))
    if warm and warm.load and accounting and accounting.load:
        limit = 2 * accounting.load.p50_ms
        detail = f"2 × {accounting.load.p50_ms:.2f} ms = {limit:.2f} ms"
        out.append(_p50_target(warm_name, warm.load, limit, detail))
    else:
        out.append((warm_name, None, "not measured"))
    return out


def _p50_target(
    name: str, load: LoadResult, limit: float, limit_text: str
) -> tuple[str, bool | None, str]:
    """The target `name`, met when the p50 is at most `limit` (`limit_text` says how it is set)."""
    return (name, load.p50_ms <= limit, f"{load.p50_ms:.2f} ms vs {limit_text}")


def keepalive_table(results) -> str:
    if not results:
        return ""
    head = ["keep-alive", "C per worker", "L (ms)", "due", "refreshed", "seconds"]
    head += ["refreshed/s", "ideal/s", "× ideal", "spent twice", "deauthorized"]
    head += ["worker CPU ms/refresh", "total CPU ms/refresh"]
    lines = [head]
    for r in results:
        lines.append(
            [
                f"{r.workers} db_worker" + ("s" if r.workers > 1 else ""),
                "1",
                f"{r.latency_ms:g}",
                f"{r.due:,}",
                f"{r.refreshed:,}",
                f"{r.seconds:.1f}",
                f"{r.rate:.2f}",
                f"{r.ideal:.1f}",
                f"{r.rate / r.ideal:.2f}",
                str(r.double_spends),
                str(r.deauthorized),
                f"{r.cpu_ms[cpu.PORTAL]:.2f}" if cpu.PORTAL in r.cpu_ms else "—",
                f"{sum(r.cpu_ms.values()):.2f}" if r.cpu_ms else "—",
            ]
        )
    task = results[0].task
    notes = [
        f"- one task per due connection, `{task}`, enqueued through django.tasks into the "
        "database backend, run by `manage.py db_worker` processes; db_worker runs one task "
        "at a time per process (no thread or concurrency option), so C = 1 per worker "
        "process and the ideal rate is workers × C ÷ L",
        "- refreshed/s: connections whose refresh token stopped being due, counted from the "
        "first refresh for the window given (or until all were done); before each worker "
        "count every seeded connection is made due again and gets its task",
        "- spent twice: refresh requests the sandbox saw with a refresh token an earlier "
        "refresh had already rotated away (its counter, read before and after)",
        "- CPU ms/refresh: CPU time (utime + stime) in the window ÷ refreshes; worker: the "
        "db_worker processes; total: with the bench database's PostgreSQL backends and the "
        "sandbox. At refreshes/s = 1 ÷ (L + overhead), the overhead beyond L is this CPU "
        "stretched by whatever else competes for the 2 cores",
    ]
    if task.startswith("bench."):
        notes.append(
            "- the fan-out's `integrations.tasks.keepalive_connection` is not in this tree: "
            "the bench enqueued its stand-in, which runs what `keepalive_pass` does for one "
            "id (`connection_refresh(..., keepalive=True)` under the row lock)"
        )
    notes += [f"- {r.workers} worker(s): {r.note}" for r in results if r.note]
    return "\n".join([*_markdown(lines), "", *notes])


def keepalive_targets(results) -> list[tuple[str, bool | None, str]]:
    out: list[tuple[str, bool | None, str]] = []
    if not results:
        return [("keep-alive throughput", None, "not measured")]
    for r in results:
        share = r.rate / r.ideal
        out.append(
            (
                f"keep-alive with {r.workers} worker(s) ≥ {KEEPALIVE_SHARE_OF_IDEAL} × ideal "
                f"({r.workers} × 1 ÷ {r.latency_ms:g} ms = {r.ideal:.1f}/s)",
                share >= KEEPALIVE_SHARE_OF_IDEAL,
                f"{r.rate:.2f}/s = {share:.2f} × ideal",
            )
        )
    by = {r.workers: r for r in results}
    if 1 in by and 2 in by and by[1].rate > 0:
        factor = by[2].rate / by[1].rate
        out.append(
            (
                f"keep-alive with 2 workers ≥ {KEEPALIVE_SCALING} × 1 worker",
                factor >= KEEPALIVE_SCALING,
                f"{by[2].rate:.2f}/s vs {by[1].rate:.2f}/s = {factor:.2f}×",
            )
        )
    spent = sum(r.double_spends for r in results)
    out.append(
        (
            "keep-alive spends no refresh token twice",
            spent == 0,
            f"{spent} spent twice, {sum(r.refreshed for r in results):,} refreshed in the windows",
        )
    )
    return out


def callback_targets(rows: list[Row]) -> list[tuple[str, bool | None, str]]:
    by = {r.page: r for r in rows}
    ours, peer = by.get(OURS), by.get(ALLAUTH)
    name = "our OAuth callback's CPU per callback ≤ allauth's (ours also encrypts and stores)"
    if not (ours and peer and ours.load and peer.load and ours.load.cpu_ms and peer.load.cpu_ms):
        return [(name, None, "allauth's callback not measured")]
    a, b = sum(ours.load.cpu_ms.values()), sum(peer.load.cpu_ms.values())
    pa, pb = ours.load.cpu_ms.get(cpu.PORTAL, 0.0), peer.load.cpu_ms.get(cpu.PORTAL, 0.0)
    return [
        (
            name,
            a <= b,
            f"total {a:.2f} vs {b:.2f} CPU ms per callback (portal processes {pa:.2f} vs {pb:.2f})",
        )
    ]
