"""The Sage sandbox over real HTTP on loopback."""

import base64
import hashlib
import io
import secrets
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit
from wsgiref.util import setup_testing_defaults

import pytest
import requests

from integrations.sage.sandbox import SageSandbox, mount_sandbox, pkce_challenge
from integrations.sage.versions import ApiVersion
from tests.common import factories

pytestmark = pytest.mark.django_db

CLIENT_ID, SECRET = factories.CLIENT_ID[ApiVersion.V31], factories.CLIENT_SECRET
CALLBACK = "http://testserver/integrations/oauth/callback/"
VERIFIER = "a-verifier-of-enough-length-" + "x" * 30


def authorize_query(version: str = "3.1", **overrides) -> dict:
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "full_access",
        "state": "state-123",
        "code_challenge": pkce_challenge(VERIFIER),
        "code_challenge_method": "S256",
    }
    if version == "3.1":
        query["filter"] = "apiv3.1"
    return {**query, **overrides}


def callback_params(location: str) -> dict:
    assert location.startswith(CALLBACK)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def code_for(sandbox, version: str = "3.1", **overrides) -> str:
    return callback_params(sandbox.approve(authorize_query(version, **overrides)))["code"]


def token_post(sandbox, version: str = "3.1", **form):
    path = "/token" if version == "3.1" else "/v30/token"
    body = {"client_id": CLIENT_ID, "client_secret": SECRET, **form}
    return requests.post(sandbox.url + path, data=body, timeout=5)


def exchange(sandbox, version: str = "3.1", code: str | None = None, **form):
    code = code or code_for(sandbox, version)
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    return token_post(sandbox, version, **{**fields, "code_verifier": VERIFIER, **form})


def api_get(sandbox, path: str, token: str | None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(sandbox.url + path, headers=headers, timeout=5, **kwargs)


def assert_oauth_error(response, error: str):
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def assert_error_array(response, status: int, data_code: str):
    assert response.status_code == status
    [item] = response.json()
    assert item["$severity"] == "error"
    assert item["$dataCode"] == data_code
    assert item["$message"]
    assert "$source" in item
    assert response.headers["x_request_id"]


def test_authorize_page_shows_client_and_preselected_country(sage_sandbox):
    query = authorize_query(country="ie", client_id="<b>evil</b>")
    response = requests.get(sage_sandbox.url + "/oauth2/auth/central", params=query, timeout=5)
    assert response.status_code == HTTPStatus.OK
    assert "Sage Accounting (sandbox)" in response.text
    assert "&lt;b&gt;evil&lt;/b&gt;" in response.text
    assert "<b>evil" not in response.text
    assert '<option value="IE" selected>' in response.text
    assert 'name="code_challenge" value="' + pkce_challenge(VERIFIER) in response.text
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    for label in ("Approve", "Deny", "Country", "Bright Ideas Ltd"):
        assert label in response.text


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": ""},
        {"redirect_uri": ""},
        {"state": ""},
        {"response_type": "token"},
        {"redirect_uri": "javascript:alert(1)"},
    ],
)
def test_invalid_authorize_request_is_a_400_page_without_redirect(sage_sandbox, change):
    query = authorize_query(**change)
    url = sage_sandbox.url + "/oauth2/auth/central"
    page = requests.get(url, params=query, timeout=5, allow_redirects=False)
    post = requests.post(url, data={**query, "decision": "approve"}, allow_redirects=False)
    for response in (page, post):
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("version", "country", "shown"), [("3.1", "DE", "DE"), ("3.0", "IE", "ie"), ("3.0", "GB", "gb")]
)
def test_approve_redirects_with_code_country_and_state(sage_sandbox, version, country, shown):
    query = authorize_query(version)
    form = {**query, "country": country, "decision": "approve"}
    url = sage_sandbox.url + "/oauth2/auth/central"
    response = requests.post(url, data=form, allow_redirects=False, timeout=5)
    assert response.status_code == HTTPStatus.FOUND
    params = callback_params(response.headers["Location"])
    assert params["country"] == shown
    assert params["state"] == "state-123"
    assert params["code"].startswith(f"{country}/") == (version == "3.1")
    assert exchange(sage_sandbox, version, code=params["code"]).status_code == HTTPStatus.OK


def test_deny_redirects_with_access_denied(sage_sandbox):
    form = {**authorize_query(), "country": "GB", "decision": "deny"}
    url = sage_sandbox.url + "/oauth2/auth/central"
    response = requests.post(url, data=form, allow_redirects=False, timeout=5)
    assert response.status_code == HTTPStatus.FOUND
    assert callback_params(response.headers["Location"]) == {
        "error": "access_denied",
        "state": "state-123",
    }


def test_code_exchange_v31(sage_sandbox):
    response = exchange(sage_sandbox)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["refresh_token_expires_in"] == 2678400
    assert body["scope"] == "full_access"
    assert body["requested_by_id"] == sage_sandbox.user["id"]
    assert body["access_token"] != body["refresh_token"]
    assert "resource_owner_id" not in body
    assert response.headers["Cache-Control"] == "no-store"
    assert sage_sandbox.clients == {CLIENT_ID: SECRET}  # open registration


def test_code_exchange_v30_adds_resource_owner(sage_sandbox):
    body = exchange(sage_sandbox, "3.0").json()
    assert body["expires_in"] == 3600
    assert body["resource_owner_id"] == sage_sandbox.businesses[0]["id"]
    assert body["refresh_token"]
    assert "refresh_token_expires_in" not in body


def test_pkce_challenge_is_base64url_sha256_without_padding():
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"abc").digest()).rstrip(b"=").decode()
    assert pkce_challenge("abc") == expected
    assert "=" not in expected


@pytest.mark.parametrize(
    "form",
    [
        {"code_verifier": "not-the-verifier"},
        {"code_verifier": ""},
        {"redirect_uri": CALLBACK + "other/"},
        {"redirect_uri": CALLBACK.upper()},
        {"code": "GB/unknown"},
    ],
)
def test_code_exchange_mismatch_is_invalid_grant(sage_sandbox, form):
    assert_oauth_error(exchange(sage_sandbox, **form), "invalid_grant")


@pytest.mark.parametrize(("issued", "used"), [("3.1", "3.0"), ("3.0", "3.1")])
def test_code_is_bound_to_its_api_version(sage_sandbox, issued, used):
    code = code_for(sage_sandbox, issued)
    assert_oauth_error(exchange(sage_sandbox, used, code=code), "invalid_grant")


def test_code_is_bound_to_its_client(sage_sandbox):
    sage_sandbox.register_client("other-client", "other-secret")
    code = code_for(sage_sandbox)
    response = exchange(
        sage_sandbox, code=code, client_id="other-client", client_secret="other-secret"
    )
    assert_oauth_error(response, "invalid_grant")


def test_code_is_single_use(sage_sandbox):
    code = code_for(sage_sandbox)
    assert exchange(sage_sandbox, code=code).status_code == HTTPStatus.OK
    assert_oauth_error(exchange(sage_sandbox, code=code), "invalid_grant")


@pytest.mark.parametrize(("seconds", "ok"), [(59, True), (61, False)])
def test_code_lives_sixty_seconds(sage_sandbox, seconds, ok):
    start = 1_000_000.0
    sage_sandbox.clock = lambda: start
    code = code_for(sage_sandbox)
    sage_sandbox.clock = lambda: start + seconds
    response = exchange(sage_sandbox, code=code)
    if ok:
        assert response.status_code == HTTPStatus.OK
    else:
        assert_oauth_error(response, "invalid_grant")


def test_wrong_secret_is_invalid_client(sage_sandbox):
    sage_sandbox.register_client(CLIENT_ID, SECRET)
    assert_oauth_error(exchange(sage_sandbox, client_secret="wrong"), "invalid_client")


def test_unknown_client_is_invalid_client_without_open_registration(sage_sandbox):
    sage_sandbox.open_registration = False
    sage_sandbox.register_client("someone-else", "x")
    code = code_for(sage_sandbox, client_id="someone-else")
    response = exchange(sage_sandbox, code=code)
    assert_oauth_error(response, "invalid_client")
    assert CLIENT_ID not in sage_sandbox.clients


def test_http_basic_client_authentication_is_accepted(sage_sandbox):
    code = code_for(sage_sandbox)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    form["code_verifier"] = VERIFIER
    response = requests.post(
        sage_sandbox.url + "/token", data=form, auth=(CLIENT_ID, SECRET), timeout=5
    )
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
def test_bad_grant_type(sage_sandbox, form, error):
    assert_oauth_error(token_post(sage_sandbox, **form), error)


@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_refresh_rotates_the_refresh_token(sage_sandbox, version):
    first = exchange(sage_sandbox, version).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = token_post(sage_sandbox, version, **refresh)
    assert second.status_code == HTTPStatus.OK
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert second.json()["access_token"] != first["access_token"]
    assert_oauth_error(token_post(sage_sandbox, version, **refresh), "invalid_grant")
    again = {"grant_type": "refresh_token", "refresh_token": second.json()["refresh_token"]}
    assert token_post(sage_sandbox, version, **again).status_code == HTTPStatus.OK
    assert len(sage_sandbox.token_requests(grant_type="refresh_token")) == 3


def test_refresh_without_new_refresh_token(sage_sandbox):
    sage_sandbox.refresh_without_new_refresh_token = True
    first = exchange(sage_sandbox).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    for _ in range(2):
        response = token_post(sage_sandbox, **refresh)
        assert response.status_code == HTTPStatus.OK
        assert "refresh_token" not in response.json()


def test_refresh_token_expires_after_31_days(sage_sandbox):
    first = exchange(sage_sandbox).json()
    sage_sandbox.advance(2678400 + 1)
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert_oauth_error(token_post(sage_sandbox, **refresh), "invalid_grant")


def test_revoke_stops_the_refresh_and_access_tokens(sage_sandbox):
    tokens = exchange(sage_sandbox).json()
    response = requests.post(
        sage_sandbox.url + "/revoke",
        data={"client_id": CLIENT_ID, "client_secret": SECRET, "token": tokens["refresh_token"]},
        timeout=5,
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"success": "ok"}
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert_oauth_error(token_post(sage_sandbox, **refresh), "invalid_grant")
    response = api_get(sage_sandbox, "/v3.1/user", tokens["access_token"])
    assert_error_array(response, HTTPStatus.UNAUTHORIZED, "Unauthorized")


def test_revoke_needs_the_client_secret(sage_sandbox):
    tokens = exchange(sage_sandbox).json()
    form = {"client_id": CLIENT_ID, "client_secret": "wrong", "token": tokens["refresh_token"]}
    response = requests.post(sage_sandbox.url + "/revoke", data=form, timeout=5)
    assert_oauth_error(response, "invalid_client")
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert token_post(sage_sandbox, **refresh).status_code == HTTPStatus.OK


def test_revoke_all_and_expire_access_tokens(sage_sandbox):
    tokens = exchange(sage_sandbox).json()
    sage_sandbox.expire_access_tokens()
    assert api_get(sage_sandbox, "/v3.1/user", tokens["access_token"]).status_code == 401
    sage_sandbox.revoke_all()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert_oauth_error(token_post(sage_sandbox, **refresh), "invalid_grant")


@pytest.mark.parametrize(
    ("seconds", "status"), [(299, HTTPStatus.OK), (301, HTTPStatus.UNAUTHORIZED)]
)
def test_access_token_lives_300_seconds(sage_sandbox, seconds, status):
    token = exchange(sage_sandbox).json()["access_token"]
    sage_sandbox.advance(seconds)
    assert api_get(sage_sandbox, "/v3.1/user", token).status_code == status


@pytest.mark.parametrize("token", [None, "unknown-token"])
def test_api_without_a_live_token_is_a_401_error_array(sage_sandbox, token):
    response = api_get(sage_sandbox, "/v3.1/businesses", token)
    assert_error_array(response, HTTPStatus.UNAUTHORIZED, "Unauthorized")


def test_v30_token_does_not_open_the_v31_api(sage_sandbox):
    token = exchange(sage_sandbox, "3.0").json()["access_token"]
    assert api_get(sage_sandbox, "/v3.1/user", token).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("resource", ["ledger_accounts", "contacts"])
def test_pagination_over_three_pages(sage_sandbox, resource):
    token = exchange(sage_sandbox).json()["access_token"]
    per_page = 20 if resource == "ledger_accounts" else 10
    path, seen, pages = f"/{resource}?items_per_page={per_page}", [], []
    while path:
        body = api_get(sage_sandbox, "/v3.1" + path, token).json()
        pages.append(body)
        seen += [item["id"] for item in body["$items"]]
        path = body["$next"]
    assert len(pages) == 3
    assert [page["$page"] for page in pages] == [1, 2, 3]
    assert pages[0]["$back"] is None
    assert pages[1]["$next"] == f"/{resource}?page=3&items_per_page={per_page}"
    assert pages[2]["$back"] == f"/{resource}?page=2&items_per_page={per_page}"
    assert all(page["$itemsPerPage"] == per_page for page in pages)
    assert len(seen) == len(set(seen)) == pages[0]["$total"]
    item = pages[0]["$items"][0]
    for key in ("id", "displayed_as", "$path", "created_at", "updated_at", "name"):
        assert item[key]


def test_ledger_account_and_contact_fields(sage_sandbox):
    token = exchange(sage_sandbox).json()["access_token"]
    accounts = api_get(sage_sandbox, "/v3.1/ledger_accounts?items_per_page=200", token).json()
    assert 40 <= accounts["$total"] == len(accounts["$items"]) <= 50
    account = accounts["$items"][0]
    assert {"nominal_code", "ledger_account_type", "name"} <= account.keys()
    assert {"id", "displayed_as"} <= account["ledger_account_type"].keys()
    contact = api_get(sage_sandbox, "/v3.1/contacts", token).json()["$items"][0]
    for key in ("name", "reference", "email", "contact_types", "currency", "balance"):
        assert contact[key]
    one = api_get(sage_sandbox, "/v3.1" + contact["$path"], token).json()
    assert one == contact


@pytest.mark.parametrize(("query", "per_page"), [("items_per_page=500", 200), ("", 20)])
def test_items_per_page_defaults_to_20_and_stops_at_200(sage_sandbox, query, per_page):
    token = exchange(sage_sandbox).json()["access_token"]
    body = api_get(sage_sandbox, f"/v3.1/ledger_accounts?{query}", token).json()
    assert body["$itemsPerPage"] == per_page


def test_bad_page_is_a_400_error_array(sage_sandbox):
    token = exchange(sage_sandbox).json()["access_token"]
    response = api_get(sage_sandbox, "/v3.1/contacts?page=two", token)
    assert_error_array(response, HTTPStatus.BAD_REQUEST, "InvalidParameter")


def test_x_business_chooses_the_business(sage_sandbox):
    lead, other = sage_sandbox.set_businesses(2)
    token = exchange(sage_sandbox).json()["access_token"]
    listed = api_get(sage_sandbox, "/v3.1/businesses", token).json()["$items"]
    assert [b["id"] for b in listed] == [lead["id"], other["id"]]
    assert len(lead["id"]) == 32
    detail = api_get(sage_sandbox, f"/v3.1/businesses/{other['id']}", token).json()
    assert detail["name"] == other["name"]
    assert {"address_line_1", "city", "postal_code"} <= detail.keys()
    assert detail["country"]["id"] == "GB"
    assert api_get(sage_sandbox, "/v3.1/businesses/lead", token).json()["id"] == lead["id"]

    def first_account(headers):
        path = "/v3.1/ledger_accounts"
        return api_get(sage_sandbox, path, token, headers=headers).json()["$items"][0]["id"]

    default = first_account({})
    assert first_account({"X-Business": lead["id"]}) == default
    assert first_account({"X-Business": other["id"]}) != default
    response = api_get(sage_sandbox, "/v3.1/contacts", token, headers={"X-Business": "0" * 32})
    assert_error_array(response, HTTPStatus.NOT_FOUND, "RecordNotFound")


def test_user(sage_sandbox):
    token = exchange(sage_sandbox).json()["access_token"]
    user = api_get(sage_sandbox, "/v3.1/user", token).json()
    for key in ("id", "first_name", "last_name", "email", "locale"):
        assert user[key]


def v30_headers(tokens: dict, **changes) -> dict:
    headers = {
        "Ocp-Apim-Subscription-Key": "subscription",
        "X-Site": tokens["resource_owner_id"],
        "X-Nonce": secrets.token_hex(16),
        "X-Signature": "c2lnbmF0dXJl",
    }
    return {k: v for k, v in {**headers, **changes}.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, HTTPStatus.OK),
        ({"Ocp-Apim-Subscription-Key": None}, HTTPStatus.UNAUTHORIZED),
        ({"X-Nonce": None}, HTTPStatus.UNAUTHORIZED),
        ({"X-Signature": None}, HTTPStatus.UNAUTHORIZED),
        ({"X-Site": None}, HTTPStatus.UNAUTHORIZED),
        ({"X-Site": "f" * 32}, HTTPStatus.FORBIDDEN),
    ],
)
def test_v30_api_needs_its_headers(sage_sandbox, changes, status):
    tokens = exchange(sage_sandbox, "3.0").json()
    headers = v30_headers(tokens, **changes)
    response = api_get(
        sage_sandbox, "/v30/accounts/v3/ledger_accounts", tokens["access_token"], headers=headers
    )
    assert response.status_code == status
    assert response.headers["x_request_id"]
    if status == HTTPStatus.OK:
        assert response.json()["$total"] >= 40
        core = "/v30/core/v3/businesses"
        businesses = api_get(sage_sandbox, core, tokens["access_token"], headers=headers)
        assert businesses.json()["$items"][0]["id"] == tokens["resource_owner_id"]


def fault_check_500(response):
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR


def fault_check_html(response):
    assert response.status_code == HTTPStatus.OK
    assert response.headers["Content-Type"].startswith("text/html")


def fault_check_malformed(response):
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def fault_check_429(response):
    assert_error_array(response, HTTPStatus.TOO_MANY_REQUESTS, "TooManyRequests")
    assert response.headers["Retry-After"] == "7"


def fault_check_invalid_grant(response):
    assert_oauth_error(response, "invalid_grant")


def fault_check_redirect(response):
    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"] == "http://elsewhere.invalid/x"


def fault_check_error_array(response):
    assert_error_array(response, HTTPStatus.UNPROCESSABLE_ENTITY, "Custom")
    assert response.json()[0]["$message"] == "Nope"


FAULTS = [
    ("status_500", {}, fault_check_500),
    ("html", {}, fault_check_html),
    ("malformed_json", {}, fault_check_malformed),
    ("status_429", {"retry_after": 7}, fault_check_429),
    ("invalid_grant", {}, fault_check_invalid_grant),
    ("redirect", {"location": "http://elsewhere.invalid/x"}, fault_check_redirect),
    (
        "error_array",
        {"status": 422, "data_code": "Custom", "message": "Nope"},
        fault_check_error_array,
    ),
]


@pytest.mark.parametrize(("kind", "options", "check"), FAULTS)
def test_token_faults_then_normal_answers(sage_sandbox, kind, options, check):
    code = code_for(sage_sandbox)
    sage_sandbox.fail_next("token", kind, **options)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    first = requests.post(
        sage_sandbox.url + "/token",
        data={**form, "client_id": CLIENT_ID, "client_secret": SECRET, "code_verifier": VERIFIER},
        allow_redirects=False,
        timeout=5,
    )
    check(first)
    assert first.headers["x_request_id"]
    # The fault did not consume the code: the next try goes through.
    assert exchange(sage_sandbox, code=code).status_code == HTTPStatus.OK
    assert len(sage_sandbox.token_requests()) == 2


@pytest.mark.parametrize(("kind", "options", "check"), FAULTS)
def test_api_faults(sage_sandbox, kind, options, check):
    token = exchange(sage_sandbox).json()["access_token"]
    sage_sandbox.fail_next("api", kind, times=2, **options)
    for _ in range(2):
        check(api_get(sage_sandbox, "/v3.1/contacts", token, allow_redirects=False))
    assert api_get(sage_sandbox, "/v3.1/contacts", token).status_code == HTTPStatus.OK


def test_an_api_fault_for_one_resource_spares_the_others(sage_sandbox):
    token = exchange(sage_sandbox).json()["access_token"]
    sage_sandbox.fail_next("api", "status_500", path="contacts")
    assert api_get(sage_sandbox, "/v3.1/ledger_accounts", token).status_code == HTTPStatus.OK
    assert api_get(sage_sandbox, "/v3.1/businesses/lead", token).status_code == HTTPStatus.OK
    failed = api_get(sage_sandbox, "/v3.1/contacts", token)
    assert failed.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert api_get(sage_sandbox, "/v3.1/contacts", token).status_code == HTTPStatus.OK


@pytest.mark.parametrize("route", ["revoke", "v30_token"])
def test_faults_on_other_routes(sage_sandbox, route):
    sage_sandbox.fail_next(route, "status_500")
    path = "/revoke" if route == "revoke" else "/v30/token"
    response = requests.post(sage_sandbox.url + path, data={"client_id": CLIENT_ID}, timeout=5)
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    again = requests.post(sage_sandbox.url + path, data={"client_id": CLIENT_ID}, timeout=5)
    assert again.status_code == HTTPStatus.BAD_REQUEST


def test_slow_fault_outlasts_a_client_timeout(sage_sandbox):
    sage_sandbox.fail_next("token", "slow", seconds=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(sage_sandbox.url + "/token", data={"grant_type": "x"}, timeout=0.1)
    assert exchange(sage_sandbox).status_code == HTTPStatus.OK


@pytest.mark.parametrize(("route", "kind"), [("nowhere", "html"), ("token", "explode")])
def test_fail_next_refuses_unknown_routes_and_kinds(sage_sandbox, route, kind):
    with pytest.raises(ValueError, match="Unknown"):
        sage_sandbox.fail_next(route, kind)


def test_requests_are_recorded(sage_sandbox):
    exchange(sage_sandbox)
    [recorded] = sage_sandbox.token_requests()
    assert recorded.method == "POST"
    assert recorded.path == "/token"
    assert recorded.form["client_secret"] == SECRET
    assert recorded.form["code_verifier"] == VERIFIER
    assert recorded.headers["content-type"] == "application/x-www-form-urlencoded"
    api_get(sage_sandbox, "/v3.1/contacts?page=2", "t", headers={"X-Business": "b"})
    last = sage_sandbox.requests[-1]
    assert last.query == {"page": "2"}
    assert last.headers["X-Business"] == "b"


def test_reset_forgets_everything(sage_sandbox):
    tokens = exchange(sage_sandbox).json()
    sage_sandbox.set_businesses(3)
    sage_sandbox.fail_next("api", "status_500")
    sage_sandbox.reset()
    assert sage_sandbox.requests == []
    assert sage_sandbox.clients == {}
    assert len(sage_sandbox.businesses) == 1
    assert api_get(sage_sandbox, "/v3.1/user", tokens["access_token"]).status_code == 401


def call_wsgi(app, path: str) -> tuple[str, bytes]:
    environ = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(app(environ, start_response))
    return seen["status"], body


def test_mount_sandbox_sends_its_prefix_to_the_sandbox():
    def django_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"django " + environ["PATH_INFO"].encode()]

    sandbox = SageSandbox()
    app = mount_sandbox(django_app, prefix="/sage-sandbox", sandbox=sandbox, redirect_uris=[])
    status, body = call_wsgi(app, "/sage-sandbox/v3.1/user")
    assert status.startswith("401")
    assert sandbox.requests[0].path == "/v3.1/user"
    assert call_wsgi(app, "/sage-sandboxed/") == ("200 OK", b"django /sage-sandboxed/")
    assert call_wsgi(app, "/companies/") == ("200 OK", b"django /companies/")
