"""Serving the sandbox: in a thread, as its own process, or mounted beside Django."""

import io
import socketserver
import threading
from collections.abc import Iterable, Sequence
from typing import IO, cast
from wsgiref.headers import Headers
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from integrations.sage.sandbox.core import SageSandbox

# An idle kept-alive connection is closed after this long, and its thread ends.
IDLE_SECONDS = 30

_default: SageSandbox | None = None
_default_lock = threading.Lock()


class _KeepAliveServerHandler(ServerHandler):
    """wsgiref's handler, answering in HTTP/1.1 (the connection stays open)."""

    http_version = "1.1"
    headers: Headers  # set by start_response (typeshed does not declare it)
    closing = False  # the client asked to close (or sent a body of unknown length)
    sized = False  # whether the answer said its length (else its end is the connection's)

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        self.sized = "Content-Length" in self.headers
        if self.closing or not self.sized:
            self.headers["Connection"] = "close"


class QuietHandler(WSGIRequestHandler):
    """HTTP/1.1 with keep-alive, as Sage's API: a client's connection serves one request
    after another (wsgiref's own handler closes it after each answer)."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    # The headers and the body go out in two writes: without TCP_NODELAY the body would
    # wait for the client's delayed ACK (up to 40 ms) on a connection kept open.
    disable_nagle_algorithm = True

    def handle(self) -> None:
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except TimeoutError:
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        environ = self.get_environ()
        # The body is read whole first: what the app leaves unread must not be taken for
        # the next request. A body of unknown length ends the connection after it.
        length = self.headers.get("Content-Length", "")
        body: IO[bytes] = io.BytesIO(self.rfile.read(int(length)) if length.isdigit() else b"")
        if self.headers.get("Transfer-Encoding"):
            body, self.close_connection = cast(IO[bytes], self.rfile), True
        answer = cast(IO[bytes], self.wfile)  # socketserver's writer, a BufferedIOBase
        handler = _KeepAliveServerHandler(
            body, answer, self.get_stderr(), environ, multithread=True
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.closing = self.close_connection
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if not handler.sized:
            self.close_connection = True

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
