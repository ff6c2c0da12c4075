"""The ``ndtwin`` command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ndtwin`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    print("ndtwin: nothing here yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
