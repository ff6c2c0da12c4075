"""The validator on 372 real SDF models nobody here wrote (``../shared/corpus/onedm``).

Expected verdicts come from ``validation-results.csv`` in the corpus, made with
python-jsonschema and the RFC 9880 Appendix B validation schema; the rates per
folder are also recorded in ``docs/models.md``.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from server.modeling import pointers
from server.modeling.issues import Issue
from server.modeling.schema import schema_issues
from server.modeling.validate import Report, validate_paths

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus" / "onedm"
DOCS = ROOT / "docs" / "models.md"
LINE = re.compile(r"^[^\n]+:/[^\n]*: error \[[a-z0-9-]+\] [^\n]+$")

#: folder -> (files, pass the strict schema, pass ndtwin's whole validation)
RATES = {
    "playground": (187, 187, 187),
    "ocf-models": (156, 142, 142),
    "exploratory": (25, 7, 6),
    "rfc9880-examples": (4, 4, 4),
}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/onedm is absent")


def _folder(relative: str) -> str:
    return relative.split("/", 1)[0]


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, str]]:
    with (CORPUS / "validation-results.csv").open(encoding="utf-8", newline="") as f:
        return {row["path"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def documents(expected: dict[str, dict[str, str]]) -> dict[str, object]:
    return {rel: json.loads((CORPUS / rel).read_text(encoding="utf-8")) for rel in expected}


@pytest.fixture(scope="module")
def report() -> tuple[Report, float]:
    """The whole corpus in one run: every file is a target and part of the registry."""
    started = time.process_time()
    result = validate_paths([CORPUS])
    return result, time.process_time() - started


@pytest.fixture(scope="module")
def issues_by_file(report: tuple[Report, float]) -> dict[str, list[Issue]]:
    by_file: dict[str, list[Issue]] = defaultdict(list)
    for issue in report[0].issues:
        by_file[Path(issue.file).relative_to(CORPUS).as_posix()].append(issue)
    return by_file


def test_the_corpus_is_the_one_the_csv_describes(expected: dict[str, dict[str, str]]) -> None:
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.sdf.json")}
    assert on_disk == set(expected)
    assert len(on_disk) == 372


def test_strict_schema_verdict_matches_the_csv_for_every_file(
    expected: dict[str, dict[str, str]], documents: dict[str, object]
) -> None:
    mismatches = []
    for rel, row in expected.items():
        verdict = "fail" if schema_issues(documents[rel], rel) else "pass"
        if verdict != row["rfc9880_validation_schema"]:
            mismatches.append((rel, verdict))
    assert mismatches == []
    assert sum(row["rfc9880_validation_schema"] == "pass" for row in expected.values()) == 340


def test_every_failing_file_gets_precise_one_line_errors(
    expected: dict[str, dict[str, str]],
    documents: dict[str, object],
    issues_by_file: dict[str, list[Issue]],
) -> None:
    for rel, row in expected.items():
        if row["rfc9880_validation_schema"] != "fail":
            continue
        schema = [i for i in issues_by_file[rel] if i.rule.startswith("schema-") and i.is_error]
        assert schema, rel
        for issue in schema:
            assert LINE.match(issue.render()), issue.render()
            if not issue.message.endswith("(in the resolved model)"):
                # Precise: the pointer names a member that exists in the file.
                pointers.lookup(documents[rel], issue.pointer)
        # The location python-jsonschema reported first is among ours, or above ours.
        reference = row["first_validation_error"].split(": ", 1)[0]
        assert any(i.pointer.startswith("/" + reference) for i in schema), (rel, reference)


def test_rates_per_folder(
    expected: dict[str, dict[str, str]], issues_by_file: dict[str, list[Issue]]
) -> None:
    files: Counter[str] = Counter()
    schema_pass: Counter[str] = Counter()
    full_pass: Counter[str] = Counter()
    for rel, row in expected.items():
        folder = _folder(rel)
        files[folder] += 1
        schema_pass[folder] += row["rfc9880_validation_schema"] == "pass"
        full_pass[folder] += not any(i.is_error for i in issues_by_file[rel])
    measured = {f: (files[f], schema_pass[f], full_pass[f]) for f in files}
    assert measured == RATES


def test_the_only_schema_valid_file_ndtwin_rejects_inherits_errors_by_sdfref(
    expected: dict[str, dict[str, str]], issues_by_file: dict[str, list[Issue]]
) -> None:
    rejected = [
        rel
        for rel, row in expected.items()
        if row["rfc9880_validation_schema"] == "pass"
        and any(i.is_error for i in issues_by_file[rel])
    ]
    assert rejected == ["exploratory/strawman-examples/CAP/sdfobject-oven-mode.sdf.json"]
    errors = [i for i in issues_by_file[rejected[0]] if i.is_error]
    # ex:#/sdfData/OvenMode lives in a file that uses the pre-RFC sdfEnum.
    assert all(i.message.endswith("(in the resolved model)") for i in errors)
    assert {i.rule for i in errors} == {"schema-additional-properties"}


def test_docs_record_the_same_rates() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for folder, (files, schema, full) in RATES.items():
        row = re.search(
            rf"^\| `{re.escape(folder)}/` \| (\d+) \| (\d+) \| (\d+) \|", text, re.MULTILINE
        )
        assert row is not None, folder
        assert tuple(map(int, row.groups())) == (files, schema, full)
