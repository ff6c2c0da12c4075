"""``ndtwin graph ...`` and ``ndtwin store ...``: maintenance of what is derived from the
documents (the document store is the truth): the RDF graph and the store's search index."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _store_options(parser: argparse.ArgumentParser, graph: bool = True) -> None:
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("NDTWIN_DATA_DIR", ".ndtwin"),
        help="data directory of the embedded stores (default .ndtwin)",
    )
    parser.add_argument(
        "--store",
        default=os.environ.get("NDTWIN_STORE", "sqlite"),
        help="sqlite (embedded) or a postgresql:// URL",
    )
    if not graph:
        return
    parser.add_argument(
        "--graph",
        default=os.environ.get("NDTWIN_GRAPH", "embedded"),
        help="embedded (pyoxigraph) or the http(s):// URL of a SPARQL store",
    )


def register(subparsers: Any) -> None:
    graph = subparsers.add_parser("graph", help="maintain the RDF twin graph")
    commands = graph.add_subparsers(dest="graph_command", metavar="COMMAND", required=True)
    rebuild = commands.add_parser(
        "rebuild",
        help="recreate the RDF graph from the document store",
        description="Clear each tenant's named graph and project every twin and "
        "relationship into it again from the document store.",
    )
    _store_options(rebuild)
    rebuild.add_argument("--tenant", default=None, help="only this tenant (default: all)")
    rebuild.set_defaults(handler=_rebuild)

    store = subparsers.add_parser("store", help="maintain the document store")
    store_commands = store.add_subparsers(dest="store_command", metavar="COMMAND", required=True)
    reindex = store_commands.add_parser(
        "reindex",
        help="recreate the store's search index from the twins",
        description="Refill the SQLite value index (twin_values), which attribute and "
        "feature searches use, from the stored twins: for a file that an older build, "
        "which did not keep the index, has written to. On PostgreSQL there is nothing to "
        "do (the database keeps its own indexes).",
    )
    _store_options(reindex, graph=False)
    reindex.set_defaults(handler=_reindex)


def _maintain(command: str, build: Callable[[], Any], work: Callable[[Any], str]) -> int:
    """Build a store or core, open it, run ``work`` on it, close it; print what it says
    with the time taken, or the error (exit 1)."""
    from server.core.catalog import ModelLoadError
    from server.core.errors import NdtError

    try:
        target = build()
    except (ModelLoadError, ValueError) as exc:
        print(f"ndtwin {command}: {exc}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        target.open()
        done = work(target)
    except NdtError as exc:
        print(f"ndtwin {command}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        target.close()
    print(f"{done} in {time.perf_counter() - started:.2f} s")
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    from server.core.bootstrap import build_core

    return _maintain(
        "graph rebuild",
        lambda: build_core(store=args.store, graph=args.graph, data_dir=Path(args.data_dir)),
        lambda core: f"rebuilt the graph: {core.rebuild_graph(args.tenant)} triples",
    )


def _reindex(args: argparse.Namespace) -> int:
    from server.core.stores.factory import create_store

    return _maintain(
        "store reindex",
        lambda: create_store(
            None if args.store == "sqlite" else args.store, data_dir=Path(args.data_dir)
        ),
        lambda store: f"rebuilt the search index: {store.rebuild_search_index()} rows",
    )
