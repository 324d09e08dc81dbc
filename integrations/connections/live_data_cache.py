"""Where a company's live data is cached, and how it is forgotten.

Apart from live_data.py so that the lifecycle (services/connections.py), which
live_data.py depends on, can forget a connection's data when it changes.
"""

from django.core.cache import cache
from django.db import transaction


def fresh_key(connection_pk: object) -> str:
    """The data read a moment ago: shown instead of asking Sage again."""
    return f"live-data:fresh:{connection_pk}"


def last_key(connection_pk: object) -> str:
    """The last data read: shown, with a notice, while Sage is down."""
    return f"live-data:last:{connection_pk}"


def live_data_forget(connection_pk: object) -> None:
    """Drop the connection's cached data once the current transaction commits.

    After the commit, so that a page reading meanwhile cannot cache the old data again.
    """
    transaction.on_commit(
        lambda: cache.delete_many([fresh_key(connection_pk), last_key(connection_pk)])
    )
