"""Serving the sandbox: in a thread, as its own process, or mounted beside Django."""

import socketserver
import threading
from collections.abc import Iterable, Sequence
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from integrations.sage.sandbox.core import SageSandbox

_default: SageSandbox | None = None
_default_lock = threading.Lock()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # The tests read sandbox.requests; a line per request is noise.


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's backlog of 5 drops connections when a benchmark opens many at once.
    request_queue_size = 128
    # Set by serve_in_thread().
    url: str
    sandbox: SageSandbox
    thread: threading.Thread

    def handle_error(self, request, client_address):
        # A client that gave up (its timeout during a "slow" fault) is expected.
        pass


def serve_in_thread(
    sandbox: SageSandbox, *, host: str = "127.0.0.1", port: int = 0
) -> ThreadingWSGIServer:
    """Serve `sandbox` from a daemon thread; return the server (`.url`, `.sandbox`)."""
    server = make_server(
        host, port, sandbox, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    server.url = f"http://{host}:{server.server_port}"
    server.sandbox = sandbox
    sandbox.url = server.url
    thread = threading.Thread(target=server.serve_forever, name="sage-sandbox", daemon=True)
    thread.start()
    server.thread = thread
    return server


def default_sandbox() -> SageSandbox:
    """Return the process-wide sandbox that `make run` mounts (open registration on)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SageSandbox(open_registration=True)
        return _default


class SandboxMount:
    """A WSGI app sending `prefix/...` to `sandbox` and everything else to `app`."""

    def __init__(self, app: WSGIApplication, prefix: str, sandbox: SageSandbox):
        self.app, self.prefix, self.sandbox = app, prefix, sandbox

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        prefix = self.prefix
        path = environ.get("PATH_INFO", "")
        if path == prefix or path.startswith(prefix + "/"):
            environ = dict(environ)
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = path[len(prefix) :] or "/"
            return self.sandbox(environ, start_response)
        return self.app(environ, start_response)


# No return annotation: portal/wsgi.py rebinds its Django `application` to the result.
def mount_sandbox(
    django_app: WSGIApplication,
    prefix: str = "/sage-sandbox",
    sandbox: SageSandbox | None = None,
    *,
    redirect_uris: Sequence[str],
):
    """Return a WSGI app sending `prefix/...` to the sandbox and everything else to Django.

    On the portal's own origin the authorize page sends codes to `redirect_uris`
    only (the portal's callback): any other would make it an open redirect.
    """
    sandbox = sandbox or default_sandbox()
    sandbox.restrict_redirect_uris(redirect_uris)
    return SandboxMount(django_app, prefix.rstrip("/"), sandbox)
