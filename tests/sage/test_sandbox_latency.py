"""The sandbox's injected latency and its count of refresh tokens spent twice (the bench)."""

import subprocess
import sys

import pytest
import requests

from integrations.sage.sandbox import SageSandbox
from tests.sage.test_sandbox import CLIENT_ID, SECRET, api_get, exchange, token_post

pytestmark = pytest.mark.django_db


def test_latency_delays_token_and_api_requests_not_the_authorize_page(sage_sandbox):
    waits: list[float] = []
    sage_sandbox.sleep = waits.append  # records the delay instead of sleeping
    sage_sandbox.latency = 0.1
    tokens = exchange(sage_sandbox).json()
    assert api_get(sage_sandbox, "/v3.1/user", tokens["access_token"]).status_code == 200
    assert requests.get(sage_sandbox.url + "/oauth2/auth/central", timeout=5).status_code == 400
    assert waits == [0.1, 0.1]  # the token exchange and the API call, not the authorize page
    assert sage_sandbox.stats()["delayed"] == 2


def test_no_latency_by_default(sage_sandbox):
    sage_sandbox.sleep = waits = []  # type: ignore[assignment] - never called
    exchange(sage_sandbox)
    assert waits == []
    assert sage_sandbox.stats()["delayed"] == 0


def test_a_refresh_token_spent_twice_is_counted(sage_sandbox):
    refresh = exchange(sage_sandbox).json()["refresh_token"]
    first = token_post(sage_sandbox, grant_type="refresh_token", refresh_token=refresh)
    assert first.status_code == 200
    again = token_post(sage_sandbox, grant_type="refresh_token", refresh_token=refresh)
    assert again.json()["error"] == "invalid_grant"
    unknown = token_post(sage_sandbox, grant_type="refresh_token", refresh_token="never-issued")
    assert unknown.json()["error"] == "invalid_grant"
    stats = requests.get(sage_sandbox.url + "/_sandbox/stats", timeout=5).json()
    assert stats["refreshes"] == 1
    assert stats["refresh_double_spends"] == 1  # the unknown token is not a double spend


def test_registered_tokens_work_like_issued_ones(sage_sandbox):
    sage_sandbox.register_client(CLIENT_ID, SECRET)
    sage_sandbox.register_tokens(client_id=CLIENT_ID, access_token="a-1", refresh_token="r-1")
    assert api_get(sage_sandbox, "/v3.1/user", "a-1").status_code == 200
    refreshed = token_post(sage_sandbox, grant_type="refresh_token", refresh_token="r-1")
    assert refreshed.status_code == 200


def test_the_cli_takes_latency_and_tokens(tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("client-a access-a refresh-a\n")
    script = (
        "import sys; from unittest import mock; import integrations.sage.sandbox.__main__ as m\n"
        "with mock.patch.object(m, 'serve_in_thread') as serve:\n"
        "    m.main()\n"
        "sandbox = serve.call_args.args[0]\n"
        "print(sandbox.latency, sorted(sandbox.live_tokens()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, "--latency-ms", "100", "--tokens", str(tokens)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines()[-1] == "0.1 ['access-a', 'refresh-a']"


def test_reset_forgets_latency_and_counters():
    sandbox = SageSandbox()
    sandbox.latency, sandbox.refresh_double_spends = 0.1, 3
    sandbox.reset()
    assert sandbox.stats()["latency_ms"] == 0
    assert sandbox.stats()["refresh_double_spends"] == 0
