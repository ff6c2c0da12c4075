"""ndtwin's SDF → WoT TM compiler side by side with PyPI ``sdf-wot-converter`` 1.10.0.

Both run on every corpus file (``../shared/corpus/onedm``, which holds the four
RFC 9880 examples under ``rfc9880-examples/``) plus one model the corpus lacks:
RFC 9880 example 1 with ``sdfRequired: [true]`` on its property (RFC 9880 §4.5).
The figures must equal the table in ``docs/models.md`` (its comparison section).

* converter ok: ``convert_sdf_to_wot_tm`` returns without raising;
* ndtwin ok: the file passes the strict RFC 9880 schema (Appendix B, validation
  flavour), resolves against the corpus as local registry, and compiles;
* TMs valid: every TM produced validates against the W3C TM schema
  (1.1-12-March-2025, Draft-07, local ``$ref``s only).

The converter dereferences namespace URIs with ``urllib.request.urlopen`` for
cross-document ``sdfRef``s. There is no network here, so ``urlopen`` is replaced
by a guard that records the URL and fails; the guard's count is in the table.
"""

from __future__ import annotations

import copy
import json
import os
import re
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from server.modeling.compilers import wot
from server.modeling.registry import ModelRegistry, SdfDocument
from server.modeling.resolve import ResolutionError, ResolvedDocument, Resolver

sdf_wot_converter = pytest.importorskip("sdf_wot_converter")

ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("NDTWIN_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "onedm"
SDF_SCHEMA = SHARED / "schemas" / "sdf" / "sdf-validation.jso.json"
TM_SCHEMA = SHARED / "schemas" / "wot" / "tm-json-schema-validation.json"
DOC = ROOT / "docs" / "models.md"
SECTION = "## Comparison with sdf-wot-converter"
EXTRA = "extra"  # the folder name of models not in the corpus


@dataclass
class Outcome:
    """One model's result for both tools."""

    folder: str
    name: str
    converter_ok: bool = False
    converter_valid: bool = False
    converter_error: str = ""
    ndtwin_ok: bool = False
    ndtwin_valid: bool = False
    ndtwin_error: str = ""


@dataclass
class Comparison:
    """All outcomes plus the URLs the converter tried to fetch."""

    outcomes: list[Outcome] = field(default_factory=list)
    fetch_attempts: list[str] = field(default_factory=list)

    def by_name(self, name: str) -> Outcome:
        (found,) = [o for o in self.outcomes if o.name == name]
        return found

    def table(self) -> dict[str, tuple[int, int, int, int, int]]:
        rows: dict[str, Counter[str]] = {}
        for o in self.outcomes:
            row = rows.setdefault(o.folder, Counter())
            row["files"] += 1
            row["converter_ok"] += o.converter_ok
            row["converter_valid"] += o.converter_valid
            row["ndtwin_ok"] += o.ndtwin_ok
            row["ndtwin_valid"] += o.ndtwin_valid
        keys = ("files", "converter_ok", "converter_valid", "ndtwin_ok", "ndtwin_valid")
        table = {folder: tuple(row[k] for k in keys) for folder, row in rows.items()}
        table["total"] = tuple(sum(row[i] for row in table.values()) for i in range(5))
        return table  # type: ignore[return-value]


def required_true_model() -> dict[str, Any]:
    """RFC 9880 example 1 with ``sdfRequired: [true]`` on the switch's value."""
    model = json.loads((CORPUS / "rfc9880-examples" / "example1.sdf.json").read_text("utf-8"))
    model = copy.deepcopy(model)
    model["sdfObject"]["Switch"]["sdfProperty"]["value"]["sdfRequired"] = [True]
    return model


def _models() -> Iterator[tuple[str, str, Path, dict[str, Any] | None]]:
    for path in sorted(CORPUS.rglob("*.sdf.json")):
        yield path.relative_to(CORPUS).parts[0], path.name, path, None
    yield (
        EXTRA,
        "example1-sdfrequired-true.sdf.json",
        CORPUS / EXTRA / "example1-sdfrequired-true.sdf.json",
        required_true_model(),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:120] if text else ''}"


def run_comparison(monkeypatch: pytest.MonkeyPatch) -> Comparison:
    comparison = Comparison()

    def guard(url: Any, *args: Any, **kwargs: Any) -> Any:
        comparison.fetch_attempts.append(str(getattr(url, "full_url", url)))
        raise OSError("network access is disabled in this comparison")

    monkeypatch.setattr(urllib.request, "urlopen", guard)
    strict = Draft7Validator(json.loads(SDF_SCHEMA.read_text(encoding="utf-8")))
    tm_schema = Draft7Validator(json.loads(TM_SCHEMA.read_text(encoding="utf-8")))
    # The whole corpus (plus the extra model) is ndtwin's local registry: nothing is fetched.
    registry = ModelRegistry.from_paths([CORPUS])
    models = list(_models())
    for _, _, path, data in models:
        if data is not None:
            registry.add(SdfDocument(path=path, data=data))
    documents = {doc.path: doc for doc in registry.documents}
    resolver = Resolver(registry)

    for folder, name, path, data in models:
        outcome = Outcome(folder, name)
        comparison.outcomes.append(outcome)
        model = data if data is not None else json.loads(path.read_text(encoding="utf-8"))
        try:
            result = sdf_wot_converter.convert_sdf_to_wot_tm(copy.deepcopy(model))
        except Exception as exc:  # the converter raises many kinds; each is a failure
            outcome.converter_error = _first_line(exc)
        else:
            outcome.converter_ok = True
            tms = [result] if "@context" in result else list(result.values())
            outcome.converter_valid = all(tm_schema.is_valid(tm) for tm in tms)

        if not strict.is_valid(model):
            outcome.ndtwin_error = "rejected: fails the strict RFC 9880 schema"
            continue
        try:
            resolved: ResolvedDocument = resolver.resolve_document(documents[path])
            tms = list(wot.thing_models(resolved).values())
        except (ResolutionError, wot.WotCompileError) as exc:
            outcome.ndtwin_error = _first_line(exc)
            continue
        outcome.ndtwin_ok = True
        outcome.ndtwin_valid = all(tm_schema.is_valid(tm) for tm in tms)
    return comparison


@pytest.fixture(scope="module")
def comparison() -> Iterator[Comparison]:
    if not (CORPUS.is_dir() and SDF_SCHEMA.is_file() and TM_SCHEMA.is_file()):
        pytest.skip(f"corpus or schemas not found under {SHARED}")
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield run_comparison(monkeypatch)


def _documented_table() -> dict[str, tuple[int, ...]]:
    rows = {}
    section = DOC.read_text(encoding="utf-8").split(SECTION, 1)[1]
    for line in section.splitlines():
        cells = [c.strip().strip("*`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and all(re.fullmatch(r"\d+", c) for c in cells[1:]):
            rows[cells[0]] = tuple(int(c) for c in cells[1:])
    return rows


def test_documented_table_matches_the_measurement(comparison: Comparison) -> None:
    assert _documented_table() == comparison.table()


def test_documented_fetch_count_matches(comparison: Comparison) -> None:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"network fetches attempted by the converter: (\d+)", text, re.IGNORECASE)
    assert match is not None
    assert int(match.group(1)) == len(comparison.fetch_attempts)


def test_ndtwin_handles_every_model_the_converter_handles(comparison: Comparison) -> None:
    for o in comparison.outcomes:
        if o.converter_ok:
            assert o.ndtwin_ok and o.ndtwin_valid, (o.folder, o.name, o.ndtwin_error)


def test_every_tm_ndtwin_writes_is_valid(comparison: Comparison) -> None:
    assert all(o.ndtwin_valid for o in comparison.outcomes if o.ndtwin_ok)


@pytest.mark.parametrize(
    "name",
    [
        "example-sdfthing-refrigerator-freezer.sdf.json",  # RFC 9880 fridge-freezer: KeyError
        "fridgefreezer.sdf.json",  # same pattern in exploratory
        "fridgemultifreezer.sdf.json",
        "sdfobject-genericSensor.sdf.json",  # cross-document sdfRef (ex:#/…)
        "example1-sdfrequired-true.sdf.json",  # sdfRequired: [true]
    ],
)
def test_models_the_converter_fails_on_and_ndtwin_handles(
    comparison: Comparison, name: str
) -> None:
    outcome = comparison.by_name(name)
    assert not outcome.converter_ok
    assert outcome.ndtwin_ok and outcome.ndtwin_valid, outcome.ndtwin_error


def test_the_failures_are_listed_in_the_document(comparison: Comparison) -> None:
    text = DOC.read_text(encoding="utf-8")
    for o in comparison.outcomes:
        if o.ndtwin_ok and not o.converter_ok:
            assert f"`{o.name}`" in text, o.name


def test_sdfchoice_values_pass_ndtwin_schemas_and_fail_the_converters() -> None:
    """IPSO Temperature's quality indicator: sdfChoice of const alternatives plus ranges."""
    path = CORPUS / "playground" / "sdfObject" / "sdfobject-ipso-temperature.sdf.json"
    if not path.is_file():
        pytest.skip("corpus not available")
    model = json.loads(path.read_text(encoding="utf-8"))
    converted = sdf_wot_converter.convert_sdf_to_wot_tm(copy.deepcopy(model))
    theirs = converted["properties"]["Measurement_Quality_Indicator"]
    # The converter puts objects into enum, so no plain value can ever match.
    assert all(isinstance(member, dict) for member in theirs["enum"])
    registry = ModelRegistry.from_paths([path])
    ours_tm = wot.thing_model(
        Resolver(registry).resolve_document(registry.documents[0]), "/sdfObject/Temperature"
    )
    ours = ours_tm["properties"]["Measurement_Quality_Indicator"]
    as_schema = {k: v for k, v in ours.items() if k not in ("readOnly", "observable")}
    their_schema = {k: v for k, v in theirs.items() if k not in ("readOnly", "observable")}
    for value in (0, 4, 7, 20):  # ACCEPTED = 4, RESERVED 5..15, VENDOR SPECIFIC 16..23
        assert Draft7Validator(as_schema).is_valid(value), value
        assert not Draft7Validator(their_schema).is_valid(value), value
    assert not Draft7Validator(as_schema).is_valid(24)
    assert {"title": "ACCEPTED", "const": 4, "description": "The measured value is OK."} in ours[
        "oneOf"
    ]


def test_the_network_guard_catches_a_converter_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard is not idle by construction: the pre-RFC reference form does reach it."""
    attempts: list[str] = []

    def guard(url: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(str(url))
        raise OSError("network access is disabled in this comparison")

    monkeypatch.setattr(urllib.request, "urlopen", guard)
    model = {
        "namespace": {"ex": "https://example.com/ns"},
        "defaultNamespace": "ex",
        "sdfObject": {"o": {"sdfProperty": {"p": {"sdfRef": "ex:/sdfData/d"}}}},
    }
    with pytest.raises(Exception, match="could be retrieved"):
        sdf_wot_converter.convert_sdf_to_wot_tm(model)
    assert attempts == ["https://example.com/ns"]
