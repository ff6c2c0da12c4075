"""Throughput and latency of the service core, with the pyshacl-per-write baseline.

For each store (embedded SQLite + pyoxigraph, PostgreSQL + pyoxigraph) and each size
(1k and 100k twins loaded first), it measures through ``Core``:

- validated modifies/s: ``put`` of one property on an existing, validated LTE cell twin
  (read, decide, compiled-schema validation, one transaction, graph projection; with the
  default background projection the clock stops only once the graph holds every write);
- creates/s: new twins through ``put``;
- reads/s: ``retrieve`` of a whole twin;
- p50/p99 modify latency, and the ratio p50(100k) / p50(1k). Both sizes are loaded
  first and their modifies run in ``--rounds`` rounds that alternate between the sizes,
  so a drift in the machine's speed reaches both alike; each round's p50 is printed too;
- a SPARQL 2-hop query p50 over the loaded graph (devices that hear a cell also heard by
  device 0), with the graph's triple count;
- the baseline in the same run: the same modify loop validated by pyshacl per write.

    .venv/bin/python -m bench.core [--sizes 1000,100000] [--stores sqlite,postgres]
        [--projection background,inline] [--ops 2000] [--rounds 4]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder leads sys.path, where bench/http.py and bench/grpc.py would
# shadow the standard library's http and the grpc package: put the repository first instead.
sys.path[:] = [str(ROOT)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]

import psycopg  # noqa: E402

from server.core.batch import RelationshipUpsert, TwinUpsert  # noqa: E402
from server.core.bootstrap import build_core  # noqa: E402
from server.core.catalog import ModelCatalog  # noqa: E402
from server.core.context import Caller  # noqa: E402
from server.core.service import Core, CoreSettings  # noqa: E402
from server.core.stores.sqlite import SqliteTwinStore  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def cell(catalog: ModelCatalog, i: int) -> dict[str, Any]:
    body = catalog.by_name("LteCell").skeleton()  # type: ignore[union-attr]
    body["attributes"].update(
        {
            "pci": i % 504,
            "earfcn": 1300 + i % 50,
            "tac": 1 + i % 900,
            "band": 3,
            "rsrp": -90 - i % 40,
            "rsrq": -10 - i % 9,
        }
    )
    return body


def device(catalog: ModelCatalog, i: int) -> dict[str, Any]:
    body = catalog.by_name("EndDevice").skeleton()  # type: ignore[union-attr]
    body["attributes"].update(
        {"model": f"model-{i % 7}", "manufacturer": "acme", "online": i % 3 != 0}
    )
    return body


def load(core: Core, caller: Caller, catalog: ModelCatalog, n: int) -> float:
    """n twins (3/4 cells, 1/4 devices), each device observing 3 cells; returns seconds."""
    observation = catalog.by_name("Observation").skeleton()["attributes"]  # type: ignore
    start = time.perf_counter()
    batch = 500
    cells = max(1, n * 3 // 4)
    for first in range(0, n, batch):
        twins, rels = [], []
        for i in range(first, min(n, first + batch)):
            if i < cells:
                twins.append(TwinUpsert(f"campus:cell-{i}", cell(catalog, i)))
            else:
                twins.append(TwinUpsert(f"campus:dev-{i}", device(catalog, i)))
                for k in range(3):
                    target = f"campus:cell-{(i * 7 + k * 13) % cells}"
                    rels.append(
                        RelationshipUpsert(
                            f"obs-{i}-{k}",
                            f"campus:dev-{i}",
                            target,
                            "observes",
                            dict(observation, level=k),
                        )
                    )
        core.batch.upsert(caller, twins=twins, relationships=rels)
    core.drain_graph()  # the load counts until the graph holds it all
    if isinstance(core.store, SqliteTwinStore):
        # ... and until the file holds it: the load leaves a large write-ahead log whose
        # checkpoint would otherwise run during the first modifies, in the background
        # checkpointer's thread, and charge an import's cost to steady-state writes.
        with sqlite3.connect(core.store.path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    return time.perf_counter() - start


def timed(fn: Any, count: int, settle: Any = None) -> tuple[float, list[float]]:
    """Rate and per-call latencies of ``fn``; ``settle`` runs inside the clock at the end
    (the graph projection still in flight when writes are projected in the background)."""
    latencies = []
    start = time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        fn(i)
        latencies.append(time.perf_counter() - t)
    if settle is not None:
        settle()
    return count / (time.perf_counter() - start), latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class Bench:
    """One loaded core (a store kind, a size, a projection mode) and its figures."""

    def __init__(self, store: str, n: int, catalog: ModelCatalog, projection: str) -> None:
        self.store, self.n, self.catalog = store, n, catalog
        self._data = tempfile.TemporaryDirectory()
        self._dbname: str | None = None
        url = "sqlite"
        if store == "postgres":
            self._dbname = f"ndtwin_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self._dbname}"')
            url = f"postgresql://postgres@127.0.0.1:5432/{self._dbname}"
        settings = CoreSettings(projection=projection)  # type: ignore[arg-type]
        self.core = build_core(
            store=url, data_dir=self._data.name, catalog=catalog, settings=settings
        )
        self.core.open()
        self.caller = self.core.tenants.authenticate(self.core.tenants.create("bench")[1])
        self.load_s = load(self.core, self.caller, catalog, n)
        self.modify_seconds = 0.0
        self.modify_latencies: list[float] = []
        self.round_p50s: list[float] = []

    def modify_round(self, ops: int, first: int) -> None:
        """``ops`` modifies (writes ``first``, ``first + 1``, ...), added to the totals."""
        core, caller = self.core, self.caller
        rate, latencies = timed(
            lambda i: core.twins.put(
                caller,
                f"campus:cell-{(first + i) % 100}",
                "/attributes/rsrp",
                -60 - (first + i) % 80,
            ),
            ops,
            core.drain_graph,
        )
        self.modify_seconds += ops / rate
        self.modify_latencies += latencies
        self.round_p50s.append(pct(latencies, 0.5))

    def finish(self, ops: int) -> dict[str, Any]:
        """Creates, reads and the SPARQL query; then close and remove everything."""
        core, caller, catalog, n = self.core, self.caller, self.catalog, self.n
        try:
            create_rate, _ = timed(
                lambda i: core.twins.put(caller, f"campus:new-{i}", "/", cell(catalog, i)),
                ops,
                core.drain_graph,
            )
            cells = max(1, n * 3 // 4)
            read_rate, _ = timed(
                lambda i: core.twins.retrieve(caller, f"campus:cell-{i % cells}"), ops * 4
            )
            two_hop = (
                "SELECT DISTINCT ?other WHERE { "
                f"<urn:ndtwin:bench:twin:campus:dev-{n - 1}> "
                "<https://w3id.org/ndtwin/rel/observes> ?c . "
                "?other <https://w3id.org/ndtwin/rel/observes> ?c }"
            )
            _, sparql_lat = timed(lambda i: core.query(caller, two_hop, "text/csv"), 50)
            triples = core.fresh_graph().count("bench")
        finally:
            self.close()
        return {
            "load_s": self.load_s,
            "modify": len(self.modify_latencies) / self.modify_seconds,
            "modify_p50": pct(self.modify_latencies, 0.5),
            "modify_p99": pct(self.modify_latencies, 0.99),
            "create": create_rate,
            "read": read_rate,
            "sparql_p50": pct(sparql_lat, 0.5),
            "triples": triples,
        }

    def close(self) -> None:
        self.core.close()
        if self._dbname:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._dbname}" WITH (FORCE)')
        self._data.cleanup()


def run_sizes(
    store: str,
    sizes: list[int],
    catalog: ModelCatalog,
    ops: int,
    projection: str,
    rounds: int,
) -> dict[int, dict[str, Any]]:
    """Load every size, then modify in rounds that alternate between the sizes.

    The machine's speed drifts by 1.5-2x within minutes (other jobs, caches, CPU
    frequency), so each size gets its share of every stretch of time: the p50 ratio
    between sizes compares like with like. Each size gets ``ops`` modifies in all.
    """
    benches = []
    try:
        for n in sizes:
            benches.append(Bench(store, n, catalog, projection))
        per_round = max(1, ops // rounds)
        for r in range(rounds):
            for bench in benches:
                bench.modify_round(per_round, r * per_round)
        results = {}
        while benches:
            bench = benches.pop(0)
            results[bench.n] = bench.finish(ops)
            results[bench.n]["rounds"] = bench.round_p50s
        return results
    finally:
        for bench in benches:
            bench.close()


def shacl_baseline(catalog: ModelCatalog, ops: int) -> float:
    with tempfile.TemporaryDirectory() as data:
        core = build_core(data_dir=data, catalog=catalog, validation="shacl")
        core.open()
        try:
            caller = core.tenants.authenticate(core.tenants.create("bench")[1])
            core.twins.put(caller, "campus:cell-0", "/", cell(catalog, 0))
            rate, _ = timed(
                lambda i: core.twins.put(caller, "campus:cell-0", "/attributes/rsrp", -60 - i % 80),
                ops,
            )
        finally:
            core.close()
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--ops", type=int, default=2000, help="modifies per size (in all)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="modify rounds, alternating between the sizes (ops / rounds each)",
    )
    parser.add_argument(
        "--projection",
        default="background",
        help="graph projection mode(s) to compare, comma-separated: background,inline",
    )
    args = parser.parse_args()
    catalog = ModelCatalog.load()
    sizes = [int(s) for s in args.sizes.split(",")]
    # The machine may be shared: say how busy it was (1-minute load average).
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    baseline = shacl_baseline(catalog, 100)
    print(f"baseline: pyshacl per write, validated modifies/s = {baseline:,.0f}")
    print(
        f"{'store':9} {'twins':>7} {'triples':>9} {'load s':>7} {'modify/s':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'create/s':>9} {'read/s':>8} {'2-hop p50 ms':>12} "
        f"{'vs pyshacl':>10}"
    )
    runs = [(s, p) for s in args.stores.split(",") for p in args.projection.split(",")]
    for store, projection in runs:
        label = store if projection == "background" else f"{store}/{projection}"
        results = run_sizes(store, sizes, catalog, args.ops, projection, args.rounds)
        for n in sizes:
            r = results[n]
            print(
                f"{label:9} {n:>7} {r['triples']:>9,.0f} {r['load_s']:>7.1f} "
                f"{r['modify']:>9,.0f} {r['modify_p50']:>7.2f} {r['modify_p99']:>7.2f} "
                f"{r['create']:>9,.0f} {r['read']:>8,.0f} {r['sparql_p50']:>12.2f} "
                f"{r['modify'] / baseline:>9.1f}x",
                flush=True,
            )
        for n in sizes:
            rounds = ", ".join(f"{p:.2f}" for p in results[n]["rounds"])
            print(f"{label:9} {n:>7} modify p50 ms per round: {rounds}")
        if len(sizes) > 1:
            small, large = results[min(sizes)], results[max(sizes)]
            print(
                f"{label:9} latency ratio p50({max(sizes)}) / p50({min(sizes)}) = "
                f"{large['modify_p50'] / small['modify_p50']:.2f}"
            )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
