"""A Sage Accounting stand-in for `make run` and the tests (see docs/sandbox.md)."""

from integrations.sage.sandbox.core import SageSandbox
from integrations.sage.sandbox.oauth import pkce_challenge
from integrations.sage.sandbox.protocol import RecordedRequest
from integrations.sage.sandbox.server import default_sandbox, mount_sandbox, serve_in_thread

__all__ = [
    "RecordedRequest",
    "SageSandbox",
    "default_sandbox",
    "mount_sandbox",
    "pkce_challenge",
    "serve_in_thread",
]
