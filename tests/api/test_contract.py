"""What an integrator relies on (issue 20): codes, request ids, strict input, limits, headers."""

import json
import logging
from http import HTTPStatus

import pytest

from integrations.api.problems import Code
from integrations.models import Company, Connection
from portal.request_ids import RequestIdFilter

pytestmark = pytest.mark.django_db

COMPANIES = "/api/v1/companies"


def post(client, url, data=None, **extra):
    body = data if isinstance(data, str | bytes) else json.dumps(data or {})
    return client.post(url, body, content_type="application/json", **extra)


def assert_problem(response, status: int, code: Code) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


# --- Codes and request ids -------------------------------------------------------------


def test_every_problem_has_its_code(client, api_a, org_a, make_company):
    assert_problem(client.get(COMPANIES), 401, Code.API_KEY_REQUIRED)
    assert_problem(api_a.get(f"{COMPANIES}/999999"), 404, Code.NOT_FOUND)
    assert_problem(api_a.get("/api/v1/nothing"), 404, Code.NOT_FOUND)
    assert_problem(
        api_a.put(COMPANIES, "{}", content_type="application/json"), 405, Code.METHOD_NOT_ALLOWED
    )
    assert_problem(api_a.get(COMPANIES, headers={"Accept": "text/html"}), 406, Code.NOT_ACCEPTABLE)
    assert_problem(
        api_a.post(COMPANIES, "name=x", content_type="text/plain"), 415, Code.UNSUPPORTED_MEDIA_TYPE
    )
    assert_problem(post(api_a, COMPANIES, "{not json"), 400, Code.MALFORMED_BODY)
    assert_problem(post(api_a, COMPANIES, {}), 400, Code.INVALID_REQUEST)
    post(api_a, COMPANIES, {"name": "A", "external_id": "x-1"})
    assert_problem(
        post(api_a, COMPANIES, {"name": "B", "external_id": "x-1"}), 409, Code.EXTERNAL_ID_TAKEN
    )
    company = make_company(org_a)
    company_url = f"{COMPANIES}/{company.pk}/connection/unlink"
    # Not linking yet: a 404 whose code is not_found.
    assert_problem(post(api_a, company_url), 404, Code.NOT_FOUND)


def test_the_code_list_is_in_the_schema(client):
    schema = client.get("/api/v1/schema/?format=json", headers={"Accept": "application/json"})
    text = schema.content.decode()
    for code in Code:
        assert code.value in text


def test_every_member_a_problem_carries_is_in_the_schema(client):
    """The members beside the RFC 9457 ones: `errors` (invalid_request) and `types`
    (unknown_data_type), so that a client generated from the schema reads them."""
    schema = client.get("/api/v1/schema/?format=json", headers={"Accept": "application/json"})
    problem = schema.json()["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "code", "errors", "types"} <= set(problem)
    assert problem["types"]["type"] == "array"


def test_request_id_is_taken_when_sane_else_made(api_a, client):
    mine = api_a.get(COMPANIES, headers={"X-Request-ID": "req-123.abc:9"})
    assert mine["X-Request-ID"] == "req-123.abc:9"
    for insane in ("has space", "x" * 200, "new\nline", "<script>"):
        answer = api_a.get(COMPANIES, headers={"X-Request-ID": insane})
        assert answer["X-Request-ID"] != insane
        assert len(answer["X-Request-ID"]) == 32
    first, second = client.get(COMPANIES), client.get("/")
    assert first["X-Request-ID"]
    assert second["X-Request-ID"]
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_each_log_line_names_its_request(client, caplog, settings):
    settings.API_AUTH_FAILURE_LIMIT = 2
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            answer = client.get(
                COMPANIES,
                headers={"Authorization": "Api-Key abc.wrong", "X-Request-ID": "trace-me-42"},
            )
    assert answer["X-Request-ID"] == "trace-me-42"
    warnings = [r for r in caplog.records if "Repeated failed API key" in r.getMessage()]
    assert [r.request_id for r in warnings] == ["trace-me-42", "trace-me-42"]  # address, prefix


def test_api_answers_are_never_stored(api_a, client):
    assert api_a.get(COMPANIES)["Cache-Control"] == "no-store"
    assert client.get(COMPANIES)["Cache-Control"] == "no-store"  # the 401 too
    assert api_a.get("/api/v1/nothing")["Cache-Control"] == "no-store"


# --- Bodies ------------------------------------------------------------------------------


def test_a_3_mb_body_is_a_413_problem(api_a):
    big = json.dumps({"name": "x" * (3 * 1024 * 1024)})
    assert_problem(post(api_a, COMPANIES, big), 413, Code.BODY_TOO_LARGE)
    assert not Company.objects.exists()


def test_deeply_nested_json_is_a_400_problem(api_a):
    deep = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert_problem(post(api_a, COMPANIES, deep), 400, Code.MALFORMED_BODY)


@pytest.mark.parametrize("body", ['{"name": NaN}', '{"name": Infinity}'])
def test_non_json_constants_are_refused(api_a, body):
    assert_problem(post(api_a, COMPANIES, body), 400, Code.MALFORMED_BODY)


def test_unknown_fields_are_refused_naming_them(api_a):
    body = assert_problem(
        post(api_a, COMPANIES, {"name": "Acme", "externl_id": "typo", "id": 5}),
        400,
        Code.INVALID_REQUEST,
    )
    assert {e["field"] for e in body["errors"]} == {"externl_id", "id"}
    assert not Company.objects.exists()


@pytest.mark.parametrize("name", [123, 1e300, True, ["a"], {"a": 1}])
def test_text_fields_take_strings_only(api_a, name):
    body = assert_problem(post(api_a, COMPANIES, {"name": name}), 400, Code.INVALID_REQUEST)
    assert body["errors"][0]["field"] == "name"


def test_1e999_is_not_a_name(api_a):
    body = assert_problem(post(api_a, COMPANIES, '{"name": 1e999}'), 400, Code.INVALID_REQUEST)
    assert body["errors"] == [{"field": "name", "detail": "Send a string."}]


def test_patch_refuses_unknown_fields_too(api_a, org_a, make_company):
    company = make_company(org_a)
    response = api_a.patch(
        f"{COMPANIES}/{company.pk}", {"nmae": "X"}, content_type="application/json"
    )
    assert_problem(response, 400, Code.INVALID_REQUEST)


# --- Lists -------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "-1", "201", "abc", "1.5", "", "٣"])
def test_invalid_limit_is_refused(api_a, limit):
    body = assert_problem(api_a.get(COMPANIES, {"limit": limit}), 400, Code.INVALID_REQUEST)
    assert body["errors"][0]["field"] == "limit"


def test_invalid_cursor_is_refused(api_a):
    body = assert_problem(api_a.get(COMPANIES, {"cursor": "bogus"}), 400, Code.INVALID_REQUEST)
    assert body["errors"][0]["field"] == "cursor"


def test_limit_and_cursor_page_through(api_a, org_a, make_company):
    for n in range(3):
        make_company(org_a, f"C{n}")
    first = api_a.get(COMPANIES, {"limit": "2"}).json()
    assert len(first["results"]) == 2
    second = api_a.get(first["next"]).json()
    assert len(second["results"]) == 1


def test_exact_external_id_filter(api_a, api_b, org_a, org_b, make_company):
    mine = make_company(org_a, "Mine")
    Company.objects.filter(pk=mine.pk).update(external_id="cust-1")
    Company.objects.filter(pk=make_company(org_a, "Near").pk).update(external_id="cust-10")
    Company.objects.filter(pk=make_company(org_b, "Theirs").pk).update(external_id="cust-1")
    found = api_a.get(COMPANIES, {"external_id": "cust-1"}).json()["results"]
    assert [c["id"] for c in found] == [mine.pk]
    assert api_a.get(COMPANIES, {"external_id": "cust"}).json()["results"] == []


# --- Headers -----------------------------------------------------------------------------


def test_201_has_location(api_a):
    response = post(api_a, COMPANIES, {"name": "Acme"})
    assert response.status_code == HTTPStatus.CREATED
    assert response["Location"].endswith(f"{COMPANIES}/{response.json()['id']}")
    assert api_a.get(response["Location"]).json()["name"] == "Acme"


def test_rate_limit_is_announced(api_client, org_a, make_api_key, settings):
    settings.API_THROTTLE_RATE = "3/min"
    client = api_client(make_api_key(org_a)[1])
    remaining = []
    for _ in range(3):
        answer = client.get(COMPANIES)
        assert answer["RateLimit-Limit"] == "3"
        assert 0 < int(answer["RateLimit-Reset"]) <= 60
        remaining.append(answer["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    throttled = client.get(COMPANIES)
    assert_problem(throttled, 429, Code.RATE_LIMITED)
    assert throttled["RateLimit-Remaining"] == "0"
    assert int(throttled["Retry-After"]) > 0


def test_times_are_utc_with_z_whatever_the_reader_zone(api_a, org_a, make_company):
    make_company(org_a)
    api_a.cookies["tz"] = "Europe/Paris"
    body = api_a.get(COMPANIES).json()["results"][0]
    assert body["created_at"].endswith("Z")
    assert body["link_expires_at"].endswith("Z")


def test_connection_carries_last_error_code(
    api_a, org_a, make_company, make_connection, setup_sage
):
    from integrations.connections.refresh import connection_deauthorize
    from integrations.models import HistoryEvent

    _integration, credential_set = setup_sage(org_a)
    company = make_company(org_a)
    connection = make_connection(company, credential_set)
    connection_deauthorize(connection=connection, reason=HistoryEvent.Reason.INVALID_GRANT)
    body = api_a.get(f"{COMPANIES}/{company.pk}/connection").json()
    assert body["status"] == Connection.Status.DEAUTHORIZED
    assert body["last_error_code"] == "must_relink"
    assert body["last_error"]


def test_the_schema_declares_what_every_operation_may_answer(client, settings):
    schema = client.get(
        "/api/v1/schema/?format=json", headers={"Accept": "application/json"}
    ).json()
    assert schema["servers"] == [{"url": settings.PORTAL_BASE_URL, "description": "This portal"}]
    create = schema["paths"]["/api/v1/companies"]["post"]
    for status in ("400", "401", "404", "405", "406", "409", "413", "415", "422", "429", "500"):
        assert "application/problem+json" in create["responses"][status]["content"], status
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    listing = schema["paths"]["/api/v1/companies"]["get"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
    assert "413" not in listing["responses"]
    assert any(p["name"] == "external_id" for p in listing["parameters"])
    assert "Idempotency-Key" not in str(listing.get("parameters"))
    assert listing["description"]  # written for integrators
    assert schema["components"]["schemas"]["CompanyRequest"]["additionalProperties"] is False
    connection = schema["components"]["schemas"]["Connection"]["properties"]
    assert "last_error_code" in connection
    assert connection["linked_at"]["format"] == "date-time"


def test_problems_without_a_named_code_get_their_status_one():
    from integrations.api.problems import BadGateway, Unavailable, code_of, problem

    assert code_of(Unavailable("down")) == Code.UNAVAILABLE
    assert code_of(BadGateway("odd")) == Code.BAD_GATEWAY
    assert problem(409, "busy").data["code"] == Code.CONFLICT
    assert problem(418, "teapot").data["code"] == Code.INVALID_REQUEST
    assert problem(504, "slow").data["code"] == Code.SERVER_ERROR


def test_djangos_own_log_of_the_answer_names_the_request_too(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(COMPANIES, headers={"X-Request-ID": "after-the-chain"})
        logging.getLogger("test").warning("between requests")
    logged = {r.name: r.request_id for r in caplog.records}
    # Django logs a 4xx once the middleware chain has returned: the id is still known.
    assert logged["django.request"] == "after-the-chain"
    assert logged["test"] == "-"
