"""OAuth 2.0 with Sage: authorize URL, code exchange, refresh and revocation.

The token endpoint is called through requests-oauthlib with the client ID and
secret in the form body (as Sage documents it), `Accept: application/json`, a
timeout, and redirects refused: the secret goes to the configured URL and
nowhere else. Token bodies are never logged; `SageOAuthError` messages are our
own words, never the provider's text.
"""

import base64
import hashlib
import ipaddress
import json
import os
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from ..models import ApiVersion
from . import endpoints

SCOPE = "full_access"
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
LOOPBACK_NAMES = {"localhost"}


@dataclass(frozen=True)
class TokenSet:
    # repr=False: a token must never reach a log or an error report.
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)  # None: Sage sent no new one, keep the old
    expires_in: int | None
    refresh_token_expires_in: int | None
    resource_owner_id: str | None


class SageOAuthError(Exception):
    """Sage's token endpoint refused, failed or answered something unusable."""

    KINDS = ("invalid_grant", "invalid_client", "rejected", "unavailable", "bad_response")

    def __init__(self, kind: str, message: str, *, error: str = ""):
        if kind not in self.KINDS:
            raise ValueError(f"Unknown SageOAuthError kind: {kind}")
        super().__init__(message)
        self.kind = kind
        self.error = error
        self.retryable = kind == "unavailable"


def pkce_pair() -> tuple[str, str]:
    """Return a new PKCE (verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of the RFC 7636 alphabet
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    *, credential_set, state: str, code_challenge: str, country: str, redirect_uri: str
) -> str:
    """Build the URL of Sage's authorize page for this credential set."""
    params = {
        "response_type": "code",
        "client_id": credential_set.client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "state": state,
        "country": country.lower(),
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if credential_set.api_version == ApiVersion.V31:
        params["filter"] = "apiv3.1"
    parts = urlsplit(endpoints.authorize_url())
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


def _check_transport(url: str) -> None:
    """Allow https anywhere and plain http only on loopback (the sandbox and the tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host in LOOPBACK_NAMES
    if parts.scheme != "http" or not (loopback or settings.SAGE_SANDBOX):
        raise ImproperlyConfigured(f"Sage URLs must use https: {parts.scheme}://{host}")
    # Our check above replaces oauthlib's https-only one for loopback URLs.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


def _error_kind(code: str) -> str:
    return code if code in ("invalid_grant", "invalid_client") else "rejected"


def _token_body(response: requests.Response) -> dict:
    """Return the JSON token of `response`, or raise SageOAuthError saying what is wrong."""
    if response.status_code >= 500 or response.status_code == 429:
        raise SageOAuthError("unavailable", "Sage's token endpoint is unavailable.")
    try:
        body = json.loads(response.text)
    except ValueError:
        raise SageOAuthError("bad_response", "Sage's token endpoint sent no JSON.") from None
    if not isinstance(body, dict):
        raise SageOAuthError("bad_response", "Sage's token endpoint sent unexpected JSON.")
    if body.get("error"):
        code = str(body["error"])[:64]
        raise SageOAuthError(
            _error_kind(code), "Sage's token endpoint refused the request.", error=code
        )
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        raise SageOAuthError("bad_response", "Sage's token endpoint sent no access token.")
    return body


def _session(client_id: str) -> tuple[OAuth2Session, dict]:
    """Return a session for the token endpoint and the dict its checked answer lands in."""
    session = OAuth2Session(client_id)
    session.max_redirects = 0  # a redirect raises TooManyRedirects before it is followed
    session.trust_env = False  # no proxy from the environment sees the secret
    answer = {}

    def check(response):
        # Runs before oauthlib parses the answer, so its errors never surface.
        answer["body"] = _token_body(response)
        return response

    session.register_compliance_hook("access_token_response", check)
    session.register_compliance_hook("refresh_token_response", check)
    return session, answer


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@sensitive_variables()
def _call_token_endpoint(url: str, call) -> TokenSet:
    _check_transport(url)
    try:
        response_body = call()
    except SageOAuthError:
        raise
    except (requests.Timeout, requests.ConnectionError):
        raise SageOAuthError("unavailable", "Sage's token endpoint could not be reached.") from None
    except requests.TooManyRedirects:
        raise SageOAuthError("bad_response", "Sage's token endpoint answered a redirect.") from None
    except requests.RequestException:
        raise SageOAuthError("unavailable", "Sage's token endpoint could not be reached.") from None
    except (OAuth2Error, ValueError, Warning) as exc:
        code = getattr(exc, "error", "") or ""
        raise SageOAuthError(
            _error_kind(code) if code else "bad_response",
            "Sage's token endpoint sent an unusable answer.",
            error=code,
        ) from None
    refresh = response_body.get("refresh_token")
    owner = response_body.get("resource_owner_id")
    return TokenSet(
        access_token=response_body["access_token"],
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_in=_int_or_none(response_body.get("expires_in")),
        refresh_token_expires_in=_int_or_none(response_body.get("refresh_token_expires_in")),
        resource_owner_id=str(owner) if owner not in (None, "") else None,
    )


@sensitive_variables()
def exchange_code(
    *, credential_set, code: str, code_verifier: str | None, redirect_uri: str
) -> TokenSet:
    """Exchange an authorization code for tokens at the token URL of the set's API version."""
    url = endpoints.token_url(credential_set.api_version)
    session, answer = _session(credential_set.client_id)
    session.redirect_uri = redirect_uri

    @sensitive_variables()
    def call() -> dict:
        extra = {"code_verifier": code_verifier} if code_verifier else {}
        session.fetch_token(
            url,
            code=code,
            include_client_id=True,
            client_secret=credential_set.client_secret,
            headers=dict(JSON_HEADERS),
            timeout=settings.SAGE_HTTP_TIMEOUT,
            **extra,
        )
        return answer["body"]

    try:
        return _call_token_endpoint(url, call)
    finally:
        session.close()


@sensitive_variables()
def refresh_tokens(*, credential_set, refresh_token: str) -> TokenSet:
    """Spend `refresh_token` for a new access token (and, usually, a new refresh token)."""
    url = endpoints.token_url(credential_set.api_version)
    session, answer = _session(credential_set.client_id)

    @sensitive_variables()
    def call() -> dict:
        session.refresh_token(
            url,
            refresh_token=refresh_token,
            headers=dict(JSON_HEADERS),
            timeout=settings.SAGE_HTTP_TIMEOUT,
            client_id=credential_set.client_id,
            client_secret=credential_set.client_secret,
        )
        return answer["body"]

    try:
        return _call_token_endpoint(url, call)
    finally:
        session.close()


@sensitive_variables()
def revoke_token(*, credential_set, token: str) -> None:
    """Revoke a refresh token at SAGE_REVOKE_URL (API v3.1 only)."""
    if credential_set.api_version != ApiVersion.V31:
        raise ValueError("Only API v3.1 tokens can be revoked.")
    url = endpoints.revoke_url()
    _check_transport(url)
    session = requests.Session()
    session.trust_env = False
    try:
        response = session.post(
            url,
            data={
                "client_id": credential_set.client_id,
                "client_secret": credential_set.client_secret,
                "token": token,
            },
            headers=dict(JSON_HEADERS),
            timeout=settings.SAGE_HTTP_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException:
        message = "Sage's revoke endpoint could not be reached."
        raise SageOAuthError("unavailable", message) from None
    finally:
        session.close()
    if response.status_code >= 500 or response.status_code == 429:
        raise SageOAuthError("unavailable", "Sage's revoke endpoint is unavailable.")
    try:
        body = json.loads(response.text)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        code = str(body["error"])[:64]
        raise SageOAuthError(_error_kind(code), "Sage refused to revoke the token.", error=code)
    if response.status_code != 200:
        raise SageOAuthError("bad_response", "Sage's revoke endpoint sent an unusable answer.")
