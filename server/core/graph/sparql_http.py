"""The scale-out graph store: any SPARQL 1.1 Query + Update endpoint over HTTP (httpx).

Requests follow the SPARQL 1.1 Protocol: queries are URL-encoded POSTs (§2.1.2) carrying
``default-graph-uri`` and ``named-graph-uri`` set to the tenant's graph (§2.1.4: the
protocol dataset overrides the query's); updates are direct POSTs of
``application/sparql-update`` (§2.2.2). Where a Graph Store Protocol URL is configured,
clearing and bulk loading use it (``DELETE``/``POST ?graph=``, GSP §5.4/§5.5); without one,
``DROP SILENT GRAPH`` and ``INSERT DATA`` batches do the same through the update endpoint.

Results are always fetched as SPARQL JSON or N-Triples, parsed while streaming, and
re-serialised by `server.core.graph.formats`, so limits apply row by row and both stores
answer alike. The time limit is the httpx timeout plus a deadline checked between rows; the
endpoint itself may keep computing after the client gives up, so run it with a server-side
timeout too (``oxigraph serve --timeout-s``).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pyoxigraph as ox

from server.core.errors import NdtError
from server.core.graph.base import Change, GraphStore, QueryLimits, RawResult
from server.core.graph.errors import (
    GraphStoreUnavailable,
    GraphTermInvalid,
    SparqlQueryInvalid,
    SparqlQueryTimeout,
)
from server.core.graph.oxigraph import update_text
from server.core.graph.tenancy import QueryForm
from server.core.graph.terms import Triple, graph_node, tenant_of_graph, to_ntriples

__all__ = ["SparqlHttpGraphStore"]

_UPDATE_TYPE = "application/sparql-update"
_NT_TYPE = "application/n-triples"
_JSON_RESULTS = "application/sparql-results+json"
_ERROR_BODY_LIMIT = 2000


class SparqlHttpGraphStore(GraphStore):
    """`GraphStore` over a remote SPARQL 1.1 endpoint.

    Parameters
    ----------
    query_url, update_url:
        The query and update services (SPARQL 1.1 Protocol §2.1, §2.2).
    store_url:
        The Graph Store Protocol service, or None to do everything through updates.
    headers, auth:
        Sent with every request (e.g. credentials of the endpoint).
    write_timeout_s:
        Time limit of updates, loads and administrative queries.
    load_batch:
        Triples per request of `load`.
    transport:
        An httpx transport to use instead of the network one.
    """

    def __init__(
        self,
        query_url: str,
        update_url: str,
        store_url: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        write_timeout_s: float = 60.0,
        load_batch: int = 50_000,
        limits: QueryLimits | None = None,
        tenant_limits: Mapping[str, QueryLimits] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(limits=limits, tenant_limits=tenant_limits)
        if load_batch < 1:
            raise ValueError("load_batch must be >= 1")
        self.query_url = query_url
        self.update_url = update_url
        self.store_url = store_url
        self._headers = dict(headers or {})
        self._auth = auth
        self._write_timeout = write_timeout_s
        self._load_batch = load_batch
        self._transport = transport
        self._client: httpx.Client | None = None

    @classmethod
    def for_oxigraph(cls, base_url: str, **kwargs: Any) -> SparqlHttpGraphStore:
        """A store on ``oxigraph serve``'s layout: ``/query``, ``/update`` and ``/store``."""
        base = base_url.rstrip("/")
        return cls(f"{base}/query", f"{base}/update", f"{base}/store", **kwargs)

    def __repr__(self) -> str:
        return f"SparqlHttpGraphStore({self.query_url!r}, {self.update_url!r})"

    # --- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        if self._client is None:
            self._client = httpx.Client(
                headers=self._headers,
                auth=self._auth,
                timeout=self._write_timeout,
                transport=self._transport,
            )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            raise GraphStoreUnavailable("The graph store is not open.")
        return self._client

    # --- writes ----------------------------------------------------------------------

    def apply_many(self, changes: Sequence[Change]) -> None:
        prepared = [
            (graph_node(t), list(to_ntriples(t, delete)), list(to_ntriples(t, insert)))
            for t, delete, insert in changes
        ]
        text = update_text(prepared)
        if text:
            self._update(text)

    def apply_ntriples(self, changes: Sequence[tuple[str, list[str], list[str]]]) -> None:
        """`apply_many` for N-Triples lines that ndtwin's projection printed itself."""
        text = update_text([(graph_node(t), delete, insert) for t, delete, insert in changes])
        if text:
            self._update(text)

    def clear(self, tenant: str) -> None:
        graph = graph_node(tenant)
        if self.store_url is None:
            self._update(f"DROP SILENT GRAPH {graph}")
            return
        with _mapped("clear a graph"):
            response = self.client.delete(self.store_url, params={"graph": graph.value})
        # GSP §5.4: 404 when the graph does not exist, which is what we want anyway.
        if response.status_code != 404:
            _raise_for_status(response, "clear a graph")

    def load(self, tenant: str, triples: Iterable[Triple]) -> int:
        graph = graph_node(tenant)
        total = 0
        lines = to_ntriples(tenant, triples)
        while True:
            batch = list(itertools.islice(lines, self._load_batch))
            if not batch:
                return total
            if self.store_url is None:
                self._update(update_text([(graph, [], batch)]))
            else:
                body = _encode("\n".join(batch) + "\n")
                with _mapped("load triples"):
                    response = self.client.post(
                        self.store_url,
                        params={"graph": graph.value},
                        content=body,
                        headers={"Content-Type": _NT_TYPE},
                    )
                _raise_for_status(response, "load triples")
            total += len(batch)

    def _update(self, text: str) -> None:
        body = _encode(text)
        with _mapped("update"):
            response = self.client.post(
                self.update_url,
                content=body,
                headers={"Content-Type": f"{_UPDATE_TYPE}; charset=utf-8"},
            )
        _raise_for_status(response, "update")

    # --- reads -----------------------------------------------------------------------

    def _select(self, text: str, action: str) -> list[dict[str, Any]]:
        """Run an administrative SELECT over the whole store (no tenant dataset)."""
        with _mapped(action):
            response = self.client.post(
                self.query_url, data={"query": text}, headers={"Accept": _JSON_RESULTS}
            )
        _raise_for_status(response, action)
        try:
            bindings: list[dict[str, Any]] = orjson.loads(response.content)["results"]["bindings"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise GraphStoreUnavailable("The endpoint returned malformed results.") from exc
        return bindings

    def count(self, tenant: str) -> int:
        rows = self._select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph_node(tenant)} {{ ?s ?p ?o }} }}",
            "count triples",
        )
        return int(rows[0]["n"]["value"])

    def tenants(self) -> list[str]:
        rows = self._select(
            "SELECT ?g WHERE { GRAPH ?g { } FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }",
            "list graphs",
        )
        found = (tenant_of_graph(row["g"]["value"]) for row in rows if "g" in row)
        return sorted(t for t in found if t is not None)

    @contextmanager
    def _evaluate(
        self, tenant: str, text: str, form: QueryForm, timeout_s: float
    ) -> Iterator[RawResult]:
        graph = graph_node(tenant).value
        # SPARQL 1.1 Protocol §2.1.4: these parameters are the dataset, overriding any
        # FROM/FROM NAMED of the query.
        data = {"query": text, "default-graph-uri": graph, "named-graph-uri": graph}
        accept = _NT_TYPE if form.is_graph else _JSON_RESULTS
        with (
            _mapped("query"),
            self.client.stream(
                "POST",
                self.query_url,
                data=data,
                headers={"Accept": accept},
                timeout=httpx.Timeout(timeout_s),
            ) as response,
        ):
            if response.status_code >= 300:
                response.read()
                _raise_for_status(response, "query")
            reader = io.BufferedReader(_ResponseReader(response.iter_bytes()))
            try:
                if form.is_graph:
                    quads = ox.parse(reader, format=ox.RdfFormat.N_TRIPLES)
                    yield (q.triple for q in quads)
                else:
                    yield ox.parse_query_results(reader, format=ox.QueryResultsFormat.JSON)
            except SyntaxError as exc:
                raise GraphStoreUnavailable(
                    f"The endpoint returned malformed results: {exc}"
                ) from exc


class _ResponseReader(io.RawIOBase):
    """A readable file over a streamed HTTP body, for pyoxigraph's parsers."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _encode(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate in a literal
        raise GraphTermInvalid(f"A term is not valid Unicode: {exc}") from exc


def _raise_for_status(response: httpx.Response, action: str) -> None:
    """Map a failed response: 400 is the query's fault, everything else the endpoint's."""
    if response.is_success:
        return
    detail = response.text[:_ERROR_BODY_LIMIT].strip()
    if response.status_code == 400 and action == "query":
        raise SparqlQueryInvalid(f"The SPARQL query is not valid: {detail}")
    if response.status_code == 400 and action in ("update", "load triples"):
        # Our terms passed the IRIREF check but not the endpoint's full IRI parser.
        raise GraphTermInvalid(f"The SPARQL endpoint refused a term: {detail}")
    raise GraphStoreUnavailable(
        f"The SPARQL endpoint failed to {action}: HTTP {response.status_code} {detail}"
    )


@contextmanager
def _mapped(action: str) -> Iterator[None]:
    """Map httpx's exceptions to the graph errors, cause chained."""
    try:
        yield
    except NdtError:
        raise
    except httpx.TimeoutException as exc:
        if action == "query":
            raise SparqlQueryTimeout("The SPARQL endpoint did not answer in time.") from exc
        raise GraphStoreUnavailable(f"The SPARQL endpoint timed out ({action}).") from exc
    except httpx.HTTPError as exc:
        raise GraphStoreUnavailable(f"The SPARQL endpoint failed to {action}: {exc}") from exc
    except OSError as exc:
        raise GraphStoreUnavailable(f"Reading the endpoint's answer failed: {exc}") from exc
