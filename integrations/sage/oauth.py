"""OAuth 2.0 with Sage: authorize URL, code exchange, refresh and revocation.

The token endpoint is called through requests-oauthlib with the client ID and
secret in the form body (as Sage documents it), `Accept: application/json`, a
timeout, and redirects refused: the secret goes to the configured URL and
nowhere else. Token bodies are never logged; `SageOAuthError` messages are our
own words, never the provider's text.
"""

import base64
import hashlib
import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2 import OAuth2Error

from integrations.sage import endpoints
from integrations.sage.countries import authorize_country
from integrations.sage.errors import OAuthErrorKind, SageOAuthError
from integrations.sage.http import SageOAuthSession, SageSession, check_transport
from integrations.sage.versions import ApiVersion

SCOPE = "full_access"
LIFETIMES = ("expires_in", "refresh_token_expires_in")
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}


class ClientCredentials(Protocol):
    """The part of a credential set that talks to Sage's OAuth endpoints."""

    @property
    def api_version(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...


@dataclass(frozen=True)
class TokenSet:
    # repr=False: a token must never reach a log or an error report.
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)  # None: Sage sent no new one, keep the old
    expires_in: int | None
    refresh_token_expires_in: int | None
    resource_owner_id: str | None


def pkce_pair() -> tuple[str, str]:
    """Return a new PKCE (verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of the RFC 7636 alphabet
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    *,
    credential_set: ClientCredentials,
    state: str,
    code_challenge: str,
    country: str,
    redirect_uri: str,
) -> str:
    """Build the URL of Sage's authorize page for this credential set."""
    params = {
        "response_type": "code",
        "client_id": credential_set.client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if (sage_country := authorize_country(country)) is not None:
        params["country"] = sage_country
    if credential_set.api_version == ApiVersion.V31:
        params["filter"] = "apiv3.1"
    parts = urlsplit(endpoints.authorize_url())
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


def _error_kind(code: str) -> OAuthErrorKind:
    if code in (OAuthErrorKind.INVALID_GRANT, OAuthErrorKind.INVALID_CLIENT):
        return OAuthErrorKind(code)
    return OAuthErrorKind.REJECTED


def _token_body(response: requests.Response) -> dict[str, Any]:
    """Return the JSON token of `response`, or raise SageOAuthError saying what is wrong."""
    if response.status_code >= 500 or response.status_code == 429:
        raise SageOAuthError(OAuthErrorKind.UNAVAILABLE, "Sage's token endpoint is unavailable.")
    if 300 <= response.status_code < 400:
        raise SageOAuthError(
            OAuthErrorKind.BAD_RESPONSE, "Sage's token endpoint answered a redirect."
        )
    try:
        body = json.loads(response.text)
    except ValueError:
        raise SageOAuthError(
            OAuthErrorKind.BAD_RESPONSE, "Sage's token endpoint sent no JSON."
        ) from None
    if not isinstance(body, dict):
        raise SageOAuthError(
            OAuthErrorKind.BAD_RESPONSE, "Sage's token endpoint sent unexpected JSON."
        )
    if body.get("error"):
        code = str(body["error"])[:64]
        raise SageOAuthError(
            _error_kind(code), "Sage's token endpoint refused the request.", error=code
        )
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        raise SageOAuthError(
            OAuthErrorKind.BAD_RESPONSE, "Sage's token endpoint sent no access token."
        )
    return body


def _session(client_id: str) -> tuple[SageOAuthSession, dict[str, dict[str, Any]]]:
    """Return a session for the token endpoint and the dict its checked answer lands in."""
    session = SageOAuthSession(client_id)
    answer: dict[str, dict[str, Any]] = {}

    def check(response: requests.Response) -> requests.Response:
        # Runs before oauthlib parses the answer, so its errors never surface.
        answer["body"] = _with_sane_lifetimes(response, _token_body(response))
        return response

    session.register_compliance_hook("access_token_response", check)
    session.register_compliance_hook("refresh_token_response", check)
    return session, answer


# Sage says 300 s and 31 days; a lifetime beyond a year is clamped to a year.
MAX_LIFETIME = 366 * 24 * 3600


def token_lifetime(value: object) -> int | None:
    """Read a lifetime in seconds from a token answer: clamped to MAX_LIFETIME, None if nonsense.

    Whole seconds from an int, a finite float or a numeric string; infinity and
    anything huge become MAX_LIFETIME; zero, negatives, NaN, booleans and other
    values are treated as absent. Never raises.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if len(value) <= 64 else None
        except ValueError:
            return None
    if isinstance(value, float):
        if math.isnan(value) or value < 1:
            return None
        if value >= MAX_LIFETIME:  # infinity too
            return MAX_LIFETIME
        value = int(value)
    if not isinstance(value, int) or value < 1:
        return None
    return min(value, MAX_LIFETIME)


def _with_sane_lifetimes(response: requests.Response, body: dict[str, Any]) -> dict[str, Any]:
    """Rewrite the answer's lifetimes before oauthlib reads them (it raises on infinity)."""
    sane = dict(body)
    for name in LIFETIMES:
        if name in sane:
            lifetime = token_lifetime(sane[name])
            if lifetime is None:
                del sane[name]
            else:
                sane[name] = lifetime
    if sane != body:
        # As requests-oauthlib's own compliance fixes do.
        response._content = json.dumps(sane).encode()
    return sane


@sensitive_variables()
def _call_token_endpoint(url: str, call: Callable[[], dict[str, Any]]) -> TokenSet:
    # Before oauthlib's own https check, so that a misconfigured URL is reported as such.
    check_transport(url)
    try:
        response_body = call()
    except SageOAuthError:
        raise
    except requests.RequestException:
        raise SageOAuthError(
            OAuthErrorKind.UNAVAILABLE, "Sage's token endpoint could not be reached."
        ) from None
    except (OAuth2Error, ValueError, ArithmeticError, Warning) as exc:
        code = getattr(exc, "error", "") or ""
        raise SageOAuthError(
            _error_kind(code) if code else OAuthErrorKind.BAD_RESPONSE,
            "Sage's token endpoint sent an unusable answer.",
            error=code,
        ) from None
    refresh = response_body.get("refresh_token")
    owner = response_body.get("resource_owner_id")
    return TokenSet(
        access_token=response_body["access_token"],
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_in=token_lifetime(response_body.get("expires_in")),
        refresh_token_expires_in=token_lifetime(response_body.get("refresh_token_expires_in")),
        resource_owner_id=str(owner) if owner not in (None, "") else None,
    )


@sensitive_variables()
def _token_request(
    credential_set: ClientCredentials,
    send: Callable[[SageOAuthSession, str], object],
    *,
    redirect_uri: str | None = None,
) -> TokenSet:
    """POST to the token URL of the set's API version with `send`; return the tokens."""
    url = endpoints.token_url(credential_set.api_version)
    session, answer = _session(credential_set.client_id)
    if redirect_uri is not None:
        session.redirect_uri = redirect_uri

    @sensitive_variables()
    def call() -> dict[str, Any]:
        send(session, url)
        return answer["body"]

    try:
        return _call_token_endpoint(url, call)
    finally:
        session.close()


@sensitive_variables()
def exchange_code(
    *,
    credential_set: ClientCredentials,
    code: str,
    code_verifier: str | None,
    redirect_uri: str,
) -> TokenSet:
    """Exchange an authorization code for tokens at the token URL of the set's API version."""
    extra = {"code_verifier": code_verifier} if code_verifier else {}

    @sensitive_variables()
    def send(session: SageOAuthSession, url: str) -> object:
        return session.fetch_token(
            url,
            code=code,
            include_client_id=True,
            client_secret=credential_set.client_secret,
            headers=dict(JSON_HEADERS),
            **extra,
        )

    return _token_request(credential_set, send, redirect_uri=redirect_uri)


@sensitive_variables()
def refresh_tokens(*, credential_set: ClientCredentials, refresh_token: str) -> TokenSet:
    """Spend `refresh_token` for a new access token (and, usually, a new refresh token)."""

    @sensitive_variables()
    def send(session: SageOAuthSession, url: str) -> object:
        return session.refresh_token(
            url,
            refresh_token=refresh_token,
            headers=dict(JSON_HEADERS),
            client_id=credential_set.client_id,
            client_secret=credential_set.client_secret,
        )

    return _token_request(credential_set, send)


@sensitive_variables()
def revoke_token(*, credential_set: ClientCredentials, token: str) -> None:
    """Revoke a refresh token at SAGE_REVOKE_URL (API v3.1 only)."""
    if credential_set.api_version != ApiVersion.V31:
        raise ValueError("Only API v3.1 tokens can be revoked.")
    url = endpoints.revoke_url()
    check_transport(url)
    try:
        with SageSession() as session:
            response = session.post(
                url,
                data={
                    "client_id": credential_set.client_id,
                    "client_secret": credential_set.client_secret,
                    "token": token,
                },
                headers=dict(JSON_HEADERS),
            )
    except requests.RequestException:
        message = "Sage's revoke endpoint could not be reached."
        raise SageOAuthError(OAuthErrorKind.UNAVAILABLE, message) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise SageOAuthError(OAuthErrorKind.UNAVAILABLE, "Sage's revoke endpoint is unavailable.")
    try:
        body = json.loads(response.text)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        code = str(body["error"])[:64]
        raise SageOAuthError(_error_kind(code), "Sage refused to revoke the token.", error=code)
    if response.status_code != 200:
        raise SageOAuthError(
            OAuthErrorKind.BAD_RESPONSE, "Sage's revoke endpoint sent an unusable answer."
        )
