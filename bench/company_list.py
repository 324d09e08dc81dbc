"""The companies list's queries at 10,000 companies on PostgreSQL, timed one by one.

`python -m bench.company_list [--companies N] [--repeat R]`: a throwaway database
(as `make bench`), one organization seeded as the bench seeds it (no connection,
then each connection status in turn), with the lifecycle history a real list has
(cancelled and failed links among the waiting ones, support's relinks among the
deauthorized ones), then `VACUUM ANALYZE`. Prints the median over R runs of:
the list's page (its order and paging on ids, then its 25 rows), the filters'
counts, and the whole page through the test client (the view and its template).
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from . import environment

PAGE_SIZE = 25


def _history(world) -> None:
    """The lifecycle events that make each state, one per company with a connection."""
    from integrations.models import Connection, HistoryEvent

    kind = HistoryEvent.Kind
    status = Connection.Status
    # Per status, the events that rotate among its companies (None: no event).
    events: dict[str, list[tuple[str, dict[str, str]] | None]] = {
        status.PENDING_AUTH: [
            None,
            (kind.LINK_FAILED, {"reason": "access_denied"}),
            (kind.LINK_FAILED, {"reason": "exchange"}),
        ],
        status.LINKED: [(kind.LINKED, {})],
        status.DEAUTHORIZED: [
            (kind.DEAUTHORIZED, {"reason": "invalid_grant"}),
            (kind.MARKED_FOR_RELINK, {"reason": "support"}),
        ],
        status.UNLINKED: [(kind.UNLINKED, {})],
    }
    rows = []
    connections = Connection.objects.filter(company__organization=world.organization)
    for n, (company_id, connection_status) in enumerate(
        connections.order_by("company_id").values_list("company_id", "status")
    ):
        choices = events[connection_status]
        event = choices[(n // 5) % len(choices)]
        if event is not None:
            rows.append(
                HistoryEvent(
                    organization=world.organization,
                    integration=world.integration,
                    company_id=company_id,
                    kind=event[0],
                    details=event[1],
                )
            )
    HistoryEvent.objects.bulk_create(rows, batch_size=2000)
    _states_stored(connections, {row.company_id: row for row in rows})


def _states_stored(connections, last_events) -> None:
    """Where connections store their state, store the one each seeded event led to."""
    from integrations.connections import states
    from integrations.models import Connection

    state_after = getattr(states, "state_after", None)
    if state_after is None:  # before the stored state: worked out from the history
        return
    changed = []
    for connection in connections.only(
        "pk", "company_id", "status", "state", "access_token_expires_at"
    ):
        event = last_events.get(connection.company_id)
        if event is not None:
            reason = event.details.get("reason", "")
            connection.state = state_after(connection, event.kind, reason)
            changed.append(connection)
    Connection.objects.bulk_update(changed, ["state"], batch_size=2000)


def _median_ms(function, repeat: int) -> float:
    function()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.company_list", description=__doc__)
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-company-list-"))
    with environment.database(f"portal_bench_list_{os.getpid()}") as database_url:
        os.environ.update(
            environment.production_env(
                database_url=database_url, port=8000, sandbox_port=8001, static_root=workdir
            )
        )
        os.environ["DATABASE_CONN_MAX_AGE"] = "0"
        import django

        django.setup()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.urls import reverse

        from integrations import selectors

        from . import seed

        seed.prepare()
        world = seed.world_create()
        seed.companies_add(world=world, total=args.companies)
        _history(world)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        organization = world.organization

        def page() -> None:
            companies = selectors.companies_for_list(organization=organization)
            ids = list(companies[:PAGE_SIZE])
            rows = getattr(selectors, "company_list_page", None)
            selectors.company_list_rows(rows(ids) if rows else ids)

        def counts() -> None:
            selectors.company_filter_counts(organization=organization)

        client = seed.client_for(world.session_cookie)
        path = reverse("integrations:company_list")

        def whole() -> None:
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        with CaptureQueriesContext(connection) as queries:
            whole()
        print(f"{args.companies:,} companies, PostgreSQL, median of {args.repeat} runs")
        print(f"  list page (order, page, 25 rows): {_median_ms(page, args.repeat):7.1f} ms")
        print(f"  filter counts:                    {_median_ms(counts, args.repeat):7.1f} ms")
        print(
            f"  whole page (test client, {len(queries)} queries): "
            f"{_median_ms(whole, args.repeat):7.1f} ms"
        )
        print(f"  counts: {selectors.company_filter_counts(organization=organization)}")
        connection.close()


if __name__ == "__main__":
    main()
