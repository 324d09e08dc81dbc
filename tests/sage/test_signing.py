"""The v3.0 request signature against a worked example computed here, independently."""

import base64
import hashlib
import hmac
import string

import pytest

from integrations.sage.signing import new_nonce, request_signature

UNRESERVED = set(string.ascii_letters + string.digits + "-._~")

NONCE = "d6657d14f6d3d9de453ff4b0dc686c6d"
RESOURCE_OWNER_ID = "7c9a4f6e-c5a7-4f5a-9b0c-2d7e1a0f3b11"
SIGNING_SECRET = "s1gn/ing+secret="
ACCESS_TOKEN = "eyJhbGciOi.access/token+value"
URL = "https://api.columbus.sage.com/uki/sageone/accounts/v3/contacts"


def rfc3986(text: str) -> str:
    """Percent-encode every byte outside the unreserved set, written out by hand."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        out.append(char if char in UNRESERVED else f"%{byte:02X}")
    return "".join(out)


def worked_example(method, query, body):
    pairs = [(rfc3986(k), rfc3986(v)) for k, v in query]
    if body is not None:
        pairs.append(("body", rfc3986(base64.b64encode(body).decode())))
    pairs.sort()
    parameter_string = "&".join(k + "=" + v for k, v in pairs)
    base = (
        method.upper()
        + "&"
        + rfc3986(URL)
        + "&"
        + rfc3986(parameter_string)
        + "&"
        + rfc3986(NONCE)
        + "&"
        + rfc3986(RESOURCE_OWNER_ID)
    )
    key = rfc3986(SIGNING_SECRET) + "&" + rfc3986(ACCESS_TOKEN)
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()


@pytest.mark.parametrize(
    ("method", "query", "body"),
    [
        ("get", [], None),
        ("GET", [("page", "2"), ("items_per_page", "20"), ("search", "Smith & Sons/é")], None),
        ("post", [("z", "1"), ("a", "b c")], b'{"contact": {"name": "Acme \xc3\xa9"}}'),
    ],
)
def test_signature_matches_the_worked_example(method, query, body):
    signature = request_signature(
        method=method,
        url=URL,
        params=query,
        body=body,
        nonce=NONCE,
        resource_owner_id=RESOURCE_OWNER_ID,
        signing_secret=SIGNING_SECRET,
        access_token=ACCESS_TOKEN,
    )

    assert signature == worked_example(method, query, body)


def test_signature_depends_on_every_part():
    args = dict(
        method="GET",
        url=URL,
        params=[("page", "1")],
        body=None,
        nonce=NONCE,
        resource_owner_id=RESOURCE_OWNER_ID,
        signing_secret=SIGNING_SECRET,
        access_token=ACCESS_TOKEN,
    )
    reference = request_signature(**args)
    changes = {
        "method": "POST",
        "url": URL + "x",
        "params": [("page", "2")],
        "body": b"{}",
        "nonce": NONCE + "0",
        "resource_owner_id": "other",
        "signing_secret": "other",
        "access_token": "other",
    }
    for name, value in changes.items():
        assert request_signature(**{**args, name: value}) != reference, name


def test_nonces_are_random_hex_of_32_bytes():
    first, second = new_nonce(), new_nonce()

    assert first != second
    assert len(bytes.fromhex(first)) == 32
