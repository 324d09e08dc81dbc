"""OAuth state of the sandbox: clients, authorization codes, access and refresh tokens."""

import base64
import hashlib
import hmac
import math
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

V31 = "3.1"
V30 = "3.0"
# The values Sage documents for the authorize `country` parameter; its sign-in page
# offers more countries (Portugal, the United Arab Emirates) to pick from.
AUTHORIZE_COUNTRIES = ("GB", "IE", "US", "CA", "DE", "ES", "FR")
SIGN_IN_COUNTRIES = (*AUTHORIZE_COUNTRIES, "PT", "AE")


class OAuthError(Exception):
    """An OAuth error answer: `{"error": ..., "error_description": ...}`."""

    def __init__(self, error: str, description: str, status: int = HTTPStatus.BAD_REQUEST):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    version: str
    scope: str
    resource_owner_id: str
    expires_at: float


@dataclass
class Token:
    client_id: str
    version: str
    scope: str
    resource_owner_id: str
    grant_id: str
    expires_at: float


def pkce_challenge(verifier: str) -> str:
    """Return the S256 challenge of a verifier: base64url(sha256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def with_query(url: str, params: dict) -> str:
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


class OAuthState:
    """The authorization server half of SageSandbox (state lives on the sandbox).

    The annotations below declare the state these methods use; SageSandbox creates it
    (in __init__ and reset()) and provides now().
    """

    _lock: threading.RLock
    clients: dict[str, str]
    open_registration: bool
    redirect_uris: tuple[str, ...] | None  # None: any http(s) URL (the tests' sandbox)
    businesses: list[dict]
    user: dict
    code_lifetime: int
    access_token_lifetime: int
    v30_access_token_lifetime: int
    refresh_token_lifetime: int
    refresh_without_new_refresh_token: bool
    token_answer_overrides: dict[str, object]
    _codes: dict[str, Code]
    _access: dict[str, Token]
    _refresh: dict[str, Token]
    _spent: set[str]
    refreshes: int
    refresh_double_spends: int

    def now(self) -> float:
        raise NotImplementedError  # SageSandbox: its clock plus the advance() offset

    def register_client(self, client_id: str, client_secret: str) -> None:
        with self._lock:
            self.clients[client_id] = client_secret

    def authorize_problems(self, query: dict) -> list[str]:
        """Return why an authorize request cannot go on (empty when it can)."""
        problems = []
        for name in ("client_id", "redirect_uri", "state"):
            if not query.get(name):
                problems.append(f"The {name} parameter is missing.")
        if query.get("response_type") != "code":
            problems.append("The response_type parameter must be 'code'.")
        redirect = urlsplit(query.get("redirect_uri", ""))
        if query.get("redirect_uri") and (
            redirect.scheme not in ("http", "https") or not redirect.netloc
        ):
            problems.append("The redirect_uri must be an absolute http(s) URL.")
        elif self.redirect_uris is not None and query.get("redirect_uri") not in (
            None,
            "",
            *self.redirect_uris,
        ):
            problems.append("This redirect_uri is not registered for the application.")
        country = query.get("country")
        if country and country.upper() not in AUTHORIZE_COUNTRIES:
            problems.append("The country parameter must be one of gb, ie, us, ca, de, es, fr.")
        method = query.get("code_challenge_method")
        if query.get("code_challenge") and method not in (None, "S256", "plain"):
            problems.append("The code_challenge_method must be S256.")
        client_id = query.get("client_id")
        with self._lock:
            if client_id and not self.open_registration and client_id not in self.clients:
                problems.append("This client_id is not registered.")
        return problems

    def approve(self, query: dict, country: str = "GB") -> str:
        """Approve an authorize request as the Approve button does; return the redirect URL."""
        problems = self.authorize_problems(query)
        country = (country or "").upper()
        if country not in SIGN_IN_COUNTRIES:
            problems.append("This country is not offered.")
        if problems:
            raise ValueError(" ".join(problems))
        version = V31 if query.get("filter") == "apiv3.1" else V30
        with self._lock:
            code = secrets.token_urlsafe(24)
            if version == V31:
                code = f"{country}/{code}"
            self._codes[code] = Code(
                client_id=query["client_id"],
                redirect_uri=query["redirect_uri"],
                code_challenge=query.get("code_challenge", ""),
                code_challenge_method=query.get("code_challenge_method") or "plain",
                version=version,
                scope=query.get("scope") or "full_access",
                resource_owner_id=self.businesses[0]["id"] if self.businesses else "",
                expires_at=self.now() + self.code_lifetime,
            )
        shown_country = country if version == V31 else country.lower()
        params = {"code": code, "country": shown_country, "state": query["state"]}
        return with_query(query["redirect_uri"], params)

    def deny(self, query: dict) -> str:
        """Deny an authorize request as the Deny button does; return the redirect URL."""
        problems = self.authorize_problems(query)
        if problems:
            raise ValueError(" ".join(problems))
        return with_query(
            query["redirect_uri"], {"error": "access_denied", "state": query["state"]}
        )

    def authenticate_client(self, client_id: str, client_secret: str) -> None:
        if not client_id or not client_secret:
            raise OAuthError("invalid_client", "Client authentication failed.")
        with self._lock:
            if client_id not in self.clients:
                if not self.open_registration:
                    raise OAuthError("invalid_client", "Client authentication failed.")
                self.clients[client_id] = client_secret
            if not hmac.compare_digest(self.clients[client_id], client_secret):
                raise OAuthError("invalid_client", "Client authentication failed.")

    def exchange_code(self, *, version: str, client_id: str, form: dict) -> dict:
        """Exchange an authorization code (single use, whatever the outcome)."""
        with self._lock:
            code = self._codes.pop(form.get("code", ""), None)
            if code is None:
                raise OAuthError("invalid_grant", "The authorization code is invalid or was used.")
            if self.now() > code.expires_at:
                raise OAuthError("invalid_grant", "The authorization code has expired.")
            if code.client_id != client_id:
                raise OAuthError("invalid_grant", "The code was issued to another client.")
            if code.version != version:
                raise OAuthError("invalid_grant", "The code was issued for another API version.")
            if form.get("redirect_uri") != code.redirect_uri:
                raise OAuthError("invalid_grant", "The redirect_uri does not match.")
            if code.code_challenge:
                verifier = form.get("code_verifier", "")
                if code.code_challenge_method == "S256":
                    verifier = pkce_challenge(verifier) if verifier else ""
                if not verifier or not hmac.compare_digest(verifier, code.code_challenge):
                    raise OAuthError("invalid_grant", "The code_verifier does not match.")
            return self._issue(
                client_id=client_id,
                version=version,
                scope=code.scope,
                resource_owner_id=code.resource_owner_id,
                grant_id=secrets.token_hex(8),
            )

    def refresh_grant(self, *, version: str, client_id: str, form: dict) -> dict:
        """Refresh: a new access token and, unless told otherwise, a new refresh token."""
        with self._lock:
            token = form.get("refresh_token", "")
            grant = self._refresh.get(token)
            if grant is None and token in self._spent:
                # Spent twice: a refresh already rotated it away (two workers, or a
                # page and a worker, refreshed the same connection with one token).
                self.refresh_double_spends += 1
            if grant is None or self.now() > grant.expires_at:
                raise OAuthError("invalid_grant", "The refresh token is invalid or expired.")
            if grant.client_id != client_id or grant.version != version:
                raise OAuthError("invalid_grant", "The refresh token was issued to another client.")
            rotate = not self.refresh_without_new_refresh_token
            if rotate:
                del self._refresh[token]
                self._spent.add(token)
            self.refreshes += 1
            return self._issue(
                client_id=client_id,
                version=version,
                scope=grant.scope,
                resource_owner_id=grant.resource_owner_id,
                grant_id=grant.grant_id,
                with_refresh=rotate,
            )

    def _issue(
        self,
        *,
        client_id: str,
        version: str,
        scope: str,
        resource_owner_id: str,
        grant_id: str,
        with_refresh: bool = True,
    ) -> dict:
        now = self.now()
        lifetime = self.access_token_lifetime if version == V31 else self.v30_access_token_lifetime
        access = secrets.token_urlsafe(48)
        token = Token(client_id, version, scope, resource_owner_id, grant_id, now + lifetime)
        self._access[access] = token
        body: dict[str, str | int] = {
            "access_token": access,
            "scope": scope,
            "token_type": "bearer",
        }
        body |= {"expires_in": lifetime, "requested_by_id": self.user["id"]}
        if with_refresh:
            refresh = secrets.token_urlsafe(48)
            expires = now + self.refresh_token_lifetime if version == V31 else math.inf
            self._refresh[refresh] = Token(
                client_id, version, scope, resource_owner_id, grant_id, expires
            )
            body["refresh_token"] = refresh
            if version == V31:
                body["refresh_token_expires_in"] = self.refresh_token_lifetime
        if version == V30:
            body["resource_owner_id"] = resource_owner_id
        # What the answer says, not what the sandbox does: its own expiries stay as above.
        return body | self.token_answer_overrides

    def register_tokens(
        self,
        *,
        client_id: str,
        access_token: str,
        refresh_token: str,
        version: str = V31,
        scope: str = "full_access",
    ) -> None:
        """Accept this token pair of `client_id` as if a code exchange had just issued it.

        For benchmarks that seed many linked connections without an authorize round
        trip each; the tokens live as long as issued ones (v3.0 refresh: for ever).
        """
        with self._lock:
            now, owner = self.now(), self.businesses[0]["id"] if self.businesses else ""
            grant = secrets.token_hex(8)
            lifetime = (
                self.access_token_lifetime if version == V31 else self.v30_access_token_lifetime
            )
            self._access[access_token] = Token(
                client_id, version, scope, owner, grant, now + lifetime
            )
            expires = now + self.refresh_token_lifetime if version == V31 else math.inf
            self._refresh[refresh_token] = Token(client_id, version, scope, owner, grant, expires)

    def revoke(self, *, client_id: str, token: str) -> None:
        """Revoke a refresh token (and the access tokens of its grant) or an access token."""
        with self._lock:
            grant = self._refresh.get(token)
            if grant is not None and grant.client_id == client_id:
                self._drop(lambda t: t.grant_id == grant.grant_id)
            access = self._access.get(token)
            if access is not None and access.client_id == client_id:
                del self._access[token]

    def revoke_all(self, client_id: str | None = None) -> None:
        """Act as if the user revoked access at Sage: their tokens stop working."""
        with self._lock:
            self._drop(lambda t: client_id is None or t.client_id == client_id)

    def _drop(self, matches: Callable[[Token], bool]) -> None:
        for store in (self._refresh, self._access):
            for key in [key for key, token in store.items() if matches(token)]:
                del store[key]

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self._access.values():
                token.expires_at = self.now() - 1

    def live_tokens(self) -> set[str]:
        """Every access and refresh token still accepted (for tests that look for leaks)."""
        with self._lock:
            return set(self._access) | set(self._refresh)

    def access_token(self, value: str, version: str) -> Token | None:
        """Return the live access token `value` of this API version, or None."""
        with self._lock:
            token = self._access.get(value or "")
            if token is None or token.version != version or self.now() >= token.expires_at:
                return None
            return token
