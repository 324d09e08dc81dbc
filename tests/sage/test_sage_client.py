"""The Sage API client against the sandbox over HTTP: headers, pages, 429, errors."""

import math
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from integrations.connections.client import connection_client
from integrations.sage.client import ApiAuth, SageClient, retry_wait
from integrations.sage.errors import SageAnswerTooLarge, SageApiError
from integrations.sage.signing import request_signature
from integrations.sage.versions import ApiVersion
from tests.common.factories import NO_SUBSCRIPTION, SIGNING_SECRET, SUBSCRIPTION_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_retries(settings):
    settings.SAGE_RETRY_WAIT_CAP = 0
    settings.SAGE_API_MAX_ATTEMPTS = 3


def api_requests(sandbox):
    return [r for r in sandbox.requests if r.route == "api"]


def test_v31_request_sends_bearer_accept_and_business(sage_sandbox, org_a, link_connection):
    sage_sandbox.set_businesses(2)
    connection = link_connection(sage_sandbox, org_a)
    connection.business_id = sage_sandbox.businesses[1]["id"]
    connection.save()

    business = connection_client(connection=connection).get(f"businesses/{connection.business_id}")

    assert business["name"] == sage_sandbox.businesses[1]["name"]
    request = api_requests(sage_sandbox)[-1]
    assert request.headers["Authorization"] == f"Bearer {connection.access_token}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["X-Business"] == sage_sandbox.businesses[1]["id"]
    assert "Ocp-Apim-Subscription-Key" not in request.headers


def test_v30_request_is_signed_with_subscription_key_and_site(
    sage_sandbox, org_a, settings, link_connection
):
    connection = link_connection(sage_sandbox, org_a, api_version=ApiVersion.V30)
    assert connection.resource_owner_id

    page = connection_client(connection=connection).page("contacts", {"items_per_page": 5})

    assert page.items
    request = api_requests(sage_sandbox)[-1]
    assert request.path.endswith("/contacts")
    assert request.headers["Ocp-Apim-Subscription-Key"] == SUBSCRIPTION_KEY
    assert request.headers["X-Site"] == connection.resource_owner_id
    assert "X-Business" not in request.headers
    expected = request_signature(
        method="GET",
        url=settings.SAGE_V30_API_URL.rstrip("/") + "/contacts",
        params=list(request.query.items()),
        body=None,
        nonce=request.headers["X-Nonce"],
        resource_owner_id=connection.resource_owner_id,
        signing_secret=SIGNING_SECRET,
        access_token=connection.access_token,
    )
    assert request.headers["X-Signature"] == expected


@pytest.mark.parametrize("resource", ["contacts", "ledger_accounts"])
def test_pagination_follows_next_across_three_pages(sage_sandbox, org_a, resource, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    everything = sage_sandbox.items(sage_sandbox.businesses[0], resource)
    per_page = math.ceil(len(everything) / 3)
    assert len(everything) > 2 * per_page  # exactly three pages

    client = connection_client(connection=connection)
    pages = list(client.pages(resource, {"items_per_page": per_page}))

    assert len(pages) == 3
    assert [len(p.items) for p in pages[:2]] == [per_page, per_page]
    assert pages[-1].next_path is None
    assert all(p.total == len(everything) for p in pages)
    ids = [item["id"] for page in pages for item in page.items]
    assert ids == [item["id"] for item in everything]
    assert [r.query.get("page", "1") for r in api_requests(sage_sandbox)] == ["1", "2", "3"]


def test_429_is_retried_after_the_wait(sage_sandbox, org_a, fast_retries, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "status_429", retry_after=30)

    lead = connection_client(connection=connection).get("businesses/lead")

    assert lead["id"] == sage_sandbox.businesses[0]["id"]
    assert len(api_requests(sage_sandbox)) == 2


def test_429_gives_up_after_a_few_tries(sage_sandbox, org_a, fast_retries, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "status_429", times=5, retry_after=1)

    with pytest.raises(SageApiError) as failure:
        connection_client(connection=connection).get("businesses/lead")

    assert failure.value.status == HTTPStatus.TOO_MANY_REQUESTS
    assert failure.value.retryable is True
    assert len(api_requests(sage_sandbox)) == 3


def test_error_array_becomes_one_exception(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "error_array", **NO_SUBSCRIPTION)

    with pytest.raises(SageApiError) as failure:
        connection_client(connection=connection).get("contacts")

    error = failure.value
    assert error.message == "No active subscription"
    assert error.data_code == "AuthorizationFailure"
    assert error.status == HTTPStatus.UNAUTHORIZED
    assert len(error.request_id) >= 8
    assert error.retryable is False


@pytest.mark.parametrize(
    ("kind", "options", "retryable"),
    [
        ("status_500", {}, True),
        ("html", {}, False),
        ("malformed_json", {}, False),
        ("redirect", {"location": "http://attacker.invalid/collect"}, False),
        ("slow", {"seconds": 1.5}, True),
    ],
)
def test_unusable_answers_become_a_clear_error(
    sage_sandbox, org_a, settings, kind, options, retryable, link_connection
):
    settings.SAGE_HTTP_TIMEOUT = 0.5
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", kind, **options)

    with pytest.raises(SageApiError) as failure:
        connection_client(connection=connection).get("businesses/lead")

    assert failure.value.retryable is retryable
    assert str(failure.value)
    assert len(api_requests(sage_sandbox)) == 1  # the redirect was not followed


@pytest.mark.parametrize(
    "link", ["http://attacker.invalid/v3.1/contacts?page=2", "https://example.com/contacts"]
)
def test_next_links_outside_the_api_are_refused(sage_sandbox, org_a, link, link_connection):
    connection = link_connection(sage_sandbox, org_a)

    with pytest.raises(SageApiError):
        connection_client(connection=connection).get(link)

    assert api_requests(sage_sandbox) == []


@pytest.mark.parametrize(
    ("retry_after", "attempt", "expected"),
    [
        ("3", 0, 3.0),
        ("30", 0, 10.0),
        ("0", 2, 0.0),
        (None, 0, 1.0),
        (None, 2, 4.0),
        ("soon", 5, 10.0),
    ],
)
def test_retry_wait_honours_retry_after_within_the_cap(settings, retry_after, attempt, expected):
    settings.SAGE_RETRY_WAIT_CAP = 10
    response = requests.Response()
    response.status_code = HTTPStatus.TOO_MANY_REQUESTS
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after

    assert retry_wait(response, attempt) == expected


def test_get_raw_returns_sages_error_status_and_json(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    answer = connection_client(connection=connection).get_raw("contacts/missing")
    assert answer.status == HTTPStatus.NOT_FOUND
    assert answer.body[0]["$dataCode"] == "RecordNotFound"


@pytest.mark.parametrize("kind", ["redirect", "html"])
def test_get_raw_still_refuses_redirects_and_non_json(sage_sandbox, org_a, link_connection, kind):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", kind)
    with pytest.raises(SageApiError):
        connection_client(connection=connection).get_raw("contacts")
    assert len(api_requests(sage_sandbox)) == 1


def test_relative_path_keeps_links_inside_the_api(sage_sandbox, org_a, link_connection):
    client = connection_client(connection=link_connection(sage_sandbox, org_a))
    assert client.relative_path("/contacts?page=2") == "contacts?page=2"
    assert client.relative_path(f"{client.base_url}/contacts?page=3") == "contacts?page=3"
    with pytest.raises(SageApiError):
        client.relative_path("https://example.com/contacts")


class _Chunked(BaseHTTPRequestHandler):
    """Streams a JSON list in chunks, without Content-Length (as a gzip proxy would)."""

    protocol_version = "HTTP/1.1"
    items = 2000

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        parts = [b'{"$items": ['] + [b'{"id": "%d"},' % n for n in range(self.items)] + [b"{}]}"]
        for part in parts:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(("max_bytes", "too_large"), [(10_000, True), (100_000, False)])
def test_a_streamed_answer_is_read_no_further_than_the_cap(max_bytes, too_large):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Chunked)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        auth = ApiAuth(api_version=ApiVersion.V31, access_token="t")
        client = SageClient(
            lambda: auth,
            api_version=ApiVersion.V31,
            base_url=f"http://127.0.0.1:{server.server_port}/v3.1",
        )
        if too_large:
            with pytest.raises(SageAnswerTooLarge):
                client.get_raw("contacts", max_bytes=max_bytes)
        else:
            answer = client.get_raw("contacts", max_bytes=max_bytes)
            assert len(answer.body["$items"]) == _Chunked.items + 1
    finally:
        server.shutdown()
        server.server_close()
