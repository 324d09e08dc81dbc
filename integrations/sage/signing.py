"""The API v3.0 request signature (`X-Signature`), as Sage's PHP and C# signers compute it."""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from urllib.parse import quote

from django.views.decorators.debug import sensitive_variables


def _pct(value: str) -> str:
    # RFC 3986: everything but unreserved characters is percent-encoded.
    return quote(value, safe="~")


def new_nonce() -> str:
    return secrets.token_hex(32)


@sensitive_variables("signing_secret", "access_token", "key")
def request_signature(
    *,
    method: str,
    url: str,
    params: Iterable[tuple[str, str]],
    body: bytes | None,
    nonce: str,
    resource_owner_id: str,
    signing_secret: str,
    access_token: str,
) -> str:
    """Return Base64(HMAC-SHA1(pct(secret)&pct(token), base string)) for one request.

    `url` is the URL without its query; `params` are the query parameters.
    """
    pairs = [(_pct(k), _pct(v)) for k, v in params]
    if body:
        pairs.append(("body", _pct(base64.b64encode(body).decode("ascii"))))
    parameter_string = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    base_string = "&".join(
        [method.upper(), _pct(url), _pct(parameter_string), _pct(nonce), _pct(resource_owner_id)]
    )
    key = f"{_pct(signing_secret)}&{_pct(access_token)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")
