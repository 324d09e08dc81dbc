"""The throwaway world of one bench run: database, environment, server processes."""

import base64
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS = ("127.0.0.1", 6379)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def wait_for_port(port: int, process: subprocess.Popen, *, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        if _listening("127.0.0.1", port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


@contextlib.contextmanager
def database(name: str):
    """Create an empty PostgreSQL database and drop it afterwards, whatever happens."""
    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    try:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.close()


def production_env(*, database_url: str, port: int, sandbox_port: int, static_root: Path):
    """The environment of a production deploy on this machine, pointed at loopback."""
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    env = {
        "DJANGO_ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # production settings + the baseline view
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        # Persistent connections, as a production deploy sets them: without, every
        # request pays a PostgreSQL connection and the bench measures that.
        "DATABASE_CONN_MAX_AGE": "60",
        "STATIC_ROOT": str(static_root),
        "LOG_LEVEL": "WARNING",
        "SAGE_SANDBOX": "0",
        "SAGE_AUTHORIZE_URL": f"{sandbox}/oauth2/auth/central",
        "SAGE_TOKEN_URL": f"{sandbox}/token",
        "SAGE_REVOKE_URL": f"{sandbox}/revoke",
        "SAGE_API_URL": f"{sandbox}/v3.1",
        "SAGE_V30_TOKEN_URL": f"{sandbox}/v30/token",
        "SAGE_V30_API_URL": f"{sandbox}/v30/accounts/v3",
    }
    if _listening(*REDIS):
        env["CACHE_URL"] = f"rediscache://{REDIS[0]}:{REDIS[1]}/1"
    return env


def start(command: list[str], *, env: dict, log: Path) -> subprocess.Popen:
    """Start a server process in its own session, its output going to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen | None):
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sandbox_command(port: int, *, latency_ms: float = 0, tokens: Path | None = None) -> list[str]:
    command = [sys.executable, "-m", "integrations.sage.sandbox", "--port", str(port)]
    command += ["--latency-ms", f"{latency_ms:g}"]
    return command + (["--tokens", str(tokens)] if tokens else [])


# The server as the README starts it in production: gunicorn's threaded workers, so a
# worker process serves THREADS requests at once while they wait on Sage (docs/performance.md).
PRODUCTION_SERVER = "gthread"
THREADS = 16


def gunicorn_command(port: int, workers: int, kind: str = PRODUCTION_SERVER) -> list[str]:
    """gunicorn on `port`: `gthread` (production), `sync`, or `asgi` (uvicorn workers)."""
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--graceful-timeout", "5"]
    if kind == "gthread":
        return [*command, "--worker-class", "gthread", "--threads", str(THREADS), WSGI_APP]
    if kind == "sync":
        return [*command, "--worker-class", "sync", WSGI_APP]
    if kind == "asgi":
        return [*command, "--worker-class", "uvicorn.workers.UvicornWorker", ASGI_APP]
    raise ValueError(f"unknown server kind {kind!r}")


WSGI_APP = "portal.wsgi:application"
ASGI_APP = "portal.asgi:application"
