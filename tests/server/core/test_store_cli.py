"""``ndtwin store reindex`` refills a stale SQLite value index (a real process)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson

from server.core.bootstrap import build_core
from server.core.context import Caller

ROOT = Path(__file__).resolve().parents[3]


def _serials(data: Path) -> list[str]:
    core = build_core(data_dir=data, graph="memory")
    core.open()
    try:
        caller = Caller(core.tenants.get("demo").tenant)
        items, _ = core.twins.search(caller, 'eq(attributes/serial,"new")', "size(10)", None)
        return sorted(item["thingId"] for item in items)
    finally:
        core.close()


def test_reindex_repairs_what_an_index_unaware_writer_left(tmp_path: Path) -> None:
    core = build_core(data_dir=tmp_path, graph="memory")
    core.open()
    caller = core.tenants.authenticate(core.tenants.create("demo")[1])
    for i in range(3):
        core.twins.put(caller, f"org.example:t-{i}", "/", {"attributes": {"serial": "old"}})
    db = core.store.path  # type: ignore[attr-defined]
    core.close()
    # What a build without the value index does: it rewrites the document only.
    with sqlite3.connect(db) as conn:
        doc = orjson.dumps({"thingId": "org.example:t-1", "attributes": {"serial": "new"}})
        conn.execute("UPDATE twins SET doc = ? WHERE thing_id = 'org.example:t-1'", (doc,))
    assert _serials(tmp_path) == []  # the index still says "old"

    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "store", "reindex", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "rebuilt the search index" in done.stdout
    assert _serials(tmp_path) == ["org.example:t-1"]
