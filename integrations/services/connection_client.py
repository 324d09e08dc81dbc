"""A Sage API client for a linked connection, refreshing its access token as needed."""

from django.views.decorators.debug import sensitive_variables

from ..models import Connection
from ..sage.client import ApiAuth, SageClient
from .connections import check_usable, connection_refresh


def connection_ensure_fresh(*, connection: Connection) -> Connection:
    """Return the connection with an access token valid for over a minute, refreshing if not."""
    check_usable(connection)  # fail fast: no HTTP for a connection that must relink
    if connection.access_token_is_fresh:
        return connection
    return connection_refresh(connection=connection)


def connection_client(*, connection: Connection) -> SageClient:
    """Return an API client that refreshes the connection's token before each call as needed.

    Its calls raise SageApiError, or a TokenError when the token cannot be refreshed.
    """
    check_usable(connection)
    current = {"connection": connection}

    @sensitive_variables()
    def auth() -> ApiAuth:
        fresh = connection_ensure_fresh(connection=current["connection"])
        current["connection"] = fresh
        credential_set = fresh.credential_set
        return ApiAuth(
            api_version=fresh.api_version,
            access_token=fresh.access_token,
            business_id=fresh.business_id,
            resource_owner_id=fresh.resource_owner_id,
            subscription_key=credential_set.subscription_key,
            signing_secret=credential_set.signing_secret,
        )

    return SageClient(auth, api_version=connection.api_version)


@sensitive_variables()
def connection_fixed_client(*, connection: Connection) -> SageClient:
    """Return a client with an access token made fresh now, for a few calls at once.

    It touches the database only here (the calls may run in other threads). The token
    stays valid for over Connection.REFRESH_MARGIN: enough for one page's reads.
    """
    fresh = connection_ensure_fresh(connection=connection)
    credential_set = fresh.credential_set
    auth = ApiAuth(
        api_version=fresh.api_version,
        access_token=fresh.access_token,
        business_id=fresh.business_id,
        resource_owner_id=fresh.resource_owner_id,
        subscription_key=credential_set.subscription_key,
        signing_secret=credential_set.signing_secret,
    )
    return SageClient(lambda: auth, api_version=fresh.api_version)
