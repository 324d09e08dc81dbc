"""Requests and responses of the sandbox's small WSGI layer."""

import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl

import orjson


class Headers(dict):
    """Request headers, looked up without regard to case."""

    def __init__(self, items=()):
        super().__init__()
        for key, value in dict(items).items():
            self[key] = value

    def __setitem__(self, key, value):
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict
    headers: Headers
    form: dict
    route: str = ""
    body: bytes = b""
    received_at: float = 0.0  # time.time() when it arrived (a test reads the gaps)


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list = field(default_factory=list)

    def start(self, start_response):
        phrase = HTTPStatus(self.status).phrase
        headers = [("Content-Type", self.content_type), ("Content-Length", str(len(self.body)))]
        headers += self.headers
        headers.append(("x_request_id", uuid.uuid4().hex))
        start_response(f"{self.status} {phrase}", headers)
        return [self.body]


def json_response(data, status: int = HTTPStatus.OK, headers=None) -> Response:
    body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)  # a page of 200 in 1 ms
    return Response(status, body, "application/json", list(headers or []))


def oauth_error(error: str, description: str, status: int = HTTPStatus.BAD_REQUEST) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def error_array(status: int, data_code: str, message: str, source: str = "") -> Response:
    """Answer with Sage's error shape: a JSON array of error objects."""
    item = {"$severity": "error", "$dataCode": data_code, "$message": message, "$source": source}
    return json_response([item], status)


def html_response(body: str, status: int = HTTPStatus.OK, headers=None) -> Response:
    return Response(status, body.encode(), "text/html; charset=utf-8", list(headers or []))


def read_request(environ, route: str) -> RecordedRequest:
    """Parse a WSGI environ into a RecordedRequest (query and form as flat dicts)."""
    headers = Headers(
        (key[5:].replace("_", "-").title(), value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    )
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    form = {}
    if "application/x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    return RecordedRequest(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=environ.get("PATH_INFO", "") or "/",
        query=query,
        headers=headers,
        form=form,
        route=route,
        body=body,
        received_at=time.time(),
    )
