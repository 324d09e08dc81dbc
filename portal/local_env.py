"""`make run PORT=…`: the local .env's PORTAL_BASE_URL follows the port the server listens on.

Run as `python -m portal.local_env .env PORT` (no Django needed). Only an origin on
this machine (127.0.0.1 or localhost over http) is moved to the new port: one set
by hand (a tunnel, a LAN name) is left as it is, and said so.
"""

import re
import sys
from pathlib import Path

NAME = "PORTAL_BASE_URL"
LOCAL = re.compile(rf"^{NAME}=http://(?:127\.0\.0\.1|localhost)(?::\d+)?/?$")


def local_base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def with_port(text: str, port: int) -> str:
    """`text` (a .env) with its local PORTAL_BASE_URL on `port`, added when it has none."""
    if not 0 < port < 65536:
        raise ValueError(f"{port} is not a TCP port.")
    lines = text.splitlines()
    line = f"{NAME}={local_base_url(port)}"
    if not any(current.startswith(f"{NAME}=") for current in lines):
        return "\n".join([*lines, line]) + "\n"
    return "\n".join(line if LOCAL.match(current) else current for current in lines) + "\n"


def main(argv: list[str]) -> int:
    path, port_text = Path(argv[0]), argv[1]
    if not port_text.isdigit():
        print(f"PORT must be a number, not {port_text!r}.", file=sys.stderr)
        return 2
    try:
        text = path.read_text()
        updated = with_port(text, int(port_text))
    except (OSError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    if updated != text:
        path.write_text(updated)
    current = next(line for line in updated.splitlines() if line.startswith(f"{NAME}="))
    if current != f"{NAME}={local_base_url(int(port_text))}":
        print(f"{path}: {current} is kept (not this machine's); the server listens on {port_text}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
