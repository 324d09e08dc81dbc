"""Threads for the tests that need PostgreSQL's row locks: work started at once, a lock held."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection as db_connection
from django.db import transaction

from integrations.models import Connection


def run_at_once(count: int, work: Callable[[Callable[[], None]], object]) -> tuple[list, list]:
    """Run `work(wait)` in `count` threads; each calls `wait()` to be released with the others.

    Returns `(results, errors)`: what the calls returned, what they raised. Each thread
    closes its own database connection.
    """
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            results.append(work(barrier.wait))
        except Exception as exc:  # reported to the caller, with the thread's own exception
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@contextmanager
def row_lock_held(connection: Connection) -> Iterator[None]:
    """Hold `connection`'s row lock in another thread (FOR UPDATE) until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Connection.objects.select_for_update().get(pk=connection.pk)
                locked.set()
                release.wait(10)
        finally:
            db_connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(5)
        yield
    finally:
        release.set()
        holder.join()
