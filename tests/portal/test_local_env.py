"""`make run PORT=…` moves the local .env's PORTAL_BASE_URL to that port, and nothing else."""

import subprocess
import sys

import pytest

from portal.local_env import with_port

ENV = "DJANGO_DEBUG=1\nPORTAL_BASE_URL=http://127.0.0.1:8000\nSAGE_SANDBOX=1\n"


def test_the_local_origin_follows_the_port():
    assert with_port(ENV, 8123) == ENV.replace(":8000", ":8123")


@pytest.mark.parametrize("origin", ["http://localhost:8000/", "http://127.0.0.1"])
def test_any_local_origin_is_moved(origin):
    text = f"PORTAL_BASE_URL={origin}\n"
    assert with_port(text, 8123) == "PORTAL_BASE_URL=http://127.0.0.1:8123\n"


@pytest.mark.parametrize(
    "origin", ["https://portal.example.com", "http://192.168.1.5:8000", "https://127.0.0.1:8000"]
)
def test_an_origin_set_by_hand_is_kept(origin):
    text = f"DJANGO_DEBUG=1\nPORTAL_BASE_URL={origin}\n"
    assert with_port(text, 8123) == text


def test_a_missing_line_is_added():
    assert with_port("DJANGO_DEBUG=1\n", 8123) == (
        "DJANGO_DEBUG=1\nPORTAL_BASE_URL=http://127.0.0.1:8123\n"
    )


@pytest.mark.parametrize("port", [0, 70000])
def test_a_port_out_of_range_is_refused(port):
    with pytest.raises(ValueError, match="not a TCP port"):
        with_port(ENV, port)


def test_the_command_rewrites_the_file_and_refuses_a_bad_port(tmp_path):
    env = tmp_path / ".env"
    env.write_text(ENV)
    run = [sys.executable, "-m", "portal.local_env", str(env)]

    assert subprocess.run([*run, "8123"], check=False).returncode == 0
    assert "PORTAL_BASE_URL=http://127.0.0.1:8123\n" in env.read_text()
    refused = subprocess.run([*run, "80a"], capture_output=True, text=True, check=False)
    assert refused.returncode == 2
    assert "PORT must be a number" in refused.stderr
    assert "PORTAL_BASE_URL=http://127.0.0.1:8123\n" in env.read_text()
