"""The local model registry: loading files, load failures, namespaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.modeling.registry import (
    DocumentLoadError,
    ModelRegistry,
    SdfDocument,
    iter_model_files,
    load_document,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sdf"
UNITS_URI = "https://example.com/ndtwin-test/units"


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_iter_model_files_recurses_sorted_and_keeps_named_files(tmp_path: Path) -> None:
    _write(tmp_path / "b" / "z.sdf.json", {})
    _write(tmp_path / "a.sdf.json", {})
    _write(tmp_path / "notes.json", {})
    named = _write(tmp_path / "other.json", {})
    files = list(iter_model_files([tmp_path, named]))
    assert files == [tmp_path / "a.sdf.json", tmp_path / "b" / "z.sdf.json", named]


def test_from_paths_loads_a_file_reached_twice_once() -> None:
    registry = ModelRegistry.from_paths(
        [FIXTURES / "registry", FIXTURES / "registry" / "units.sdf.json"]
    )
    assert sorted(d.path.name for d in registry.documents) == [
        "units-extra.sdf.json",
        "units.sdf.json",
    ]
    assert registry.load_errors == []


def test_add_paths_reports_what_this_call_loaded() -> None:
    registry = ModelRegistry()
    first, _ = registry.add_paths([FIXTURES / "valid"])
    second, _ = registry.add_paths([FIXTURES / "valid", FIXTURES / "registry"])
    assert [d.path.name for d in first] == ["lamp.sdf.json"]
    assert sorted(d.path.name for d in second) == ["units-extra.sdf.json", "units.sdf.json"]


@pytest.mark.parametrize(
    ("content", "rule", "message"),
    [
        (b'{"info": {', "json-syntax", "invalid JSON at line 1 column 11"),
        (b"[1, 2]", "document-not-object", "must be a JSON object, not an array"),
        (b'"text"', "document-not-object", "not a string"),
        (b"null", "document-not-object", "not null"),
        (b"\xff\xfe{}", "file-unreadable", "not UTF-8"),
        (b"", "json-syntax", "line 1 column 1"),
    ],
)
def test_load_failures_name_their_rule(
    tmp_path: Path, content: bytes, rule: str, message: str
) -> None:
    path = tmp_path / "broken.sdf.json"
    path.write_bytes(content)
    with pytest.raises(DocumentLoadError) as info:
        load_document(path)
    assert info.value.rule == rule
    assert message in info.value.message
    assert info.value.path == path


def test_missing_file_is_unreadable_and_registry_keeps_going(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.sdf.json", {"info": {"title": "ok"}})
    registry = ModelRegistry.from_paths([tmp_path / "missing.sdf.json", good])
    assert [d.path for d in registry.documents] == [good]
    (error,) = registry.load_errors
    assert error.rule == "file-unreadable"
    assert "No such file" in error.message


def test_utf8_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.sdf.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"info": {"title": "t"}}).encode())
    assert load_document(path).data == {"info": {"title": "t"}}


def test_base_uri_is_the_default_namespace_or_a_file_urn() -> None:
    named = SdfDocument(
        Path("x/lamp.sdf.json"),
        {"namespace": {"lamp": "https://example.com/lamp"}, "defaultNamespace": "lamp"},
    )
    anonymous = SdfDocument(Path("x/lamp.sdf.json"), {"sdfObject": {}})
    dangling = SdfDocument(Path("y/plain.json"), {"defaultNamespace": "nowhere"})
    assert named.base_uri == "https://example.com/lamp"
    assert anonymous.default_namespace is None
    assert anonymous.base_uri == "urn:ndtwin:sdf:lamp"
    assert dangling.base_uri == "urn:ndtwin:sdf:plain"


def test_several_documents_contribute_to_one_namespace() -> None:
    registry = ModelRegistry.from_paths([FIXTURES / "registry"])
    assert len(registry.by_namespace(UNITS_URI)) == 2
    found = registry.find(UNITS_URI, "/sdfData/seconds")
    assert found is not None
    doc, node = found
    assert doc.path.name == "units-extra.sdf.json"
    assert node == {"type": "integer", "unit": "s", "minimum": 0}
    percent = registry.find(UNITS_URI, "/sdfData/percent")
    assert percent is not None and percent[0].path.name == "units.sdf.json"


def test_find_returns_none_for_unknown_names_and_malformed_pointers() -> None:
    registry = ModelRegistry.from_paths([FIXTURES / "registry"])
    assert registry.find(UNITS_URI, "/sdfData/kelvin") is None
    assert registry.find(UNITS_URI, "sdfData/percent") is None
    assert registry.find("https://example.com/elsewhere", "/sdfData/percent") is None
