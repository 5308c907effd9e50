"""python -m awssim [--port 0] [--propagation-delay 2.0]

Prints exactly one line, `AWSSIM_READY http://127.0.0.1:<port>`, once the
server accepts connections; runs until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys

from .server import build_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="awssim", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--propagation-delay", type=float, default=2.0, help="seconds before a new role is a valid principal")
    args = parser.parse_args(argv)

    server = build_server(args.port, args.propagation_delay)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"AWSSIM_READY http://127.0.0.1:{server.server_port}", flush=True)
    # The ready line must stay the only stdout line; moto prints diagnostics with print().
    sys.stdout = sys.stderr
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
