"""Serving the sandbox: in a thread, as its own process, or mounted beside Django."""

import socketserver
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .core import SageSandbox

_default: SageSandbox | None = None
_default_lock = threading.Lock()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # The tests read sandbox.requests; a line per request is noise.


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (its timeout during a "slow" fault) is expected.
        pass


def serve_in_thread(sandbox: SageSandbox, *, host: str = "127.0.0.1", port: int = 0):
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


def mount_sandbox(django_app, prefix: str = "/sage-sandbox", sandbox: SageSandbox | None = None):
    """Return a WSGI app sending `prefix/...` to the sandbox and everything else to Django."""
    prefix = prefix.rstrip("/")
    target = sandbox or default_sandbox()

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == prefix or path.startswith(prefix + "/"):
            environ = dict(environ)
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = path[len(prefix) :] or "/"
            return target(environ, start_response)
        return django_app(environ, start_response)

    application.sandbox = target
    return application
