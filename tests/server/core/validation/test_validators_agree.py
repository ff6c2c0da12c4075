"""The compiled validator decides every write exactly as pyshacl on the compiled shapes.

Instances are generated from our own models: Ditto skeletons with values replaced by
in-range, out-of-range, wrongly typed, null and missing ones. Both validators run as the
core wires them (definitions are TM URLs resolved through the catalog).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core.catalog import ModelCatalog
from server.core.validation.compiled import CompiledValidator
from server.core.validation.shacl import ShaclValidator

CATALOG = ModelCatalog.load()
COMPILED = CompiledValidator(CATALOG)
SHACL = ShaclValidator(CATALOG)
MODELS = [
    "LteCell",
    "NrCell",
    "GsmCell",
    "WcdmaCell",
    "WifiAccessPoint",
    "BleBeacon",
    "EnvironmentSensor",
    "EndDevice",
    "Observation",
    "PositionTwin",
    "TrackingTwin",
    "TrajectoryTwin",
]


def _property_names(name: str) -> list[str]:
    entry = CATALOG.by_name(name)
    assert entry is not None
    return sorted(entry.node.get("sdfProperty", {}))


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-300, 70_000_000_000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from(
        [
            "",
            "lte",
            "primary",
            "AA:BB:CC:DD:EE:FF",
            "aa:bb",
            "2026-11-21T10:00:00Z",
            "310",
            "26201",
            "x" * 40,
        ]
    ),
    st.lists(st.integers(0, 5), max_size=3),
    st.just({}),
)


@st.composite
def twins(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(MODELS))
    entry = CATALOG.by_name(name)
    assert entry is not None
    doc = copy.deepcopy(entry.skeleton())
    doc["thingId"] = "test:twin"
    attributes = doc.setdefault("attributes", {})
    names = _property_names(name)
    for key in draw(st.lists(st.sampled_from(names), max_size=4, unique=True)):
        if draw(st.booleans()) and key in attributes:
            del attributes[key]
        else:
            attributes[key] = draw(values)
    if draw(st.integers(0, 9)) == 0:
        attributes["unmodelled"] = draw(values)  # open shapes: extra keys are allowed
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(twins())
def test_compiled_and_shacl_decide_alike(doc: dict[str, Any]) -> None:
    compiled = COMPILED.validate_twin(doc)
    reference = SHACL.validate_twin(doc)
    assert bool(compiled) == bool(reference), (doc, compiled, reference)
    # Where pyshacl names a path (a property shape's sh:resultPath), both point there.
    located = {d.path for d in reference if d.path is not None}
    assert located <= {d.path for d in compiled}, (doc, compiled, reference)


@pytest.mark.parametrize("validator", [COMPILED, SHACL], ids=["compiled", "shacl"])
def test_unknown_model_in_our_namespace(validator: Any) -> None:
    details = validator.validate_twin(
        {"thingId": "a:b", "definition": "https://w3id.org/ndtwin/tm/cellular/Nope.tm.jsonld"}
    )
    assert [d.path for d in details] == ["/definition"]


@pytest.mark.parametrize("validator", [COMPILED, SHACL], ids=["compiled", "shacl"])
def test_foreign_definitions_are_not_ours_to_check(validator: Any) -> None:
    assert (
        validator.validate_twin(
            {
                "thingId": "a:b",
                "definition": "org.example:lamp:1.0",
                "attributes": {"anything": [1, {"x": None}]},
            }
        )
        == []
    )
