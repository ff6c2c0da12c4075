"""Field selectors keep nesting, expand groups and wildcards (Ditto partial requests)."""

from __future__ import annotations

import pytest

from server.core.twins.fields import FieldSelectionError, FieldSelector

DOC = {
    "thingId": "a:b",
    "_revision": 3,
    "attributes": {"complex": {"some": 1, "serialNo": 4711, "other": 2}, "x": 9},
    "features": {"f": {"properties": {"on": True, "k": 1}}, "g": {"properties": {"k": 2}}},
}


def test_group_and_wildcard() -> None:
    sel = FieldSelector.parse("thingId,attributes/complex(some,serialNo),features/*/properties/on")
    assert sel.apply(DOC) == {
        "thingId": "a:b",
        "attributes": {"complex": {"some": 1, "serialNo": 4711}},
        "features": {"f": {"properties": {"on": True}}},
    }


def test_meta_fields_only_when_selected() -> None:
    assert FieldSelector.parse("_revision").apply(DOC) == {"_revision": 3}
    assert "_revision" not in FieldSelector.parse("thingId").apply(DOC)


def test_nested_groups() -> None:
    sel = FieldSelector.parse("features(f/properties(on),g)")
    assert sel.apply(DOC) == {
        "features": {"f": {"properties": {"on": True}}, "g": {"properties": {"k": 2}}}
    }


@pytest.mark.parametrize(
    "text", ["", "nope", "attributes(", "attributes)", "attributes//x", "attributes(a)b"]
)
def test_invalid_selectors(text: str) -> None:
    with pytest.raises(FieldSelectionError):
        FieldSelector.parse(text)
