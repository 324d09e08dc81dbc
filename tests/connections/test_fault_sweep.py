"""Fault sweep: Sage's token endpoint and API failing every way the sandbox can fail.

Slow, 500, HTML, malformed JSON, 429 and a redirect to another host, during
the code exchange, a refresh, the credentials check, an unlink and a live-data
read: a clear error each time, nothing half-written, and no secret sent
anywhere but the configured URL (a trap server stands at the redirect target).
"""

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse

from integrations.connections.errors import TokenError
from integrations.connections.refresh import connection_refresh
from integrations.models import (
    Connection,
    CredentialSet,
    HistoryEvent,
)
from tests.linking.link_flow import expire_access_token

pytestmark = pytest.mark.django_db

# (kind, options, what the portal makes of it)
FAULTS = [
    ("status_500", {}, "unavailable"),
    ("status_429", {"retry_after": 0}, "unavailable"),
    ("html", {}, "bad_response"),
    ("malformed_json", {}, "bad_response"),
    ("slow", {"seconds": 2}, "unavailable"),
    ("redirect", {}, "bad_response"),
]
FAULT_IDS = [kind for kind, _, _ in FAULTS]


class _Trap(BaseHTTPRequestHandler):
    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append((self.command, self.path, dict(self.headers), length))
        body = b'{"access_token": "stolen", "token_type": "bearer", "expires_in": 300}'
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _record

    def log_message(self, format, *args):
        pass


@pytest.fixture
def trap():
    """Another host on loopback that answers like Sage and records whoever calls it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    server.received = []
    server.url = f"http://127.0.0.1:{server.server_port}/collect"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fast(settings, sage_sandbox):
    # Short waits so that "slow" times out quickly and 429 retries do not sleep.
    settings.SAGE_HTTP_TIMEOUT = 1
    settings.SAGE_RETRY_WAIT_CAP = 0
    return sage_sandbox


def fail(sandbox, route, kind, options, trap, times=1):
    if kind == "redirect":
        options = {**options, "location": trap.url}
    sandbox.fail_next(route, kind, times=times, **options)


def assert_secrets_went_only_to_sage(sandbox, trap):
    assert trap.received == []
    routes = ("/oauth2/auth/central", "/token", "/v30/token", "/revoke")
    for request in sandbox.requests:
        assert request.path in routes or request.path.startswith(("/v3.1/", "/v30/")), request.path


@pytest.fixture
def company(org_a, fast, make_integration, make_credential_set, make_company):
    make_credential_set(make_integration(org_a), fast)
    return make_company(org_a, "Fault Ltd")


@pytest.mark.parametrize(("kind", "options", "reason"), FAULTS, ids=FAULT_IDS)
def test_code_exchange_fault(client, company, fast, trap, kind, options, reason):
    start = reverse("integrations:link_country", args=[company.link_token, "sage"])
    query = dict(parse_qsl(urlsplit(client.post(start, {"country": "GB"})["Location"]).query))
    callback = urlsplit(fast.approve(query, country="GB"))
    fail(fast, "token", kind, options, trap)

    response = client.get(f"{callback.path}?{callback.query}")

    assert response.status_code == HTTPStatus.FOUND
    page = client.get(response["Location"])
    assert page.status_code == HTTPStatus.OK
    assert b'data-result="failed"' in page.content
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.PENDING_AUTH
    assert connection.access_token == connection.refresh_token == ""
    assert connection.last_error
    failure = HistoryEvent.objects.get(company=company, kind=HistoryEvent.Kind.LINK_FAILED)
    assert failure.details == {"reason": reason}
    assert_secrets_went_only_to_sage(fast, trap)


@pytest.mark.parametrize(("kind", "options", "reason"), FAULTS, ids=FAULT_IDS)
@pytest.mark.parametrize(("version", "route"), [("3.1", "token"), ("3.0", "v30_token")])
def test_refresh_fault(org_a, fast, trap, kind, options, reason, version, route, link_connection):
    connection = link_connection(fast, org_a, api_version=version)
    connection = expire_access_token(connection, fast)
    before = (connection.access_token, connection.refresh_token)
    fail(fast, route, kind, options, trap)

    with pytest.raises(TokenError):
        connection_refresh(connection=connection)

    connection.refresh_from_db()
    # Nothing half-written: the old tokens stay, the connection stays linked, it says why.
    assert (connection.access_token, connection.refresh_token) == before
    assert connection.status == Connection.Status.LINKED
    assert connection.last_error
    assert_secrets_went_only_to_sage(fast, trap)
    if kind != "slow":
        # The refresh token was not spent: the next refresh works.
        assert connection_refresh(connection=connection).access_token != before[0]


@pytest.mark.parametrize(("kind", "options", "reason"), FAULTS, ids=FAULT_IDS)
def test_credentials_check_fault(admin_client, company, fast, trap, kind, options, reason):
    fail(fast, "token", kind, options, trap)
    before = list(CredentialSet.objects.values_list("pk", "client_id", "updated_at"))

    response = admin_client.post(reverse("integrations:credentials_check"), follow=True)

    assert response.status_code == HTTPStatus.OK
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1
    assert "accepted" not in messages[0].lower()
    assert list(CredentialSet.objects.values_list("pk", "client_id", "updated_at")) == before
    assert_secrets_went_only_to_sage(fast, trap)


@pytest.mark.parametrize(("kind", "options", "reason"), FAULTS, ids=FAULT_IDS)
def test_unlink_with_revoke_fault(
    admin_client, org_a, fast, trap, kind, options, reason, link_connection
):
    connection = link_connection(fast, org_a)
    fail(fast, "revoke", kind, options, trap)

    response = admin_client.post(
        reverse("integrations:connection_unlink", args=[connection.company_id])
    )

    assert response.status_code == HTTPStatus.FOUND
    connection.refresh_from_db()
    # Unlinked locally, and then with no token kept: never one without the other.
    assert connection.status == Connection.Status.UNLINKED
    assert connection.access_token == connection.refresh_token == ""
    assert_secrets_went_only_to_sage(fast, trap)


API_FAULTS = [f for f in FAULTS if f[0] != "status_429"] + [
    ("status_429", {"retry_after": 0}, "unavailable"),
    ("error_array", {"status": 404, "data_code": "RecordNotFound"}, "api"),
]


@pytest.mark.parametrize(("kind", "options", "reason"), API_FAULTS, ids=[f[0] for f in API_FAULTS])
def test_live_data_fault(admin_client, org_a, fast, trap, kind, options, reason, link_connection):
    connection = link_connection(fast, org_a)
    # Enough failures to outlast the client's retries of a 429, in each of the three reads
    # (one read that came back would be shown beside the others' errors).
    fail(fast, "api", kind, options, trap, times=20)
    before = Connection.objects.filter(pk=connection.pk).values().get()

    response = admin_client.get(
        reverse("integrations:company_detail", args=[connection.company_id])
    )

    assert response.status_code == HTTPStatus.OK
    assert b'data-testid="live-data-error"' in response.content
    after = Connection.objects.filter(pk=connection.pk).values().get()
    assert (after["access_token"], after["refresh_token"], after["status"]) == (
        before["access_token"],
        before["refresh_token"],
        before["status"],
    )
    assert_secrets_went_only_to_sage(fast, trap)


def test_live_data_recovers_after_one_429(admin_client, org_a, fast, trap, link_connection):
    connection = link_connection(fast, org_a)
    fast.fail_next("api", "status_429", retry_after=0)
    response = admin_client.get(
        reverse("integrations:company_detail", args=[connection.company_id])
    )
    assert b'data-testid="business-name"' in response.content
    assert b'data-testid="live-data-error"' not in response.content
