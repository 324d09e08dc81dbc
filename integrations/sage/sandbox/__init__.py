"""A Sage Accounting stand-in for `make run` and the tests (see docs/sandbox.md)."""

from .core import SageSandbox
from .oauth import pkce_challenge
from .protocol import RecordedRequest
from .server import default_sandbox, mount_sandbox, serve_in_thread

__all__ = [
    "RecordedRequest",
    "SageSandbox",
    "default_sandbox",
    "mount_sandbox",
    "pkce_challenge",
    "serve_in_thread",
]
