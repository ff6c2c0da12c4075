"""Micro-benchmark of the document stores: single-twin commits/s, point reads/s, searches/s.

Usage::

    python bench/store.py                      # embedded SQLite in a temporary directory
    python bench/store.py --postgres           # also PostgreSQL (a temporary database)
    python bench/store.py --twins 10000 --ops 5000

A "commit" is one `WriteBatch` as the core writes it for a property change: the twin
put with its expected revision, one change event, one history point and one outbox entry.
"Bare" commits carry the twin put only. Reads are `get_twin` on random ids. Figures are
measured in one process, one thread, in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

from server.core.ids import TenantId, ThingId
from server.core.rql import parse_filter
from server.core.stores import (
    ChangeEvent,
    HistoryPoint,
    OutboxEntry,
    TwinPut,
    TwinRecord,
    TwinStore,
    WriteBatch,
    utc_now,
)
from server.core.stores.postgres import PostgresTwinStore
from server.core.stores.sqlite import SqliteTwinStore

TENANT = TenantId("bench")


def _doc(thing: str, value: float) -> dict[str, object]:
    return {
        "thingId": thing,
        "policyId": thing,
        "definition": "org.ndtwin:phone:1.0.0",
        "attributes": {"model": "Pixel", "site": f"site-{hash(thing) % 17}"},
        "features": {
            "cell": {"properties": {"rsrp": value, "rsrq": -10.5, "pci": 101, "earfcn": 1300}},
            "wifi": {"properties": {"rssi": -55, "ssid": "lab"}},
        },
    }


REPEATS = 3
"""Each figure is measured this many times; the median and the best are printed, because
the 2-core machines are shared and a single run swings with the neighbours' load."""


def _rate(label: str, count: int, action: Callable[[int], None]) -> float:
    rates = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for i in range(count):
            action(i)
        rates.append(count / (time.perf_counter() - started))
    rates.sort()
    median = rates[len(rates) // 2]
    print(
        f"  {label:<34} median {median:>9,.0f}/s   best {rates[-1]:>9,.0f}/s"
        f"   ({REPEATS} x {count})"
    )
    return median


def run(store: TwinStore, twins: int, ops: int) -> dict[str, float]:
    """Load ``twins`` twins, then measure; returns the rates by name."""
    store.create_tenant(TENANT, "bench", utc_now())
    ids = [ThingId(f"bench:phone-{i:06}") for i in range(twins)]
    revisions = dict.fromkeys(ids, 0)
    now = utc_now()
    for start in range(0, twins, 500):
        chunk = ids[start : start + 500]
        store.commit(
            TENANT,
            WriteBatch(
                twin_puts=[
                    TwinPut(TwinRecord(TENANT, i, 1, now, now, _doc(i, -90.0)), 0) for i in chunk
                ]
            ),
        )
        for i in chunk:
            revisions[i] = 1
    rng = random.Random(7)

    def modify(bare: bool) -> Callable[[int], None]:
        def action(_: int) -> None:
            thing = rng.choice(ids)
            revision = revisions[thing] + 1
            value = rng.uniform(-120, -60)
            at = utc_now()
            doc = _doc(thing, value)
            record = TwinRecord(TENANT, thing, revision, now, at, doc)
            batch = WriteBatch(twin_puts=[TwinPut(record, revisions[thing])])
            if not bare:
                path = "/features/cell/properties/rsrp"
                batch.events.append(
                    ChangeEvent(TENANT, "twin", "modified", thing, path, value, revision, at)
                )
                batch.history.append(HistoryPoint(TENANT, thing, path, at, value, revision))
                batch.outbox.append(OutboxEntry(0, TENANT, "twin", thing, None, doc))
            store.commit(TENANT, batch)
            revisions[thing] = revision

        return action

    def read(_: int) -> None:
        store.get_twin(TENANT, rng.choice(ids))

    search = parse_filter(
        "and(eq(features/cell/properties/pci,101),lt(features/cell/properties/rsrp,-100))"
    )

    def find(_: int) -> None:
        store.search(TENANT, search, size=25)

    def point_search(_: int) -> None:
        store.search(TENANT, parse_filter(f'eq(thingId,"{rng.choice(ids)}")'), size=1)

    rates = {
        "commit": _rate("single-twin commits (full batch)", ops, modify(bare=False)),
        "commit_bare": _rate("single-twin commits (put only)", ops, modify(bare=True)),
        "read": _rate("point reads (get_twin)", ops * 4, read),
        "search_id": _rate("search eq(thingId) size 1", ops // 2, point_search),
        "search": _rate("search 2 JSON predicates size 25", max(ops // 50, 20), find),
    }
    while store.pending_outbox(1000):
        store.ack_outbox([o.id for o in store.pending_outbox(1000)])
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twins", type=int, default=1000)
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite (WAL, synchronous=NORMAL), {args.twins} twins:")
        with SqliteTwinStore(Path(tmp) / "bench.db") as store:
            rates = run(store, args.twins, args.ops)
        print(
            f"  targets (medians): commits >= 3,000/s "
            f"{'met' if rates['commit'] >= 3000 else 'MISSED'}; reads >= 10,000/s "
            f"{'met' if rates['read'] >= 10000 else 'MISSED'}"
        )
        print(f"  load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    if args.postgres:
        name = f"ndtwin_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg_admin, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = args.pg_admin.rsplit("/", 1)[0] + "/" + name
            print(f"PostgreSQL ({url}), {args.twins} twins:")
            with PostgresTwinStore(url) as pg:
                run(pg, args.twins, args.ops)
        finally:
            with psycopg.connect(args.pg_admin, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
