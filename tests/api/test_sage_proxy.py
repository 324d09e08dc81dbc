"""The read-only Sage proxy against the sandbox: v3.1 and v3.0, refresh, links, refusals."""

from http import HTTPStatus

import pytest
from django.test import Client

from integrations import crypto
from integrations.connections.refresh import connection_deauthorize
from integrations.models import Connection, HistoryEvent
from integrations.sage.versions import ApiVersion
from tests.common.concurrency import run_at_once
from tests.common.db_faults import needs_postgres
from tests.linking.link_flow import expire_access_token

pytestmark = pytest.mark.django_db


def proxy(company, path: str) -> str:
    return f"/api/v1/companies/{company.pk}/sage/{path}"


def api_calls(sandbox) -> list:
    return [r for r in sandbox.requests if r.route == "api"]


@pytest.mark.parametrize("api_version", [ApiVersion.V31, ApiVersion.V30])
def test_reads_ledger_accounts_with_the_versions_headers(
    api_a, org_a, sage_sandbox, link_connection, api_version
):
    connection = link_connection(sage_sandbox, org_a, api_version=api_version)
    response = api_a.get(proxy(connection.company, "ledger_accounts"), {"items_per_page": 5})
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert len(body["$items"]) == 5
    assert body["$back"] is None
    # $next points at the proxy, with Sage's query, never at Sage.
    assert body["$next"] == (
        f"http://testserver/api/v1/companies/{connection.company.pk}/sage/"
        "ledger_accounts?page=2&items_per_page=5"
    )
    second = api_a.get(body["$next"].removeprefix("http://testserver")).json()
    assert second["$back"].endswith("/sage/ledger_accounts?page=1&items_per_page=5")
    assert second["$items"][0]["id"] != body["$items"][0]["id"]
    call = api_calls(sage_sandbox)[-1]
    assert "Api-Key" not in str(call.headers)
    if api_version == ApiVersion.V31:
        assert call.headers["X-Business"] == connection.business_id
    else:
        assert call.headers["X-Site"] == connection.resource_owner_id
        assert call.headers["X-Signature"]
        assert call.path.startswith("/v30/accounts/v3/")


@pytest.mark.parametrize("api_version", [ApiVersion.V31, ApiVersion.V30])
def test_an_expired_access_token_is_refreshed_first(
    api_a, org_a, sage_sandbox, link_connection, api_version
):
    connection = expire_access_token(
        link_connection(sage_sandbox, org_a, api_version=api_version), sage_sandbox
    )
    old = connection.access_token
    response = api_a.get(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.OK
    assert len(sage_sandbox.token_requests(grant_type="refresh_token")) == 1
    connection.refresh_from_db()
    assert connection.access_token != old
    assert connection.status == Connection.Status.LINKED


def test_sages_errors_come_back_wrapped_in_a_problem(api_a, org_a, sage_sandbox, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    response = api_a.get(proxy(connection.company, "ledger_accounts/nope"))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["code"] == "sage_error"
    assert body["sage"]["status"] == 404
    assert body["sage"]["request_id"]
    assert body["sage"]["errors"][0]["$dataCode"] == "RecordNotFound"
    assert "$message" in body["sage"]["errors"][0]


def test_a_sage_error_object_is_wrapped_as_a_list(api_a, org_a, sage_sandbox, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "error_array", status=422, data_code="Invalid", message="No.")
    response = api_a.get(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = response.json()
    assert body["code"] == "sage_error"
    assert body["detail"] == "Sage refused the request; Sage's answer is in `sage`."
    assert [e["$dataCode"] for e in body["sage"]["errors"]] == ["Invalid"]


@pytest.mark.parametrize("resource", ["user", "businesses", "businesses/lead", "nonsense"])
def test_resources_off_the_allowlist_are_refused(
    api_a, org_a, sage_sandbox, link_connection, resource
):
    connection = link_connection(sage_sandbox, org_a)
    response = api_a.get(proxy(connection.company, resource))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "resource_not_allowed"
    assert api_calls(sage_sandbox) == []


def test_the_allowlist_is_a_setting(api_a, org_a, sage_sandbox, link_connection, settings):
    settings.SAGE_PROXY_RESOURCES = ["user"]
    connection = link_connection(sage_sandbox, org_a)
    assert api_a.get(proxy(connection.company, "user")).status_code == HTTPStatus.OK
    response = api_a.get(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_an_answer_over_the_size_cap_is_a_502(
    api_a, org_a, sage_sandbox, link_connection, settings
):
    connection = link_connection(sage_sandbox, org_a)
    whole = api_a.get(proxy(connection.company, "contacts"), {"items_per_page": 5})
    assert whole.status_code == HTTPStatus.OK
    size = len(whole.content)
    settings.SAGE_PROXY_MAX_BYTES = size // 2
    response = api_a.get(proxy(connection.company, "contacts"), {"items_per_page": 5})
    assert response.status_code == HTTPStatus.BAD_GATEWAY
    assert response.json()["code"] == "sage_answer_too_large"
    settings.SAGE_PROXY_MAX_BYTES = size * 2
    ok = api_a.get(proxy(connection.company, "contacts"), {"items_per_page": 5})
    assert ok.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "path",
    [
        "",
        "..",
        "../token",
        "ledger_accounts/../../token",
        "ledger_accounts/%2e%2e/%2e%2e/token",
        "ledger_accounts//x",
        "http://evil.example/x",
        "https:/evil.example",
        "//evil.example/x",
        "ledger_accounts%2F..%2F..%2Ftoken",
        "ledger_accounts\\..\\token",
        "ledger_accounts;x",
        "a/b/c/d/e/f/g/h/i",
    ],
)
def test_traversal_and_absolute_urls_are_refused(api_a, org_a, sage_sandbox, link_connection, path):
    connection = link_connection(sage_sandbox, org_a)
    response = api_a.get(proxy(connection.company, path))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "Not a Sage API resource."
    assert api_calls(sage_sandbox) == []


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get(api_a, org_a, sage_sandbox, link_connection, method):
    connection = link_connection(sage_sandbox, org_a)
    response = getattr(api_a, method)(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert api_calls(sage_sandbox) == []


def test_a_deauthorized_connection_must_relink(api_a, org_a, sage_sandbox, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    connection_deauthorize(connection=connection, reason=HistoryEvent.Reason.SUPPORT)
    response = api_a.get(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.CONFLICT
    assert "relink" in response.json()["detail"]
    assert api_calls(sage_sandbox) == []


def test_a_refused_refresh_deauthorizes_and_answers_409(
    api_a, org_a, sage_sandbox, link_connection
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    sage_sandbox.revoke_all()
    response = api_a.get(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.CONFLICT
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DEAUTHORIZED


def test_a_redirect_is_not_followed(api_a, org_a, sage_sandbox, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "redirect")
    response = api_a.get(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.BAD_GATEWAY
    assert response.json()["status"] == 502
    assert len(api_calls(sage_sandbox)) == 1


def test_another_organizations_company_is_a_404(
    org_b, make_api_key, api_client, org_a, sage_sandbox, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    api_b = api_client(make_api_key(org_b)[1])
    response = api_b.get(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert api_calls(sage_sandbox) == []


def test_without_a_key_nothing_reaches_sage(client, org_a, sage_sandbox, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    assert client.get(proxy(connection.company, "contacts")).status_code == 401
    assert api_calls(sage_sandbox) == []


def test_unreadable_secrets_answer_503_without_calling_sage(
    api_a, org_a, sage_sandbox, link_connection, settings
):
    connection = link_connection(sage_sandbox, org_a)
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key()]  # a key that encrypted nothing
    response = api_a.get(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["status"] == 503
    assert api_calls(sage_sandbox) == []


def test_sages_429_comes_back_with_its_retry_after(
    api_a, org_a, sage_sandbox, link_connection, settings
):
    settings.SAGE_API_MAX_ATTEMPTS = 1  # no wait and retry here: the caller gets the 429
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "status_429", retry_after=7)
    response = api_a.get(proxy(connection.company, "contacts"))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response["Retry-After"] == "7"
    assert response.json()["code"] == "sage_error"
    assert response.json()["sage"]["errors"][0]["$dataCode"] == "TooManyRequests"


@needs_postgres("SQLite has no row locks: select_for_update is a no-op there")
@pytest.mark.django_db(transaction=True)
def test_concurrent_proxy_calls_refresh_once_under_the_lock(
    org_a, make_api_key, sage_sandbox, link_connection
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    _api_key, key = make_api_key(org_a)

    def call_proxy(wait):
        client = Client(headers={"Authorization": f"Api-Key {key}"})
        wait()
        return client.get(proxy(connection.company, "contacts")).status_code

    statuses, errors = run_at_once(4, call_proxy)

    assert errors == []
    assert statuses == [HTTPStatus.OK] * 4
    assert len(sage_sandbox.token_requests(grant_type="refresh_token")) == 1
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.LINKED
