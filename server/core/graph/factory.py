"""Open the configured graph store from one location string."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from server.core.graph.base import GraphStore, QueryLimits
from server.core.graph.oxigraph import OxigraphGraphStore
from server.core.graph.sparql_http import SparqlHttpGraphStore

__all__ = ["EMBEDDED", "MEMORY", "open_graph_store"]

EMBEDDED = "embedded"
"""pyoxigraph in ``<data_dir>/graph`` (in memory when there is no data directory)."""
MEMORY = "memory"
"""pyoxigraph in memory, whatever the data directory."""

_GRAPH_DIR = "graph"


def open_graph_store(
    location: str | os.PathLike[str] = EMBEDDED,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    limits: QueryLimits | None = None,
    tenant_limits: Mapping[str, QueryLimits] | None = None,
    query_url: str | None = None,
    update_url: str | None = None,
    store_url: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> GraphStore:
    """Build and open the graph store that ``location`` names.

    ``location`` is `EMBEDDED`, `MEMORY`, an ``http(s)://`` base URL of a SPARQL endpoint,
    or a directory for pyoxigraph. A base URL implies ``oxigraph serve``'s layout
    (``/query``, ``/update``, ``/store``); ``query_url``, ``update_url`` and
    ``store_url`` override its parts for other servers (for Fuseki: ``/ds/query``,
    ``/ds/update``, ``/ds/data``); ``store_url=""`` means the endpoint has no Graph Store
    Protocol. Close the store when done (it is a context manager).
    """
    text = os.fspath(location)
    store: GraphStore
    if text.startswith(("http://", "https://")):
        base = SparqlHttpGraphStore.for_oxigraph(text)
        store = SparqlHttpGraphStore(
            query_url or base.query_url,
            update_url or base.update_url,
            (store_url if store_url is not None else base.store_url) or None,
            headers=headers,
            limits=limits,
            tenant_limits=tenant_limits,
        )
    elif text == MEMORY:
        store = OxigraphGraphStore(None, limits=limits, tenant_limits=tenant_limits)
    elif text == EMBEDDED:
        path = Path(data_dir) / _GRAPH_DIR if data_dir is not None else None
        store = OxigraphGraphStore(path, limits=limits, tenant_limits=tenant_limits)
    else:
        store = OxigraphGraphStore(Path(text), limits=limits, tenant_limits=tenant_limits)
    store.open()
    return store
