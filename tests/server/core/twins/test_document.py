"""Pure document operations: nothing is mutated, Ditto's structure rules hold."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from server.core.twins.document import (
    DocumentError,
    NotFound,
    check_document,
    delete_at,
    merge_at,
    merge_patch,
    put_at,
    read_at,
)
from server.core.twins.paths import ResourcePath as P

THING: dict[str, Any] = {
    "thingId": "campus:phone-1",
    "policyId": "campus:phone-1",
    "definition": "https://w3id.org/ndtwin/models/device#/sdfObject/EndDevice",
    "attributes": {"model": "Pixel 8", "location": {"floor": 2, "zone": "A"}},
    "features": {"lte": {"definition": ["ndtwin:LteCell:1.0"], "properties": {"rsrp": -95}}},
}


def test_read_at_paths() -> None:
    assert read_at(THING, P.parse("/attributes/location/floor")) == 2
    assert read_at(THING, P.parse("/features/lte/properties/rsrp")) == -95
    with pytest.raises(NotFound):
        read_at(THING, P.parse("/features/lte/properties/rsrq"))
    with pytest.raises(NotFound):
        read_at(THING, P.parse("/features/wifi"))


def test_put_creates_intermediate_and_reports_creation() -> None:
    before = copy.deepcopy(THING)
    new, created = put_at(THING, P.parse("/attributes/battery/level"), 80)
    assert created and new["attributes"]["battery"] == {"level": 80}
    new2, created2 = put_at(new, P.parse("/attributes/battery/level"), 70)
    assert not created2 and new2["attributes"]["battery"]["level"] == 70
    assert before == THING  # input untouched


def test_merge_patch_rfc7396_examples() -> None:
    # RFC 7396 Appendix A, a selection.
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch([1, 2], {"a": "b", "c": None}) == {"a": "b"}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_merge_at_root_deletes_with_null_and_keeps_rest() -> None:
    new = merge_at(THING, P.parse("/"), {"attributes": {"model": None, "os": "Android"}})
    assert new["attributes"] == {"location": {"floor": 2, "zone": "A"}, "os": "Android"}
    assert new["features"] == THING["features"]


def test_merge_at_missing_path_creates_it() -> None:
    new = merge_at(THING, P.parse("/features/wifi/properties"), {"rssi": -60, "x": None})
    assert new["features"]["wifi"] == {"properties": {"rssi": -60}}


def test_delete_at() -> None:
    new = delete_at(THING, P.parse("/attributes/location"))
    assert "location" not in new["attributes"] and "location" in THING["attributes"]
    with pytest.raises(NotFound):
        delete_at(THING, P.parse("/attributes/nothing"))
    with pytest.raises(DocumentError):
        delete_at(THING, P.parse("/policyId"))


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"attributes": []},
        {"features": {"f": {"properties": 3}}},
        {"features": {"f": {"definition": []}}},
        {"features": {"f": {"definition": ["not a definition"]}}},
        {"features": {"f": {"definition": ["a:b:1", "a:b:1"]}}},
        {"features": {"f": {"other": {}}}},
        {"definition": "no-colons"},
        {"attributes": {"a/b": 1}},
        {"unknown": 1},
        {"thingId": 5},
    ],
)
def test_check_document_rejects(doc: Any) -> None:
    with pytest.raises(DocumentError):
        check_document(doc)


def test_check_document_accepts_valid_thing() -> None:
    check_document(THING)
    check_document({})
    check_document({"definition": "org.example:sensor:1.0.0"})
