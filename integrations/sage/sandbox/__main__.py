"""Run the sandbox as its own process: `python -m integrations.sage.sandbox --port 8765`."""

import argparse
from pathlib import Path

from integrations.sage.sandbox.core import SageSandbox
from integrations.sage.sandbox.server import serve_in_thread


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Sage Accounting sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--businesses", type=int, default=1, help="how many businesses")
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="register a client (repeatable); with any, unknown clients are refused",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0,
        help="wait this long before answering each token and API request (default 0)",
    )
    parser.add_argument(
        "--tokens",
        type=Path,
        metavar="FILE",
        help="accept the v3.1 tokens listed in FILE, one 'CLIENT_ID ACCESS REFRESH' a line, "
        "as if issued just now (seeds linked connections for a benchmark)",
    )
    parser.add_argument(
        "--seed",
        action="append",
        default=[],
        metavar="KIND=N",
        help="give every business N generated records of KIND (e.g. contacts=2000; repeatable)",
    )
    parser.add_argument(
        "--materialize",
        action="store_true",
        help="make every generated record at start, not on each request (a benchmark's "
        "sandbox, whose CPU is not Sage's to spend)",
    )
    args = parser.parse_args()
    if args.latency_ms < 0:
        parser.error("--latency-ms must be 0 or more")
    sandbox = SageSandbox(open_registration=not args.client, businesses=args.businesses)
    for client in args.client:
        client_id, _, secret = client.partition(":")
        sandbox.register_client(client_id, secret)
    sandbox.latency = args.latency_ms / 1000
    for seed in args.seed:
        kind, _, count = seed.partition("=")
        try:
            sandbox.seed(kind, int(count))
        except ValueError as error:
            parser.error(f"--seed {seed}: {error}")
    if args.materialize:
        sandbox.materialize()
    if args.tokens:
        for line in args.tokens.read_text().splitlines():
            if line.strip():
                client_id, access, refresh = line.split()
                sandbox.register_tokens(
                    client_id=client_id, access_token=access, refresh_token=refresh
                )
    server = serve_in_thread(sandbox, host=args.host, port=args.port)
    print(f"Sage sandbox on {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.thread.join()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
