"""The Sage sandbox fixtures (see docs/sandbox.md).

- `sage_sandbox`: a fresh `SageSandbox` (state reset: no clients, open registration,
  one business, no recorded requests, no faults, real clock) served over HTTP on
  127.0.0.1 from a session-wide thread. Every `SAGE_*` URL setting points at it
  (SAGE_AUTHORIZE_URL, SAGE_TOKEN_URL, SAGE_REVOKE_URL, SAGE_API_URL,
  SAGE_V30_TOKEN_URL, SAGE_V30_API_URL) and SAGE_HTTP_TIMEOUT is 2 seconds.
  Its `.url` is the sandbox root, e.g. `http://127.0.0.1:41234`. Use
  `sage_sandbox.fail_next(...)`, `.requests`, `.token_requests()`, `.advance(s)`.
- `sage_sandbox_url`: the same root URL, as a string (it sets everything up too).
"""

import pytest

from integrations.sage.sandbox import SageSandbox, serve_in_thread


@pytest.fixture(scope="session")
def sage_sandbox_server():
    """Serve one SageSandbox for the whole session (each test resets it)."""
    server = serve_in_thread(SageSandbox())
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sage_sandbox(sage_sandbox_server, settings):
    sandbox = sage_sandbox_server.sandbox
    sandbox.reset()
    url = sage_sandbox_server.url
    sandbox.url = url
    settings.SAGE_AUTHORIZE_URL = f"{url}/oauth2/auth/central"
    settings.SAGE_TOKEN_URL = f"{url}/token"
    settings.SAGE_REVOKE_URL = f"{url}/revoke"
    settings.SAGE_API_URL = f"{url}/v3.1"
    settings.SAGE_V30_TOKEN_URL = f"{url}/v30/token"
    settings.SAGE_V30_API_URL = f"{url}/v30/accounts/v3"
    settings.SAGE_HTTP_TIMEOUT = 2
    yield sandbox
    sandbox.reset()


@pytest.fixture
def sage_sandbox_url(sage_sandbox) -> str:
    return sage_sandbox.url
