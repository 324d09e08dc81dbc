"""Run the sandbox as its own process: `python -m integrations.sage.sandbox --port 8765`."""

import argparse

from .core import SageSandbox
from .server import serve_in_thread


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
    args = parser.parse_args()
    sandbox = SageSandbox(open_registration=not args.client, businesses=args.businesses)
    for client in args.client:
        client_id, _, secret = client.partition(":")
        sandbox.register_client(client_id, secret)
    server = serve_in_thread(sandbox, host=args.host, port=args.port)
    print(f"Sage sandbox on {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.thread.join()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
