"""Option (b) of issue 19, measured by the bench only: the Sage proxy as an async view.

What an ASGI deployment of the proxy would do, served by uvicorn workers: the
database work (the API key, the company, a fresh access token, the slot) through
sync_to_async, as Django's async ORM does itself, and the call to Sage with an
httpx.AsyncClient shared by the process, so a worker waits on many Sage calls at once
without a thread each. The same answer as the DRF view for a 200 (Sage's JSON, `$next`
and `$back` made proxy URLs); it leaves out the throttle and the problem shapes, which
only make the view cheaper than the real one would be. Not part of the portal: the
bench's URLconf mounts it.
"""

import contextlib
import json
from typing import Any

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import AuthenticationFailed

from integrations import selectors
from integrations.accounting import AccountingClient
from integrations.api.authentication import ApiKeyAuthentication
from integrations.connections import proxy as sage_proxy
from integrations.connections.client import (
    _api_auth,
    connection_ensure_fresh,
    connection_slot,
)
from integrations.models import Company

_clients: dict[int, httpx.AsyncClient] = {}


def _client() -> httpx.AsyncClient:
    """One client (its connection pool) per process, made in the worker's event loop."""
    import os

    pid = os.getpid()
    if pid not in _clients:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        _clients[pid] = httpx.AsyncClient(
            timeout=float(settings.SAGE_HTTP_TIMEOUT),
            limits=limits,
            follow_redirects=False,
            trust_env=False,
        )
    return _clients[pid]


def _prepare(request: HttpRequest, pk: int, path: str) -> tuple[Any, Any, Any]:
    """The database part, in one thread hop: key, company, a fresh token, the URL."""
    authenticated = ApiKeyAuthentication().authenticate(request)
    if authenticated is None:
        raise AuthenticationFailed
    organization = authenticated[1].organization
    company = selectors.company_for(organization=organization, pk=pk)
    sage_proxy.proxy_path_check(path)
    connection = connection_ensure_fresh(connection=company.connection)
    auth = _api_auth(connection)
    sage = AccountingClient(lambda: auth, api_version=connection.api_version)
    url = sage.url_for(path)
    query = [(k, v) for k, vs in request.GET.lists() for v in vs]
    headers = sage._headers(auth, "GET", url, query)
    return (sage, url, query, headers), connection_slot(connection), company


async def async_sage_proxy(request: HttpRequest, pk: int, path: str) -> HttpResponse:
    try:
        (sage, url, query, headers), slot, company = await sync_to_async(_prepare)(
            request, pk, path
        )
    except AuthenticationFailed:
        return JsonResponse({"detail": "unauthorized"}, status=401)
    except (Company.DoesNotExist, sage_proxy.ProxyPathRefused, sage_proxy.ResourceNotAllowed):
        return JsonResponse({"detail": "not found"}, status=404)
    with contextlib.ExitStack() as stack:
        stack.enter_context(slot())
        response = await _client().get(url, params=query, headers=headers)
    body = json.loads(response.content)
    if isinstance(body, dict):
        base = f"{settings.PORTAL_BASE_URL}/bench/async-proxy/companies/{company.pk}/sage/"
        for key in ("$next", "$back"):
            if key in body:
                link = body[key]
                body[key] = base + sage.relative_path(link) if link else None
    return JsonResponse(body, status=response.status_code, safe=False)
