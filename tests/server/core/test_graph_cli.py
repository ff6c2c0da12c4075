"""``ndtwin graph rebuild`` recreates the graph from the document store (a real process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from server.core.bootstrap import build_core
from server.core.context import Caller

ROOT = Path(__file__).resolve().parents[3]


def test_rebuild_command(tmp_path: Path) -> None:
    core = build_core(data_dir=tmp_path, validation="shacl")
    core.open()
    caller = core.tenants.authenticate(core.tenants.create("demo")[1])
    body = core.catalog.by_name("LteCell").skeleton()  # type: ignore[union-attr]
    for i in range(3):
        body["attributes"]["pci"] = i
        core.twins.put(caller, f"campus:cell-{i}", "/", body)
    expected = core.fresh_graph().count("demo")
    core.graph.clear("demo")
    core.close()

    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "graph", "rebuild", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"{expected} triples" in done.stdout

    core = build_core(data_dir=tmp_path, validation="shacl")
    core.open()
    try:
        assert core.fresh_graph().count("demo") == expected > 0
        assert core.twins.count(Caller(core.tenants.get("demo").tenant)) == 3
    finally:
        core.close()
