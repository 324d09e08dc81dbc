"""Revoking the refresh tokens we stop holding, so that none stays valid at Sage.

A token is read under the connection's row lock and dropped in the same
transaction; Sage is called once that transaction has committed, with the keys of
the app the token was issued to, as they were (a client ID change saves new keys in
the same transaction). Only API v3.1 has a revoke endpoint.
"""

import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from integrations import accounting
from integrations.accounting import AccountingOAuthError, oauth
from integrations.crypto import DecryptionError
from integrations.models import Connection, HistoryEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldToken:
    """A refresh token being dropped, with the keys of its app (a ClientCredentials)."""

    connection_id: uuid.UUID
    api_version: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)


@sensitive_variables()
def held_token(connection: Connection) -> HeldToken | None:
    """The connection's refresh token and its app's keys, when Sage can revoke it."""
    if not accounting.can_revoke(connection.api_version):
        return None
    try:
        token = connection.refresh_token
        credential_set = connection.credential_set
        if not token:
            return None
        return HeldToken(
            connection.pk,
            credential_set.api_version,
            credential_set.client_id,
            credential_set.client_secret,
            token,
        )
    except DecryptionError:
        logger.error(
            "Connection %s: its tokens or keys cannot be read with the current encryption "
            "keys, so its refresh token cannot be revoked at Sage",
            connection.pk,
        )
        return None


@sensitive_variables()
def revoke(held: HeldToken) -> bool:
    """Revoke the token at Sage; False (and a warning) when Sage could not be told."""
    try:
        oauth.revoke_token(credential_set=held, token=held.refresh_token)
    except AccountingOAuthError as error:
        logger.warning(
            "Connection %s: revoking its old refresh token failed (%s)",
            held.connection_id,
            error.kind,
        )
        return False
    return True


def note_revocation(event: HistoryEvent | None, *, revoked: bool) -> None:
    """Add the revocation's outcome to the history event of the change that dropped it."""
    if event is not None:
        details = {**event.details, "revoked": revoked, "revoke_failed": not revoked}
        HistoryEvent.objects.filter(pk=event.pk).update(details=details)


def revoke_after_commit(held: HeldToken | None, *, event: HistoryEvent | None = None) -> None:
    """Revoke `held` once the current transaction commits (nothing when it rolls back)."""
    if held is None:
        return

    @sensitive_variables()
    def run() -> None:
        note_revocation(event, revoked=revoke(held))

    transaction.on_commit(run)
