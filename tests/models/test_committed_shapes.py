"""``models/shacl/`` is generated from ``models/sdf/`` and must never go stale.

Regenerate with ``make models`` (``ndtwin models compile models/sdf --to shacl -o models/shacl``).
"""

from __future__ import annotations

from pathlib import Path

import pyshacl
from rdflib import Graph

from server.core.catalog import ModelCatalog
from server.modeling.compilers import shacl

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "models" / "shacl"


def test_committed_shapes_match_the_models() -> None:
    catalog = ModelCatalog.load([ROOT / "models" / "sdf"])
    expected: dict[str, str] = {}
    for doc in catalog.documents:
        expected.update(shacl.compile_document(doc))
    committed = {p.name: p.read_text(encoding="utf-8") for p in SHAPES.glob("*.ttl")}
    assert sorted(committed) == sorted(expected), "run `make models`"
    stale = [name for name, text in expected.items() if committed[name] != text]
    assert stale == [], f"stale shapes {stale}: run `make models`"


def test_committed_shapes_are_valid_shacl() -> None:
    for path in sorted(SHAPES.glob("*.ttl")):
        graph = Graph().parse(path, format="turtle")
        assert len(graph) > 0, path
        # pyshacl loads every shape (raising on malformed ones) and checks an empty graph.
        conforms, _, text = pyshacl.validate(Graph(), shacl_graph=graph)
        assert conforms, (path, text)
