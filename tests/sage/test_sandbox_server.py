"""The sandbox speaks HTTP/1.1 with keep-alive, as Sage does: one connection serves one
request after another, so a client's pooled connection is reused, not opened per call."""

import http.client
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db


def open_connection(sandbox) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection(urlsplit(sandbox.url).netloc, timeout=5)
    connection.connect()
    return connection


def answer(connection, method, path, body=None, headers=None):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.version, response.read()


def test_one_connection_serves_one_request_after_another(sage_sandbox):
    connection = open_connection(sage_sandbox)
    socket = connection.sock

    first = answer(connection, "GET", "/v3.1/user")
    second = answer(connection, "GET", "/v3.1/user")

    assert first[:2] == second[:2] == (401, 11)  # no token; answered in HTTP/1.1
    assert connection.sock is socket  # the same connection, still open
    assert [r.path for r in sage_sandbox.requests][-2:] == ["/v3.1/user", "/v3.1/user"]


def test_a_body_the_answer_did_not_read_is_not_taken_for_the_next_request(sage_sandbox):
    connection = open_connection(sage_sandbox)
    socket = connection.sock
    junk = b"GET /v3.1/contacts HTTP/1.1\r\n\r\n" * 50  # would parse as requests if left

    status, _, _ = answer(connection, "POST", "/v3.1/user", body=junk)
    after = answer(connection, "GET", "/v3.1/user")

    assert status in (401, 404, 405)
    assert after[:2] == (401, 11)
    assert connection.sock is socket
    assert "/v3.1/contacts" not in [r.path for r in sage_sandbox.requests]


def test_a_client_that_asks_to_close_gets_the_connection_closed(sage_sandbox):
    connection = open_connection(sage_sandbox)

    connection.request("GET", "/v3.1/user", headers={"Connection": "close"})
    response = connection.getresponse()
    response.read()

    assert response.will_close
    assert connection.sock is None  # http.client closed it, as the answer said
