"""integrations.sage.oauth against the Sage sandbox over HTTP."""

import base64
import hashlib
import string
from urllib.parse import parse_qsl, urlsplit

import pytest

from integrations.sage import oauth
from integrations.sage.errors import SageOAuthError
from integrations.sage.versions import ApiVersion
from tests.common.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://testserver/oauth/sage/callback/"


@pytest.fixture
def v31(org_a, sage_sandbox, setup_sage):
    return setup_sage(org_a)[1]


@pytest.fixture
def v30(org_a, sage_sandbox, setup_sage):
    return setup_sage(org_a, version=ApiVersion.V30)[1]


def authorize(credential_set, *, country="GB"):
    verifier, challenge = oauth.pkce_pair()
    url = oauth.authorization_url(
        credential_set=credential_set,
        state="state-123",
        code_challenge=challenge,
        country=country,
        redirect_uri=REDIRECT_URI,
    )
    return dict(parse_qsl(urlsplit(url).query)), verifier


def code_for(sandbox, credential_set, country="GB"):
    query, verifier = authorize(credential_set, country=country)
    redirect = dict(parse_qsl(urlsplit(sandbox.approve(query, country=country)).query))
    return redirect["code"], verifier


def test_pkce_pair_is_s256():
    verifier, challenge = oauth.pkce_pair()
    # 64 random bytes: 86 characters, well inside RFC 7636's 43 to 128.
    assert len(verifier) == 86
    assert set(verifier) <= set(string.ascii_letters + string.digits + "-._~")
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert oauth.pkce_pair()[0] != verifier


@pytest.mark.parametrize(
    ("version", "expect_filter"), [(ApiVersion.V31, True), (ApiVersion.V30, False)]
)
def test_authorization_url_carries_exactly_the_documented_parameters(
    org_a, sage_sandbox, version, expect_filter, setup_sage
):
    credential_set = setup_sage(org_a, version=version)[1]
    query, _verifier = authorize(credential_set)
    expected = {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "country",
        "code_challenge",
        "code_challenge_method",
    } | ({"filter"} if expect_filter else set())
    assert set(query) == expected
    assert query["scope"] == "full_access"
    assert query["code_challenge_method"] == "S256"
    assert query["client_id"] == credential_set.client_id
    assert query["redirect_uri"] == REDIRECT_URI
    assert query.get("filter") == ("apiv3.1" if expect_filter else None)
    assert CLIENT_SECRET not in str(query)


def test_exchange_code_sends_credentials_in_the_body(v31, sage_sandbox):
    code, verifier = code_for(sage_sandbox, v31)
    tokens = oauth.exchange_code(
        credential_set=v31, code=code, code_verifier=verifier, redirect_uri=REDIRECT_URI
    )
    assert tokens.access_token
    assert tokens.refresh_token
    assert tokens.expires_in == 300
    assert tokens.refresh_token_expires_in == 2678400
    [request] = sage_sandbox.token_requests()
    assert request.path == "/token"
    assert request.form["client_id"] == v31.client_id
    assert request.form["client_secret"] == CLIENT_SECRET
    assert request.form["code_verifier"] == verifier
    assert request.headers.get("Accept") == "application/json"
    assert "Authorization" not in request.headers
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in repr(tokens)


def test_exchange_code_v30_returns_the_resource_owner(v30, sage_sandbox):
    code, verifier = code_for(sage_sandbox, v30)
    tokens = oauth.exchange_code(
        credential_set=v30, code=code, code_verifier=verifier, redirect_uri=REDIRECT_URI
    )
    assert tokens.resource_owner_id == sage_sandbox.businesses[0]["id"]
    assert sage_sandbox.token_requests()[0].path == "/v30/token"


def test_refresh_rotates_and_revoke_stops_the_token(v31, sage_sandbox):
    code, verifier = code_for(sage_sandbox, v31)
    first = oauth.exchange_code(
        credential_set=v31, code=code, code_verifier=verifier, redirect_uri=REDIRECT_URI
    )
    second = oauth.refresh_tokens(credential_set=v31, refresh_token=first.refresh_token)
    assert second.refresh_token
    assert second.refresh_token != first.refresh_token
    refresh = sage_sandbox.token_requests("refresh_token")[0]
    assert refresh.form["client_secret"] == CLIENT_SECRET

    oauth.revoke_token(credential_set=v31, token=second.refresh_token)
    with pytest.raises(SageOAuthError) as info:
        oauth.refresh_tokens(credential_set=v31, refresh_token=second.refresh_token)
    assert info.value.kind == "invalid_grant"


def test_refresh_without_a_new_refresh_token(v31, sage_sandbox):
    code, verifier = code_for(sage_sandbox, v31)
    first = oauth.exchange_code(
        credential_set=v31, code=code, code_verifier=verifier, redirect_uri=REDIRECT_URI
    )
    sage_sandbox.refresh_without_new_refresh_token = True
    assert (
        oauth.refresh_tokens(credential_set=v31, refresh_token=first.refresh_token).refresh_token
        is None
    )


def test_wrong_secret_is_invalid_client(v31, sage_sandbox):
    code, verifier = code_for(sage_sandbox, v31)
    sage_sandbox.register_client(v31.client_id, "another-secret")
    with pytest.raises(SageOAuthError) as info:
        oauth.exchange_code(
            credential_set=v31, code=code, code_verifier=verifier, redirect_uri=REDIRECT_URI
        )
    assert (info.value.kind, info.value.error, info.value.retryable) == (
        "invalid_client",
        "invalid_client",
        False,
    )
    assert CLIENT_SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("fault", "options", "kind"),
    [
        ("invalid_grant", {}, "invalid_grant"),
        ("status_500", {}, "unavailable"),
        ("status_429", {"retry_after": 1}, "unavailable"),
        ("html", {}, "bad_response"),
        ("malformed_json", {}, "bad_response"),
        ("slow", {"seconds": 3}, "unavailable"),
    ],
)
def test_failures_become_one_exception_type(v31, sage_sandbox, fault, options, kind):
    sage_sandbox.fail_next("token", fault, **options)
    with pytest.raises(SageOAuthError) as info:
        oauth.refresh_tokens(credential_set=v31, refresh_token="any")
    assert info.value.kind == kind
    assert info.value.retryable is (kind == "unavailable")
    assert "Sage" in str(info.value)
    assert "<" not in str(info.value)


def test_a_redirect_is_not_followed(v31, sage_sandbox):
    target = f"{sage_sandbox.url}/elsewhere"
    sage_sandbox.fail_next("token", "redirect", location=target)
    with pytest.raises(SageOAuthError) as info:
        oauth.refresh_tokens(credential_set=v31, refresh_token="any")
    assert info.value.kind == "bad_response"
    assert [r.path for r in sage_sandbox.requests] == ["/token"]


def test_a_redirect_from_revoke_is_not_followed(v31, sage_sandbox):
    sage_sandbox.fail_next("revoke", "redirect", location=f"{sage_sandbox.url}/elsewhere")
    with pytest.raises(SageOAuthError):
        oauth.revoke_token(credential_set=v31, token="any")
    assert [r.path for r in sage_sandbox.requests] == ["/revoke"]


def test_an_unreachable_endpoint_is_unavailable(v31, settings):
    settings.SAGE_TOKEN_URL = "http://127.0.0.1:9/token"  # discard port: nothing listens
    with pytest.raises(SageOAuthError) as info:
        oauth.refresh_tokens(credential_set=v31, refresh_token="any")
    assert info.value.kind == "unavailable"
    assert info.value.retryable


def test_plain_http_is_refused_off_loopback(v31, settings):
    settings.SAGE_TOKEN_URL = "http://sage.example/token"
    settings.SAGE_SANDBOX = False
    with pytest.raises(Exception, match="https"):
        oauth.refresh_tokens(credential_set=v31, refresh_token="any")


def test_revoke_is_v31_only(v30):
    with pytest.raises(ValueError, match="v3.1"):
        oauth.revoke_token(credential_set=v30, token="any")
