"""The API's read-only pass-through to Sage for one company's connection.

Only GET, only paths of Sage API resources under the connection's own API base
(v3.1, or v3.0's accounts API): no `..`, no absolute URL, no other host. The call
goes through `connection_client`, which refreshes the token under the row lock when
needed and adds the version's headers (X-Business; or v3.0's subscription key,
X-Site and signature). Sage's status and JSON come back as they came, with `$next`
and `$back` made paths under the API base for the caller to turn into its own URLs.

Only the resources of SAGE_PROXY_RESOURCES (the path's first segment) are read: not
the Sage user's own record, nor the list of all the user's businesses. An answer
longer than SAGE_PROXY_MAX_BYTES is not read further (SageAnswerTooLarge).
"""

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from integrations.accounting import AccountingClient
from integrations.connections.client import connection_client
from integrations.models import Connection

# A path of Sage API resources: segments of letters, digits, `_`, `-` and `.`.
SEGMENT = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
MAX_SEGMENTS = 8
LINK_KEYS = ("$next", "$back")


class ProxyPathRefused(Exception):
    """The path is not one of a Sage API resource (traversal, absolute URL, odd characters)."""


class ResourceNotAllowed(Exception):
    """The path is a Sage API resource that the proxy does not read (SAGE_PROXY_RESOURCES)."""


@dataclass(frozen=True)
class ProxyAnswer:
    status: int
    body: Any
    # `$next`/`$back` of a list, as paths under the API base (None: no such page).
    links: dict[str, str | None]
    retry_after: str | None = None
    request_id: str = ""  # Sage's x_request_id


def proxy_path_check(path: str) -> str:
    """Return `path` if it names a Sage API resource the proxy reads; raise ProxyPathRefused
    if it is no resource's path, ResourceNotAllowed if it is not on SAGE_PROXY_RESOURCES."""
    segments = path.split("/")
    if (
        not path
        or len(segments) > MAX_SEGMENTS
        or any(not SEGMENT.fullmatch(s) or s in (".", "..") for s in segments)
    ):
        raise ProxyPathRefused(path)
    if segments[0] not in settings.SAGE_PROXY_RESOURCES:
        raise ResourceNotAllowed(segments[0])
    return path


def _links(client: AccountingClient, body: Any) -> dict[str, str | None]:
    if not isinstance(body, dict):
        return {}
    links: dict[str, str | None] = {}
    for key in LINK_KEYS:
        if key in body:
            link = body[key]
            links[key] = client.relative_path(link) if isinstance(link, str) and link else None
    return links


def sage_proxy_get(
    *, connection: Connection, path: str, query: list[tuple[str, str]]
) -> ProxyAnswer:
    """GET `path` at Sage for the connection.

    Raises ProxyPathRefused, ResourceNotAllowed, TokenError, AccountingApiError
    (AccountingBusy when the ceiling is full, AccountingAnswerTooLarge).
    """
    proxy_path_check(path)
    client = connection_client(connection=connection, budget=float(settings.SAGE_PAGE_BUDGET))
    answer = client.get_raw(path, query, max_bytes=int(settings.SAGE_PROXY_MAX_BYTES))
    return ProxyAnswer(
        status=answer.status,
        body=answer.body,
        links=_links(client, answer.body),
        retry_after=answer.retry_after,
        request_id=answer.request_id,
    )
