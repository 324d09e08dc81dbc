"""The sandbox mounted on the portal's origin: no open redirect, no plain http elsewhere."""

import importlib
import threading
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit
from wsgiref.simple_server import make_server

import pytest
import requests
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

import portal.wsgi
from integrations.linking.services import callback_url
from integrations.sage.http import check_transport
from integrations.sage.sandbox.server import QuietHandler, ThreadingWSGIServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_with_sandbox(settings):
    """Serve portal/wsgi.py's application, as built with SAGE_SANDBOX on, over HTTP."""
    settings.SAGE_SANDBOX = True
    module = importlib.reload(portal.wsgi)
    server = make_server(
        "127.0.0.1",
        0,
        module.application,
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{settings.SAGE_SANDBOX_PREFIX}"
    server.shutdown()
    server.server_close()
    settings.SAGE_SANDBOX = False
    importlib.reload(portal.wsgi)


def approve(sandbox_url: str, redirect_uri: str) -> requests.Response:
    """POST the Approve button as a cross-site form would."""
    query = {
        "response_type": "code",
        "client_id": "any-client",
        "redirect_uri": redirect_uri,
        "state": "s" * 20,
        "filter": "apiv3.1",
    }
    return requests.post(
        f"{sandbox_url}/oauth2/auth/central?{urlencode(query)}",
        data={"decision": "approve", "country": "GB"},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
        timeout=5,
    )


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/collect",
        "http://127.0.0.1:8000/evil",
        "http://127.0.0.1:8000/link/callback/?x=1",
    ],
)
def test_the_portals_sandbox_refuses_any_other_redirect_uri(portal_with_sandbox, redirect_uri):
    # Before: 302 to https://evil.example/collect?code=...
    response = approve(portal_with_sandbox, redirect_uri)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response.headers
    assert "code=" not in response.text


def test_the_portals_sandbox_sends_codes_to_the_portals_callback(portal_with_sandbox):
    response = approve(portal_with_sandbox, callback_url())
    assert response.status_code == HTTPStatus.FOUND
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == callback_url()


def test_with_the_sandbox_on_plain_http_goes_to_the_portals_origin_only(settings):
    settings.SAGE_SANDBOX = True
    settings.PORTAL_BASE_URL = "http://portal.internal:8000"
    check_transport("http://portal.internal:8000/sage-sandbox/token")
    check_transport("http://127.0.0.1:8765/token")  # loopback, as without the sandbox
    for url in (
        "http://evil.example/token",  # before: allowed while the sandbox was on
        "http://portal.internal:8001/sage-sandbox/token",
        "http://portal.internal.evil.example:8000/token",
    ):
        with pytest.raises(ImproperlyConfigured):
            check_transport(url)


def test_check_deploy_fails_while_the_sandbox_is_on(settings):
    settings.SAGE_SANDBOX = True
    errors = run_checks(include_deployment_checks=True)
    assert "portal.E002" in {e.id for e in errors}
    settings.SAGE_SANDBOX = False
    errors = run_checks(include_deployment_checks=True)
    assert "portal.E002" not in {e.id for e in errors}
