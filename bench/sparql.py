"""Benchmark of the RDF graph store: rebuild throughput, hot diffs, 2-hop SPARQL latency.

Usage::

    python bench/sparql.py                    # ~1M triples, embedded + oxigraph serve (2-3 min)
    python bench/sparql.py --no-http          # embedded pyoxigraph only (about 1 min less)
    python bench/sparql.py --devices 2000 --cells 1200 --runs 100   # a quick run

The graph is shaped like ndtwin's: phone twins (attributes with a zone, features ``cell``
and ``location`` with properties) and cell twins, projected by
`server.modeling.projection` exactly as the core does, plus ``observes`` relationships
(device -> cell, with RSSI/RSRP/level properties), each a direct ``rel:observes`` edge and
a relationship node. Devices observe cells of their own zone.

Measured, in one process and one run:

- rebuild: projection + conversion + bulk load through `GraphStore.load`, triples/s;
- hot write: one property diff (delete one triple, insert one) through `GraphStore.apply`;
- two 2-hop queries through `GraphStore.query` (tenancy check, engine, SPARQL JSON), p50
  and p95 over ``--runs`` runs with random parameters, and the bare engine's p50:
  Q1 "devices that observe a cell that device X observes", Q2 "cells observed by
  devices in zone Z";
- the baseline: the same queries, load and diff on rdflib's in-memory ``Graph``. rdflib
  is far too slow to load 1M triples within the time budget, so the baseline runs on a
  graph ``--baseline-scale`` times smaller, and pyoxigraph is measured on that same small
  graph too, so the printed ratios compare equal graphs.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
from rdflib import Graph, URIRef

from server.core.graph import GraphStore, OxigraphGraphStore, QueryLimits, SparqlHttpGraphStore
from server.core.graph.terms import Triple, graph_node
from server.modeling import projection
from server.modeling.vocab import KEY, child_iri, key_iri, relationship_type_iri, twin_iri

TENANT = "bench"
LIMITS = QueryLimits(timeout_s=60.0, max_rows=1_000_000)
OBSERVES = str(relationship_type_iri("observes"))
PREFIXES = f"PREFIX key: <{KEY}> PREFIX rel: <{OBSERVES.rsplit('/', 1)[0]}/> "
Q1 = PREFIXES + (
    "SELECT DISTINCT ?other WHERE {{ <{device}> rel:observes ?cell . "
    "?other rel:observes ?cell . FILTER(?other != <{device}>) }}"
)
Q2 = PREFIXES + 'SELECT DISTINCT ?cell WHERE {{ ?d key:zone "{zone}" . ?d rel:observes ?cell }}'


@dataclass(frozen=True)
class Shape:
    """Sizes of a generated network."""

    devices: int
    cells: int
    observes: int
    zones: int

    def scaled(self, factor: int) -> Shape:
        return Shape(
            max(self.devices // factor, 10),
            max(self.cells // factor, 5),
            self.observes,
            max(self.zones // factor, 2),
        )


def _device(i: int, zone: int) -> dict[str, object]:
    return {
        "thingId": f"org.ndtwin:phone-{i}",
        "policyId": "org.ndtwin:default",
        "definition": "org.ndtwin:phone:1.0.0",
        "_revision": 1 + i % 7,
        "_created": "2024-05-01T10:00:00Z",
        "_modified": "2024-05-01T10:05:00Z",
        "attributes": {"model": f"model-{i % 12}", "zone": f"zone-{zone}", "operator": "acme"},
        "features": {
            "cell": {
                "properties": {
                    "rsrp": -80 - i % 40,
                    "rsrq": -10.5,
                    "sinr": 3.5 + i % 20,
                    "pci": i % 504,
                    "earfcn": 1300,
                }
            },
            "location": {"properties": {"lat": 48.1 + i * 1e-5, "lon": 11.5, "accuracy": 5.0}},
        },
    }


def _cell(j: int, zone: int) -> dict[str, object]:
    return {
        "thingId": f"org.ndtwin:cell-{j}",
        "policyId": "org.ndtwin:default",
        "definition": "org.ndtwin:cell:1.0.0",
        "_revision": 1,
        "_created": "2024-05-01T09:00:00Z",
        "_modified": "2024-05-01T09:00:00Z",
        "attributes": {"zone": f"zone-{zone}", "band": "B3"},
        "features": {
            "cell": {"properties": {"pci": j % 504, "earfcn": 1300, "tac": 7, "mcc": 262}}
        },
    }


def generate(shape: Shape, seed: int = 7) -> Iterator[Triple]:
    """The projected triples of the network, lazily (1M triples do not fit in a list)."""
    rng = random.Random(seed)
    cells_by_zone: dict[int, list[int]] = {}
    for j in range(shape.cells):
        zone = j % shape.zones
        cells_by_zone.setdefault(zone, []).append(j)
        yield from projection.project_twin(TENANT, _cell(j, zone))
    rel = 0
    for i in range(shape.devices):
        zone = i % shape.zones
        yield from projection.project_twin(TENANT, _device(i, zone))
        local = cells_by_zone[zone]
        for j in rng.sample(local, min(shape.observes, len(local))):
            doc = {
                "id": f"obs-{rel}",
                "source": f"org.ndtwin:phone-{i}",
                "target": f"org.ndtwin:cell-{j}",
                "type": "observes",
                "_revision": 1,
                "_created": "2024-05-01T10:00:00Z",
                "_modified": "2024-05-01T10:00:00Z",
                "properties": {"rssi": -70 - rng.randrange(30), "rsrp": -95, "level": 3},
            }
            rel += 1
            yield from projection.project_relationship(TENANT, doc)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50, p95


def _time_queries(
    runners: dict[str, Callable[[str], int]], shape: Shape, runs: int, seed: int
) -> dict[str, dict[str, tuple[float, float, float]]]:
    """p50 and p95 in ms, and mean rows, of Q1 and Q2 with random parameters, per runner.

    The same texts go to every runner, interleaved (the first runner goes first on even
    runs, last on odd ones), after one untimed pass that warms the caches.
    """
    rng = random.Random(seed)
    out: dict[str, dict[str, tuple[float, float, float]]] = {r: {} for r in runners}
    for name, template in (("Q1", Q1), ("Q2", Q2)):
        texts = []
        for _ in range(runs):
            if name == "Q1":
                device = twin_iri(TENANT, f"org.ndtwin:phone-{rng.randrange(shape.devices)}")
                texts.append(template.format(device=device))
            else:
                texts.append(template.format(zone=f"zone-{rng.randrange(shape.zones)}"))
        first = next(iter(runners.values()))
        for text in texts:
            first(text)
        samples: dict[str, list[float]] = {r: [] for r in runners}
        rows: dict[str, list[int]] = {r: [] for r in runners}
        order = list(runners.items())
        for k, text in enumerate(texts):
            for label, run in order if k % 2 == 0 else reversed(order):
                started = time.perf_counter()
                rows[label].append(run(text))
                samples[label].append((time.perf_counter() - started) * 1000)
        for label in runners:
            p50, p95 = _percentiles(samples[label])
            out[label][name] = (p50, p95, statistics.fmean(rows[label]))
    return out


def _store_runner(store: GraphStore) -> Callable[[str], int]:
    return lambda text: store.query(TENANT, text, "application/sparql-results+json").rows


def _engine_runner(store: OxigraphGraphStore) -> Callable[[str], int]:
    graph = graph_node(TENANT)

    def run(text: str) -> int:
        result = store.store.query(text, default_graph=[graph], named_graphs=[graph])
        assert isinstance(result, ox.QuerySolutions)
        return len(list(result))

    return run


def _time_diffs(apply: Callable[[list[Triple], list[Triple]], None], shape: Shape, n: int) -> float:
    """Hot writes/s: move one device's RSRP property value and back."""
    rng = random.Random(3)
    samples = []
    for _ in range(n):
        i = rng.randrange(shape.devices)
        # A feature's properties hang off the feature node (see the projection).
        feature = URIRef(child_iri(f"{twin_iri(TENANT, f'org.ndtwin:phone-{i}')}/features", "cell"))
        old = (feature, key_iri("rsrp"), projection.json_literal(-80 - i % 40))
        new = (feature, key_iri("rsrp"), projection.json_literal(-30))
        started = time.perf_counter()
        apply([old], [new])
        apply([new], [old])
        samples.append(time.perf_counter() - started)
    return 2 * n / sum(samples)


def _rdflib_graph(triples: list[Any]) -> tuple[Graph, float]:
    graph = Graph()
    started = time.perf_counter()
    graph.addN((s, p, o, graph) for s, p, o in triples)
    return graph, time.perf_counter() - started


def _start_oxigraph(workdir: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    cli = Path(sys.executable).parent / "oxigraph"
    exe = str(cli) if cli.exists() else shutil.which("oxigraph")
    if exe is None:
        return None
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [exe, "serve", "--location", str(workdir / "serve"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/query", params={"query": "ASK {}"}, timeout=1).is_success:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    return None


def _row(label: str, value: str) -> None:
    print(f"  {label:<58} {value}")


def _http_section(big: OxigraphGraphStore, shape: Shape, runs: int, work: Path) -> None:
    server = _start_oxigraph(work)
    if server is None:
        print("oxigraph serve: CLI not found, skipped")
        return
    proc, url = server
    try:
        with SparqlHttpGraphStore.for_oxigraph(url, limits=LIMITS) as http:
            quads = big.store.quads_for_pattern(None, None, None, graph_node(TENANT))
            started = time.perf_counter()
            sent = http.load(TENANT, (q.triple for q in quads))  # type: ignore[misc]
            took = time.perf_counter() - started
            print(f"oxigraph serve on loopback, SPARQL 1.1 Protocol, {sent:,} triples")
            _row("load via GraphStore.load (Graph Store Protocol POSTs)",
                 f"{sent / took:,.0f} triples/s ({took:.1f} s)")  # fmt: skip
            remote = _time_queries({"http": _store_runner(http)}, shape, runs, seed=11)["http"]
            for name in ("Q1", "Q2"):
                p50, p95, rows = remote[name]
                _row(f"{name} p50 / p95 via GraphStore.query over HTTP ({rows:.0f} rows)",
                     f"{p50:.2f} / {p95:.2f} ms")  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=14_000)
    parser.add_argument("--cells", type=int, default=8_000)
    parser.add_argument("--observes", type=int, default=3, help="cells each device observes")
    parser.add_argument("--zones", type=int, default=200)
    parser.add_argument("--runs", type=int, default=300, help="runs per query (embedded)")
    parser.add_argument("--http-runs", type=int, default=100)
    parser.add_argument("--baseline-runs", type=int, default=30)
    parser.add_argument("--baseline-scale", type=int, default=10)
    parser.add_argument("--diffs", type=int, default=1000)
    parser.add_argument("--no-http", action="store_true", help="skip oxigraph serve")
    args = parser.parse_args()
    shape = Shape(args.devices, args.cells, args.observes, args.zones)
    small = shape.scaled(args.baseline_scale)
    began = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="ndtwin-bench-") as tmp:
        work = Path(tmp)
        print(f"graph: {shape}")
        with OxigraphGraphStore(work / "big", limits=LIMITS) as big:
            started = time.perf_counter()
            loaded = big.load(TENANT, generate(shape))
            rebuild = time.perf_counter() - started
            print(f"embedded pyoxigraph on disk, {loaded:,} triples")
            _row("rebuild (project + print + bulk load)",
                 f"{loaded / rebuild:,.0f} triples/s ({rebuild:.1f} s)")  # fmt: skip
            diffs = _time_diffs(lambda d, i: big.apply(TENANT, d, i), shape, args.diffs)
            _row("hot write: 1-triple diff via apply()", f"{diffs:,.0f} /s")
            timed = _time_queries(
                {"store": _store_runner(big), "engine": _engine_runner(big)},
                shape,
                args.runs,
                seed=11,
            )
            for name in ("Q1", "Q2"):
                p50, p95, rows = timed["store"][name]
                _row(f"{name} p50 / p95 via GraphStore.query (JSON, {rows:.0f} rows)",
                     f"{p50:.2f} / {p95:.2f} ms")  # fmt: skip
                p50, p95, _ = timed["engine"][name]
                _row(f"{name} p50 / p95 bare engine", f"{p50:.2f} / {p95:.2f} ms")
            if not args.no_http:
                _http_section(big, shape, args.http_runs, work)
        big_p50 = {name: timed["store"][name][0] for name in ("Q1", "Q2")}

        triples = list(generate(small))
        print(f"baseline: rdflib Graph in memory vs the embedded store, on {small}, "
              f"{len(triples):,} triples (1/{args.baseline_scale} of the graph above)")  # fmt: skip
        with OxigraphGraphStore(work / "small", limits=LIMITS) as ox_small:
            started = time.perf_counter()
            ox_small.load(TENANT, triples)
            ox_load = time.perf_counter() - started
            graph, rd_load = _rdflib_graph(triples)
            both = _time_queries(
                {
                    "pyoxigraph": _store_runner(ox_small),
                    "rdflib": lambda text: len(list(graph.query(text))),
                },
                small,
                args.baseline_runs,
                seed=5,
            )
            ox_diffs = _time_diffs(lambda d, i: ox_small.apply(TENANT, d, i), small, 300)

        def rdflib_apply(delete: list[Any], insert: list[Any]) -> None:
            for t in delete:
                graph.remove(t)
            for t in insert:
                graph.add(t)

        rd_diffs = _time_diffs(rdflib_apply, small, 300)
        _row("load: pyoxigraph / rdflib (triples/s)",
             f"{len(triples) / ox_load:,.0f} / {len(triples) / rd_load:,.0f} "
             f"= {rd_load / ox_load:.1f}x")  # fmt: skip
        _row("1-triple diff: pyoxigraph on disk / rdflib in memory (/s)",
             f"{ox_diffs:,.0f} / {rd_diffs:,.0f} = {ox_diffs / rd_diffs:.1f}x")  # fmt: skip
        for name in ("Q1", "Q2"):
            ox_p50, rd_p50 = both["pyoxigraph"][name][0], both["rdflib"][name][0]
            _row(f"{name} p50: pyoxigraph via query() / rdflib, same graph",
                 f"{ox_p50:.2f} / {rd_p50:.2f} ms = {rd_p50 / ox_p50:.0f}x")  # fmt: skip
        for name in ("Q1", "Q2"):
            _row(f"{name} p50: pyoxigraph at {loaded:,} / rdflib at {len(triples):,} triples",
                 f"{big_p50[name]:.2f} / {both['rdflib'][name][0]:.2f} ms "
                 f"= {both['rdflib'][name][0] / big_p50[name]:.0f}x")  # fmt: skip
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
