"""The bench's stand-in for the keep-alive fan-out's per-connection task.

The fan-out (branch i11fan, not merged when the bench was written) provides
`integrations.tasks.keepalive_connection(connection_id)`: one task per due
connection, run by `manage.py db_worker`. The bench uses that task when it
exists (bench/keepalive.py); until then it enqueues this one, which does what
one iteration of today's `keepalive_pass` does for one id: the same
`connection_refresh(..., keepalive=True)` under the connection's row lock.
"""

import uuid

from django.tasks import task

from integrations.models import Connection
from integrations.services.connections import RelinkRequired, TokenError, connection_refresh


@task
def keepalive_connection(connection_id: str) -> str:
    """Refresh one connection if it is still due (what keepalive_pass does for one id)."""
    try:
        connection_refresh(connection=Connection(pk=uuid.UUID(connection_id)), keepalive=True)
    except RelinkRequired:
        return "deauthorized"
    except TokenError:
        return "failed"
    return "done"
