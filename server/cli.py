"""The ``ndtwin`` command line: a thin dispatcher over per-area subcommands.

Each area owns its subcommands in its own module, which exposes
``register(subparsers)``; it adds its parsers and sets ``handler`` (a function
``(argparse.Namespace) -> int``) as a default on each. Adding an area is one
line in ``AREAS``. Exit codes: 0 success, 1 invalid input, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["AREAS", "build_parser", "main"]

#: Modules that register subcommands, in the order ``--help`` lists them.
AREAS: tuple[str, ...] = (
    "server.modeling.cli",
    "server.core.cli",
    "server.serve",
    "server.grpc.cli",
    "adapters.mqtt.cli",
    "utt.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every area's subcommands registered."""
    parser = argparse.ArgumentParser(
        prog="ndtwin",
        description="ndtwin: a server for network digital twins and its model toolchain.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in AREAS:
        importlib.import_module(area).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ndtwin`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_usage(sys.stderr)
        print("ndtwin: error: a command is required", file=sys.stderr)
        return 2
    try:
        return int(handler(args))
    except BrokenPipeError:
        # The reader went away (`ndtwin ... | head`): stop quietly, as the Python docs advise
        # (library/signal, "Note on SIGPIPE"), so interpreter shutdown does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
