"""Task workers in their own processes, as production runs them (`manage.py db_worker`,
`manage.py rqworker`), pointed at the test database and at the Sage sandbox.

The sandbox is served over HTTP from the test process, so a worker process reaches it
through the SAGE_* URLs put in its environment; the test database must be one that
other processes can open (PostgreSQL: the test's rows must be committed, so the tests
that use these run with `transaction=True`).
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from integrations.sage.endpoints import URL_SETTINGS as SAGE_URL_SETTINGS

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"


def shared_database_url() -> str:
    """A DATABASE_URL naming the test database this test process uses (PostgreSQL)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}{host}:{port}/{db['NAME']}"


def worker_environment(settings, **extra: str) -> dict[str, str]:
    """This process's environment (tests/environment.py), the test database, the sandbox."""
    env = dict(os.environ)
    env.update({name: getattr(settings, name) for name in SAGE_URL_SETTINGS})
    env.update(
        DATABASE_URL=shared_database_url(),
        SAGE_HTTP_TIMEOUT=str(settings.SAGE_HTTP_TIMEOUT),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class WorkerProcess:
    """`manage.py <args>` in a subprocess, its output (stdout and stderr) collected."""

    def __init__(self, *args: str, env: dict[str, str]):
        self.args = args
        self.process = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, str(MANAGE), *args],
            env=env,
            cwd=MANAGE.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.append(line)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def wait_for(self, marker: str, timeout: float = 30) -> None:
        """Wait until the worker has logged `marker` (it is up); fail if it exits first."""

        def seen() -> bool:
            if marker in self.output:
                return True
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{' '.join(self.args)} exited ({self.process.returncode}) before "
                    f"{marker!r}:\n{self.output}"
                )
            return False

        wait_until(seen, timeout=timeout, what=f"{marker!r} from {' '.join(self.args)}")

    def stop(self, timeout: float = 20) -> int:
        """Ask the worker to stop (SIGTERM: a warm shutdown), kill it if it does not.

        The exit status is not what the tests check (they check that the worker was
        still running when told to stop): db_worker has been seen to exit 1 on
        SIGTERM, rarely, while idle and polling.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        return self.process.returncode
