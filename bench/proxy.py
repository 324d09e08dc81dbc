"""The API's pass-through to Sage under load, Sage L ms away, with 4 and with 32 clients.

Every server kind is started at once with the README's worker count, and all are
measured in the same interleaved rounds (the machine's drift weighs on all alike):
wrk (one thread) cycles over the proxy URLs of a few linked companies
(`GET /api/v1/companies/{id}/sage/ledger_accounts?items_per_page=10`, so that no
company's own budget of concurrent Sage requests is the limit), with an API key,
with 4 and with 32 connections. Every request waits L on the sandbox. Ideal:
clients ÷ L requests per second, until the CPU is the limit.

- `sync`: gunicorn's sync workers, as the README started the portal before: one
  request per process at a time, each waiting on Sage.
- `gthread`: gunicorn's threaded workers (the README's command now): the same
  Django views, environment.THREADS requests per process at a time.
- `asgi`: uvicorn workers in gunicorn, serving the portal's ASGI application, the
  proxy as an async view (bench/async_proxy.py) that reaches Sage with httpx and the
  database through sync_to_async: what option (b) would build.

The server commands are bench/environment.py's gunicorn_command.
"""

import functools
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.client import HTTPConnection
from pathlib import Path

from integrations.api_keys.services import api_key_create

from . import cpu, environment, keepalive, rounds, seed
from .load import CYCLE_SCRIPT, LoadResult, wrk

COMPANIES = 8  # linked companies the clients cycle over
CLIENTS = (4, 32)
RESOURCE = "ledger_accounts?items_per_page=10"
SERVERS = ("sync", "gthread", "asgi")
# The API's throttle per key is not what is measured here.
SERVER_ENV = {"API_THROTTLE_RATE": "1000000/min"}
# Under ASGI, Django runs each request's database work in a thread of its own, so
# persistent connections pile up past PostgreSQL's max_connections: Django's advice is
# CONN_MAX_AGE = 0 there (a connection per request; a pool would be the next step).
ASGI_ENV = {"DATABASE_CONN_MAX_AGE": "0"}


@dataclass
class Result:
    server: str
    clients: int
    load: LoadResult | None
    sage_calls: float | None = None
    note: str = ""


def path_of(kind: str, company_id: int) -> str:
    if kind == "asgi":
        return f"/bench/async-proxy/companies/{company_id}/sage/{RESOURCE}"
    return f"/api/v1/companies/{company_id}/sage/{RESOURCE}"


def seed_companies(world: seed.World, pairs: list[tuple[str, str]]) -> tuple[list[int], str]:
    """Linked companies whose tokens the sandbox knows, and an API key of their organization."""
    connections = keepalive.linked_connections(world, pairs, name="Proxy Co", due=False)
    _api_key, key = api_key_create(organization=world.organization, name="Bench", actor=None)
    return [c.company_id for c in connections], key


def _get(port: int, path: str, key: str) -> int:
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Api-Key {key}", "X-Forwarded-Proto": "https"}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _prepare(
    kind: str, *, port: int, companies: list[int], key: str, workdir: Path
) -> tuple[str, Path]:
    """Refresh every company's token once through the server; the paths file wrk cycles."""
    paths = [path_of(kind, company) for company in companies]
    for path in paths:
        status = _get(port, path, key)
        if status != HTTPStatus.OK:
            raise RuntimeError(f"{kind}: GET {path} answered {status}")
    paths_file = workdir / f"proxy-{kind}-paths.txt"
    paths_file.write_text("".join(f"{p}\n" for p in paths))
    return f"http://127.0.0.1:{port}{paths[0]}", paths_file


def measure(
    *,
    kinds: list[str],
    world: seed.World,
    pairs: list[tuple[str, str]],
    workers: int,
    sandbox_pid: int,
    sandbox_url: str,
    database: str,
    args,
    slice_seconds: int,
    workdir: Path,
    step: Callable[[str], None],
) -> list[Result]:
    """Start every server kind at once, then measure them all in the same interleaved
    rounds (each round: every server with 4 and with 32 clients, the order rotating), so
    that the machine's drift during the run weighs on all of them alike."""
    companies, key = seed_companies(world, pairs)
    script = workdir / "cycle.lua"
    script.write_text(CYCLE_SCRIPT)
    servers: dict[str, subprocess.Popen] = {}
    failed: dict[str, str] = {}
    runs: dict[str, Callable[[], LoadResult]] = {}
    try:
        for kind in kinds:
            port = environment.free_port()
            servers[kind] = environment.start(
                environment.gunicorn_command(port, workers, kind),
                env=SERVER_ENV | (ASGI_ENV if kind == "asgi" else {}),
                log=workdir / f"proxy-{kind}.log",
            )
            try:
                environment.wait_for_port(port, servers[kind], what=f"the {kind} server")
                url, paths_file = _prepare(
                    kind, port=port, companies=companies, key=key, workdir=workdir
                )
            except Exception as error:  # noqa: BLE001 - reported; the other servers still run
                _failed(step, workdir, kind, error)
                failed[kind] = f"failed: {error!r:.120}"
                continue
            processes = cpu.Processes(
                portal=servers[kind].pid, sandbox=sandbox_pid, database=database
            )
            for clients in CLIENTS:
                slice_load = functools.partial(
                    wrk,
                    url,
                    connections=clients,
                    threads=1,
                    script=script,
                    script_args=(str(paths_file), key),
                )
                slice_load(seconds=args.warmup)
                runs[f"{kind}/{clients}"] = _counting(
                    cpu.measured(functools.partial(slice_load, seconds=slice_seconds), processes),
                    sandbox_url,
                )
        step(f"  {args.rounds} rounds of {slice_seconds} s per server and client count")
        _, series = rounds.interleave(
            baseline=None,
            pages=runs,
            rounds=args.rounds,
            on_error=functools.partial(_warn, step),
        )
    finally:
        for server in servers.values():
            environment.stop(server)
    results: list[Result] = []
    for kind in kinds:
        for clients in CLIENTS:
            if kind in failed:
                results.append(Result(kind, clients, None, note=failed[kind]))
                continue
            measured = series[f"{kind}/{clients}"]
            if measured.failure:
                results.append(Result(kind, clients, None, note=measured.failure))
                continue
            loads = [s.result for s in measured.slices]
            load = rounds.median_load(loads)
            calls = statistics.median(r.cpu_ms.get(SAGE_CALLS, 0.0) for r in loads)
            load.cpu_ms.pop(SAGE_CALLS, None)
            note = f"{load.errors:,} errors in {load.requests:,} requests" * bool(load.errors)
            results.append(Result(kind, clients, load, sage_calls=calls, note=note))
            if load.errors:
                log = workdir / f"proxy-{kind}.log"
                step(f"  {kind}: {note}; the end of its log:\n{log.read_text()[-1500:]}")
            step(
                f"  {kind}, {clients} clients: req/s per slice "
                + " ".join(f"{r.rps:.0f}" for r in loads)
                + "; p50 "
                + " ".join(f"{r.p50_ms:.0f}" for r in loads)
            )
    return results


def _failed(step: Callable[[str], None], workdir: Path, kind: str, error: Exception) -> None:
    step(f"  WARNING: {kind}: {error!r:.300}")
    log = workdir / f"proxy-{kind}.log"
    if log.exists():
        sys.stderr.write(log.read_text()[-2000:])


SAGE_CALLS = "_sage_calls"


def _warn(step: Callable[[str], None], label: str, error: Exception) -> None:
    step(f"  WARNING: {label}: {error!r:.200}")


def _counting(run: Callable[[], LoadResult], sandbox_url: str) -> Callable[[], LoadResult]:
    def counted() -> LoadResult:
        before = keepalive.sandbox_stats(sandbox_url)["delayed"]
        result = run()
        after = keepalive.sandbox_stats(sandbox_url)["delayed"]
        if result.requests:
            result.cpu_ms[SAGE_CALLS] = (after - before) / result.requests
        return result

    return counted


def table(results: list[Result], *, latency_ms: float, workers: int) -> str:
    if not results:
        return ""
    lines = [
        "| server | clients | req/s | p50 (ms) | p99 (ms) | ideal req/s | × 4 clients "
        "| Sage calls/req | portal CPU ms/req | total CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    by = {(r.server, r.clients): r for r in results}
    for r in results:
        if r.load is None:
            lines.append(f"| {r.server} | {r.clients} | {r.note} |  |  |  |  |  |  |  |")
            continue
        four = by.get((r.server, CLIENTS[0]))
        four_load = four.load if four else None
        ratio = r.load.rps / four_load.rps if four_load and four_load.rps else 0
        total = sum(r.load.cpu_ms.values())
        lines.append(
            f"| {r.server} | {r.clients} | {r.load.rps:.1f} | {r.load.p50_ms:.1f} "
            f"| {r.load.p99_ms:.1f} | {r.clients / (latency_ms / 1000):.0f} | {ratio:.2f} "
            f"| {r.sage_calls or 0:.2f} | {r.load.cpu_ms.get(cpu.PORTAL, 0):.2f} | {total:.2f} |"
        )
    notes = [
        f"- `GET /api/v1/companies/{{id}}/sage/{RESOURCE}` over {COMPANIES} linked companies, "
        f"an API key; L = {latency_ms:g} ms added by the sandbox to each Sage request; "
        f"gunicorn --workers {workers}: sync; gthread with --threads {environment.THREADS}; "
        "asgi with uvicorn workers and the async prototype of the proxy (bench/async_proxy.py)",
        "- wrk -t1 with 4 and with 32 connections; every server and client count in the same "
        "interleaved rounds (the order rotating); medians over the rounds; "
        "ideal = clients ÷ L; × 4 clients: req/s with this many clients ÷ req/s with 4, "
        "same server, same run",
    ]
    for r in results:
        if r.load is not None and r.load.errors:
            notes.append(f"- {r.server}, {r.clients} clients: {r.note}")
    return "\n".join(["### Sage proxy", "", *lines, "", *notes])


def targets(results: list[Result], *, latency_ms: float, chosen: str) -> list:
    """Issue 19's targets for the server the README starts (`chosen`)."""
    by = {r.clients: r.load for r in results if r.server == chosen and r.load}
    low, high = by.get(CLIENTS[0]), by.get(CLIENTS[1])
    if not (low and high):
        return [(f"Sage proxy ({chosen}): measured", False, "not measured")]
    ratio = high.rps / low.rps if low.rps else 0
    bound = latency_ms + 30
    return [
        (
            f"Sage proxy ({chosen}): req/s with 32 clients ≥ 3 × with 4",
            ratio >= 3,
            f"{high.rps:.1f} vs {low.rps:.1f} req/s = {ratio:.2f}×",
        ),
        (
            f"Sage proxy ({chosen}): p50 with 4 clients ≤ L + 30 ms",
            low.p50_ms <= bound,
            f"{low.p50_ms:.1f} ms vs {bound:g} ms (L = {latency_ms:g} ms)",
        ),
    ]
