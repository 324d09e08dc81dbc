"""A Sage API client for a linked connection, refreshing its access token as needed."""

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager

from django.views.decorators.debug import sensitive_variables

from integrations.accounting import AccountingClient, ApiAuth, accounting_slot
from integrations.connections.refresh import check_usable, connection_refresh
from integrations.models import Connection


def connection_ensure_fresh(*, connection: Connection) -> Connection:
    """Return the connection with an access token valid for over a minute, refreshing if not."""
    check_usable(connection)  # fail fast: no HTTP for a connection that must relink
    if connection.access_token_is_fresh:
        return connection
    return connection_refresh(connection=connection)


def connection_client(*, connection: Connection, budget: float | None = None) -> AccountingClient:
    """Return an API client that refreshes the connection's token before each call as needed.

    When Sage answers 401 to a token we hold as fresh (revoked early, clock skew),
    the client refreshes once under the row lock, unless another worker already
    replaced that token, and retries the call once. `budget`: the seconds all of
    the client's calls may take, waits included (a page passes SAGE_PAGE_BUDGET).

    Its calls raise AccountingApiError, or a TokenError when the token cannot be refreshed.
    """
    check_usable(connection)
    current = {"connection": connection}

    @sensitive_variables()
    def auth() -> ApiAuth:
        fresh = connection_ensure_fresh(connection=current["connection"])
        current["connection"] = fresh
        return _api_auth(fresh)

    @sensitive_variables()
    def renew(rejected: ApiAuth) -> None:
        current["connection"] = connection_refresh(
            connection=current["connection"], rejected_access_token=rejected.access_token
        )

    return AccountingClient(
        auth,
        api_version=connection.api_version,
        renew=renew,
        budget=budget,
        slot=connection_slot(connection),
    )


@sensitive_variables()
def connection_fixed_client(
    *,
    connection: Connection,
    budget: float | None = None,
    renew: Callable[[ApiAuth], None] | None = None,
) -> AccountingClient:
    """Return a client with an access token made fresh now, for a few calls at once.

    It touches the database only here: its calls may run in other threads. The token
    stays valid for over Connection.REFRESH_MARGIN, enough for one page's reads; if
    Sage refuses it early, `renew` is told (and decides, in the caller's thread).
    """
    fresh = connection_ensure_fresh(connection=connection)
    auth = _api_auth(fresh)
    return AccountingClient(
        lambda: auth,
        api_version=fresh.api_version,
        renew=renew,
        budget=budget,
        slot=connection_slot(fresh),
    )


def connection_slot(connection: Connection) -> Callable[[], AbstractContextManager[None]]:
    """What every request of the connection holds while in flight: a slot of its Sage app
    (the client ID) and one of its business (the connection), shared by every worker."""
    return functools.partial(
        accounting_slot, app=connection.credential_set.client_id, business=str(connection.pk)
    )


@sensitive_variables()
def _api_auth(connection: Connection) -> ApiAuth:
    """The credentials a AccountingClient signs its calls with, from a fresh connection."""
    credential_set = connection.credential_set
    return ApiAuth(
        api_version=connection.api_version,
        access_token=connection.access_token,
        business_id=connection.business_id,
        resource_owner_id=connection.resource_owner_id,
        subscription_key=credential_set.subscription_key,
        signing_secret=credential_set.signing_secret,
    )
