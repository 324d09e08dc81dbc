"""The OAuth callback under load: N authorization requests, each with a real sandbox code.

Each request wrk sends is a different callback URL (state and code) with the
session cookie of the browser that started that authorization, each used once,
so every request does the real work: state check, token exchange with the
sandbox over HTTP, business lookup, tokens stored.
"""

import argparse
import functools
import math
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from integrations.linking.services import browser_binding, callback_url
from integrations.linking.session import BROWSER_KEY
from integrations.models import AuthorizationRequest, Company, Connection
from integrations.sage import oauth

from . import cpu, report, rounds, seed
from .load import WALK_SCRIPT, LoadResult, wrk

WARMUP_ENTRIES = 200
MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class Walk:
    """What every callback measurement shares: the portal's port, the bench's options
    (`args`), the folder for wrk's files, the baseline slice and the measured processes."""

    port: int
    args: argparse.Namespace
    workdir: Path
    baseline: Callable[[], LoadResult] | None
    processes: cpu.Processes


def _approve(authorize_url: str) -> str:
    """POST the sandbox's Approve button; return the callback path with code and state."""
    parts = urlsplit(authorize_url)
    conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request(
            "POST",
            f"{parts.path}?{parts.query}",
            body=urlencode({"decision": "approve", "country": "GB"}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        if response.status != HTTPStatus.FOUND:
            raise RuntimeError(f"the sandbox answered {response.status} to Approve")
        location = urlsplit(response.getheader("Location", ""))
        return f"{location.path}?{location.query}"
    finally:
        conn.close()


def entries_create(world: seed.World, count: int) -> list[tuple[str, str]]:
    """Create `count` pending links, each with its session; return (callback path, cookie)."""
    first = Company.objects.filter(organization=world.organization).count()
    companies = Company.objects.bulk_create(
        Company(organization=world.organization, name=f"Callback {n:05d}")
        for n in range(first, first + count)
    )
    connections = Connection.objects.bulk_create(
        Connection(
            company=company,
            integration=world.integration,
            credential_set=world.credential_set,
            api_version=world.credential_set.api_version,
        )
        for company in companies
    )
    authorizations, sessions, urls = [], [], []
    expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    for connection in connections:
        verifier, challenge = oauth.pkce_pair()
        state, browser_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        authorizations.append(
            AuthorizationRequest(
                state=state,
                code_verifier=verifier,
                browser_binding=browser_binding(browser_secret),
                connection=connection,
                credential_set=world.credential_set,
                client_id=world.credential_set.client_id,
                country="GB",
            )
        )
        key = secrets.token_hex(16)
        data = SessionStore().encode({BROWSER_KEY: browser_secret})
        sessions.append(Session(session_key=key, session_data=data, expire_date=expire))
        urls.append(
            oauth.authorization_url(
                credential_set=world.credential_set,
                state=state,
                code_challenge=challenge,
                country="GB",
                redirect_uri=callback_url(),
            )
        )
    AuthorizationRequest.objects.bulk_create(authorizations)
    Session.objects.bulk_create(sessions)
    with ThreadPoolExecutor(max_workers=8) as pool:
        paths = list(pool.map(_approve, urls))
    cookie = settings.SESSION_COOKIE_NAME
    return [(path, f"{cookie}={s.session_key}") for path, s in zip(paths, sessions, strict=True)]


def _walk_file(workdir: Path, name: str, entries) -> Path:
    path = workdir / name
    path.write_text("".join(f"{p} {c}\n" for p, c in entries))
    return path


def row(walk: Walk, *, sandbox: int | None, size: int) -> report.Row:
    """Measure our callback (see `walk_row`)."""
    label = report.OURS
    if sandbox is None:
        return report.Row(label, size, None, None, note="the Sage sandbox did not start")
    world = seed.world_create(name="Callback Ltd")
    return walk_row(
        walk,
        label=label,
        size=size,
        make_entries=lambda count: entries_create(world, count),
        done=lambda: _linked(world),
        done_word="linked",
    )


def walk_row(
    walk: Walk,
    *,
    label: str,
    size: int,
    make_entries: Callable[[int], list[tuple[str, str]]],
    done: Callable[[], int],
    done_word: str,
    host: str | None = None,
) -> report.Row:
    """Measure a callback: warm up, size the batch from the warm-up rate, then run once.

    Each callback URL works once, so the callback cannot take turns with the
    baseline in rounds like the pages: its one run is framed by a baseline slice
    right before and one right after it (`walk.baseline` runs one), and its ratio is
    taken against their mean. The run also measures the CPU per request of
    `walk.processes` (see bench/cpu.py). `done()` counts the callbacks that completed
    (linked, logged in), read before and after the run.
    """
    port, args, workdir = walk.port, walk.args, walk.workdir
    baseline, processes = walk.baseline, walk.processes
    path, cookie = make_entries(1)[0]
    queries = seed.queries_count(cookie=cookie, path=path, expect=HTTPStatus.FOUND, host=host)
    script = workdir / "walk.lua"
    script.write_text(WALK_SCRIPT)
    url = f"http://127.0.0.1:{port}/"
    options = {"connections": args.connections, "threads": 1, "script": script}
    warm = _walk_file(workdir, "warm.txt", make_entries(WARMUP_ENTRIES))
    # Long enough for every gunicorn worker to have served a few (Sage's latency makes
    # callbacks slow): a worker's first callback pays imports and first-use set-ups.
    warmup = wrk(url, seconds=max(args.warmup, 3), script_args=(str(warm),), **options)
    done_before = done()
    count = min(MAX_ENTRIES, max(500, math.ceil(warmup.rps * args.duration * 1.5)))
    batch = _walk_file(workdir, "run.txt", make_entries(count))
    before = settled(baseline) if baseline else None
    run = functools.partial(wrk, url, seconds=args.duration, script_args=(str(batch),), **options)
    result = settled(cpu.measured(run, processes))
    after = settled(baseline) if baseline else None
    completed = done() - done_before
    note = f"{result.requests:,} callbacks from {count:,} prepared; {completed:,} {done_word}"
    if result.errors:
        note += f"; {result.errors:,} errors"
    ratio = None
    if before and after:
        reference = (before.rps + after.rps) / 2
        ratio = result.rps / reference
        note += f"; baseline {before.rps:,.0f} req/s before, {after.rps:,.0f} after"
    else:
        note += "; no baseline to compare with"
    return report.Row(label, size, result, queries, ratio=ratio, note=note)


def settled(run: Callable[[], LoadResult]) -> LoadResult:
    """Run one wrk run after the pause that lets the previous run's requests finish."""
    return rounds.timed(run).result


def _linked(world: seed.World) -> int:
    return Connection.objects.filter(
        integration=world.integration, status=Connection.Status.LINKED
    ).count()
