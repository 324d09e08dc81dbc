"""A PostgreSQL trigger that makes some writes fail, for the tests of what survives them.

`fail_writes(table, when, times=None)` raises in a BEFORE trigger on UPDATE or INSERT
of `table` for the rows matching the SQL condition `when` (on OLD/NEW), the first
`times` times (a sequence counts them: it is not rolled back with the failed write),
or every time. Created inside the test's transaction, it goes away with it.
"""

import itertools

import pytest
from django.db import connection as db_connection

ALWAYS = 1_000_000_000
FAULT_MESSAGE = "write refused by a test trigger"


def needs_postgres(reason: str):
    """Return a decorator: the test is marked `postgres` and skipped on SQLite with `reason`."""
    skip = pytest.mark.skipif(db_connection.vendor != "postgresql", reason=reason)

    def mark(test):
        return pytest.mark.postgres(skip(test))

    return mark


postgres_only = needs_postgres(
    "needs PostgreSQL: SQLite has no triggers of this kind and no row locks"
)


_names = itertools.count()


@pytest.fixture
def fail_writes(db):
    def create(table: str, when: str, *, event: str = "UPDATE", times: int | None = None) -> None:
        name = f"test_fault_{next(_names)}"
        with db_connection.cursor() as cursor:
            cursor.execute(f"CREATE SEQUENCE {name}")
            cursor.execute(
                f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('{name}') <= {times or ALWAYS} THEN
                        RAISE EXCEPTION '{FAULT_MESSAGE}';
                    END IF;
                    RETURN NEW;
                END $$
                """
            )
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
                f"WHEN ({when}) EXECUTE FUNCTION {name}()"
            )

    return create


def token_change_of(connection) -> str:
    """The condition of an UPDATE that writes new tokens on `connection`'s row.

    Every save of the tokens writes new ciphertext (a fresh nonce), so this catches a
    token save whatever the values; an UPDATE of other columns passes.
    """
    return (
        f"OLD.id = '{connection.pk}'::uuid AND OLD.refresh_token IS DISTINCT FROM NEW.refresh_token"
    )
