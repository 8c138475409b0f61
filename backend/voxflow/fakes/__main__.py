"""`python -m voxflow.fakes --port N`: serve the fake providers until SIGTERM or SIGINT.

Prints one JSON line when listening: {"url": ..., "base_urls": {...}}. Nothing else, and
never a key: requests are recorded for GET /__fake/requests, not logged.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from voxflow.fakes.server import FakeProviders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voxflow.fakes",
        description="Fake Groq, Deepgram and Twilio APIs on one local port (tests only)",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    args = parser.parse_args(argv)

    try:
        fakes = FakeProviders.start(port=args.port, host=args.host)
    except OSError as err:
        print(
            f"voxflow.fakes: cannot listen on {args.host}:{args.port}: {err.strerror}",
            file=sys.stderr,
        )
        return 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(json.dumps({"url": fakes.url, "base_urls": fakes.base_urls}), flush=True)
    stop.wait()
    fakes.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
