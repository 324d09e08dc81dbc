"""integrations.sage.http: the transport check and the sessions every call to Sage uses."""

import ast
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from integrations.sage.http import SageSession, check_transport, plain_http_configured, pool_for

SAGE_PACKAGE = Path(__file__).resolve().parents[2] / "integrations" / "sage"
FORBIDDEN = ("integrations.models", "django.db", "django.urls")


@pytest.mark.parametrize(
    "url",
    [
        "https://oauth.accounting.sage.com/token",
        "http://127.0.0.1:8000/token",
        "http://[::1]:8000/token",
        "http://localhost/token",
    ],
)
def test_https_anywhere_and_http_on_loopback(url, settings):
    settings.SAGE_SANDBOX = False
    check_transport(url)


@pytest.mark.parametrize("url", ["http://oauth.example/token", "ftp://127.0.0.1/token"])
def test_other_transports_are_refused(url, settings):
    settings.SAGE_SANDBOX = False
    with pytest.raises(ImproperlyConfigured):
        check_transport(url)


def test_the_sandbox_allows_plain_http_on_its_own_host(settings):
    settings.SAGE_SANDBOX = True
    settings.PORTAL_BASE_URL = "http://portal.internal:8000"
    check_transport("http://portal.internal:8000/sage-sandbox/token")
    with pytest.raises(ImproperlyConfigured):
        check_transport("ftp://portal.internal/token")


def test_plain_http_configured(settings):
    settings.SAGE_SANDBOX = False
    assert not plain_http_configured()  # the tests' settings: Sage's https URLs
    settings.SAGE_TOKEN_URL = "http://127.0.0.1:8765/token"
    assert plain_http_configured()
    settings.SAGE_TOKEN_URL = "https://oauth.accounting.sage.com/token"
    settings.SAGE_SANDBOX = True
    assert plain_http_configured()


class _CookieRedirect(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen.append(self.headers.get("Cookie"))
        self.send_response(302)
        self.send_header("Location", "/elsewhere")
        self.send_header("Set-Cookie", "session=abc; Path=/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def cookie_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CookieRedirect)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_session_follows_no_redirect_and_keeps_no_cookie(cookie_server):
    url = f"http://127.0.0.1:{cookie_server.server_port}/start"
    with SageSession() as session:
        first = session.get(url, allow_redirects=True)  # asked to follow: still not
        session.get(url)
    assert first.status_code == 302
    assert cookie_server.seen == [None, None]
    assert not session.cookies


def test_a_session_refuses_a_url_outside_the_transport_rules(settings):
    settings.SAGE_SANDBOX = False
    with SageSession() as session, pytest.raises(ImproperlyConfigured):
        session.get("http://oauth.example/token")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    package = "integrations.sage" + "".join(
        f".{part}" for part in path.relative_to(SAGE_PACKAGE).parent.parts
    )
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, [base, node.module or ""]))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize(
    "path", sorted(SAGE_PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(SAGE_PACKAGE))
)
def test_sage_knows_neither_the_orm_nor_the_urlconf(path):
    imported = _imports(path)
    assert not [
        name for name in imported for bad in FORBIDDEN if name == bad or name.startswith(bad + ".")
    ]


def test_the_import_walk_reads_the_sage_package():
    # An empty walk would skip the test above instead of failing it.
    names = {path.name for path in SAGE_PACKAGE.rglob("*.py")}
    assert {"http.py", "oauth.py", "client.py", "versions.py"} <= names


class _KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection open between requests

    def setup(self):
        super().setup()
        self.server.connections += 1

    def do_GET(self):
        self.server.seen.append(self.headers.get("Cookie"))
        self.send_response(200)
        self.send_header("Set-Cookie", f"tenant={len(self.server.seen)}; Path=/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def keepalive_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.connections, server.seen = 0, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _get_in_new_sessions(url: str, times: int) -> None:
    for _ in range(times):
        with SageSession() as session:
            assert session.get(url).status_code == 200


def test_calls_of_one_thread_share_a_kept_alive_connection(keepalive_server):
    url = f"http://127.0.0.1:{keepalive_server.server_port}/v3.1/contacts"

    _get_in_new_sessions(url, 3)

    assert keepalive_server.connections == 1
    # One call's cookie never rides on the next one (another tenant's, maybe).
    assert keepalive_server.seen == [None, None, None]


def test_each_thread_has_its_own_bounded_pool(keepalive_server, settings):
    settings.SAGE_HTTP_POOL_SIZE = 3
    url = f"http://127.0.0.1:{keepalive_server.server_port}/v3.1/contacts"
    threads = [threading.Thread(target=_get_in_new_sessions, args=(url, 2)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert keepalive_server.connections == 2
    assert len(keepalive_server.seen) == 4
    _origin, pool = pool_for(url)  # this thread's, made now with the setting
    assert pool._pool_maxsize == 3
    assert pool._pool_block is True
