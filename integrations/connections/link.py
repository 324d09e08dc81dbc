"""Linking a connection: the connection for a trip to Sage, the trip's end (linked, or a
business to choose), a failed trip, and the business choice. The only code, with
`refresh` and `lifecycle`, that writes a Connection row."""

import uuid

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from integrations import accounting
from integrations.accounting import Business, oauth
from integrations.connections.errors import AlreadyLinked, ChoiceTooLate
from integrations.connections.events import transition_announce
from integrations.connections.live_data_cache import live_data_forget
from integrations.connections.refresh import locked_row
from integrations.connections.revocation import (
    held_token,
    revoke_after_commit,
)
from integrations.connections.states import state_after
from integrations.models import Company, Connection, CredentialSet, HistoryEvent, Integration
from integrations.sync.services import sync_request

# What linking writes on the connection (updated_at: auto_now only applies to the
# fields save() is told to write).
LINK_FIELDS = (
    "integration",
    "credential_set",
    "api_version",
    "country",
    "access_token",
    "refresh_token",
    "access_token_expires_at",
    "refresh_token_expires_at",
    "resource_owner_id",
    "business_id",
    "business_name",
    "last_refreshed_at",
    "last_error",
    "last_error_code",
    "status",
    "state",
    "updated_at",
)


def _announce_linked(connection: Connection) -> None:
    transition_announce(
        connection,
        HistoryEvent.Kind.LINKED,
        country=connection.country,
        api_version=connection.api_version,
        business=connection.business_name,
    )
    # A first sync of the company's Sage data, once the link is committed (beside the
    # transition's other effects: the sync engine reads Sage through connections.client,
    # below this module, so the one place of effects cannot name it without a circle).
    transaction.on_commit(lambda: sync_request(connection, "link"))


@sensitive_variables("tokens")
@transaction.atomic
def connection_link(
    *,
    connection: Connection,
    credential_set: CredentialSet,
    tokens: oauth.TokenSet,
    country: str,
    business: Business | None,
) -> Connection:
    """Store a completed trip to Sage: Linked now, or PendingAuth until a business is chosen.

    Raise AlreadyLinked when another browser linked the company meanwhile: its tokens
    are kept rather than silently replaced. `connection` comes with its company and
    organization; every column written here is set from the arguments.
    """
    # The row as it is now, under the lock: its status, and the tokens this trip replaces.
    current = Connection.objects.select_for_update(of=("self",)).select_related("credential_set")
    stored = current.get(pk=connection.pk)
    connection.status = stored.status
    v30 = accounting.is_legacy(credential_set.api_version)
    target = Connection.Status.LINKED if business or v30 else Connection.Status.PENDING_AUTH
    if not connection.can_move_to(target):
        raise AlreadyLinked
    connection.integration = credential_set.integration
    connection.credential_set = credential_set
    connection.api_version = credential_set.api_version
    connection.country = country
    connection.forget_tokens()
    connection.store_tokens(tokens)
    connection.resource_owner_id = tokens.resource_owner_id or ""
    connection.business_id = business.id if business else ""
    connection.business_name = business.name if business else ""
    connection.move_to(target)
    linked = HistoryEvent.Kind.LINKED if connection.is_linked else ""  # announced below
    connection.state = state_after(connection, linked)
    connection.save(update_fields=LINK_FIELDS)
    # A second trip for a company still choosing its business: the first one's tokens go.
    revoke_after_commit(held_token(stored))
    if connection.is_linked:
        _announce_linked(connection)  # the live data is forgotten: maybe another business's
    else:
        live_data_forget(connection.pk)
    return connection


def connection_for_trip(
    *, company: Company, integration: Integration, credential_set: CredentialSet
) -> Connection:
    """The company's connection for a new trip to Sage: its own, or a new PendingAuth one.

    Call it with the company's row locked (two starts at once make one connection).
    """
    connection = Connection.objects.filter(company=company).first()
    if connection is None:
        connection = Connection.objects.create(
            company=company,
            integration=integration,
            credential_set=credential_set,
            api_version=credential_set.api_version,
        )
    return connection


@transaction.atomic
def connection_link_failed(
    *, connection: Connection, integration: Integration, reason: str, message: str, code: str
) -> None:
    """Record a trip to Sage that did not link: `last_error` (untranslated) and the state
    it leads to (cancelled, or failed, unless a business is chosen or it is linked).

    `integration` is the trip's.
    """
    locked = locked_row(connection.pk)
    locked.last_error, locked.last_error_code = message, code
    locked.state = state_after(locked, HistoryEvent.Kind.LINK_FAILED, reason)
    locked.save(update_fields=["last_error", "last_error_code", "state", "updated_at"])
    transition_announce(
        locked,
        HistoryEvent.Kind.LINK_FAILED,
        integration=integration,
        webhook={"reason": reason},
        reason=reason,
    )


@transaction.atomic
def connection_business_choose(*, connection_id: uuid.UUID | str, business: Business) -> Connection:
    """Link the business the customer picked; raise ChoiceTooLate if it is too late."""
    connection = (
        Connection.objects.select_for_update()
        .select_related("company__organization", "integration")
        .filter(pk=connection_id)
        .first()
    )
    if connection is None or connection.status != Connection.Status.PENDING_AUTH:
        raise ChoiceTooLate
    if not connection.access_token:
        raise ChoiceTooLate
    connection.business_id = business.id
    connection.business_name = business.name
    connection.move_to(Connection.Status.LINKED)
    connection.state = state_after(connection, HistoryEvent.Kind.LINKED)
    connection.save(update_fields=["business_id", "business_name", "status", "state", "updated_at"])
    _announce_linked(connection)
    return connection
