"""`restorectl` (and `python -m graphrestore`): restorectl with gRPC's own log lines off.

gRPC reads GRPC_VERBOSITY once, when it is imported; its lines (e.g. "Handshake failed")
would break --json's one error object on stderr, and restorectl says what failed itself."""

import os


def main() -> None:
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    from graphrestore import restorectl

    restorectl.main()


if __name__ == "__main__":
    main()
