"""Validate SDF documents: strict schema, references, semantics, then the resolved model.

For each document named on the command line (the *targets*) the validator:

1. reports load failures (unreadable file, bad JSON, not an object);
2. runs the strict RFC 9880 Appendix B schema (``schema.py``);
3. runs the semantic checks the schema cannot express (``checks.py``);
4. dereferences every ``sdfRef`` and checks every ``sdfRequired`` entry,
   across documents through the namespace map and the local registry
   (RFC 9880 §4.3-§4.5), and detects reference cycles;
5. resolves the document and, when ``sdfRef`` changed it, checks the resolved
   model again: resolution can produce invalid SDF (RFC 9880 §4.4.1).

Nothing is ever fetched from the network. Every failure becomes an ``Issue``;
no exception escapes for a broken input file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.modeling import pointers
from server.modeling.checks import data_issues, document_issues
from server.modeling.issues import ERROR, WARNING, Issue, Severity, count_errors, sort_issues
from server.modeling.registry import DocumentLoadError, ModelRegistry, SdfDocument
from server.modeling.resolve import (
    ResolutionError,
    ResolvedDocument,
    Resolver,
    required_members,
    split_global_name,
)
from server.modeling.schema import schema_issues
from server.modeling.walk import iter_nodes

__all__ = [
    "MAX_DEPTH",
    "MODEL_PATH_ENV",
    "Report",
    "json_depth",
    "load_registry",
    "model_path_from_env",
    "validate_data",
    "validate_document",
    "validate_paths",
    "validate_registry",
]

#: Directories searched for documents that cross-document references name.
MODEL_PATH_ENV = "NDTWIN_MODEL_PATH"
_RESOLVED_NOTE = " (in the resolved model)"
#: Deepest JSON nesting checked; real models stay far below it, and deeper input
#: would exhaust the recursion of the schema validator.
MAX_DEPTH = 128


@dataclass
class Report:
    """The outcome of validating a set of documents."""

    files: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    #: Resolved form of every target without errors, in input order.
    resolved: list[ResolvedDocument] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return count_errors(self.issues)

    @property
    def warnings(self) -> int:
        return len(self.issues) - self.errors

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "files": self.files,
            "errors": self.errors,
            "warnings": self.warnings,
            "issues": [issue.to_json() for issue in self.issues],
        }


def model_path_from_env() -> list[str]:
    """Registry directories listed in ``$NDTWIN_MODEL_PATH`` (``os.pathsep``-separated)."""
    value = os.environ.get(MODEL_PATH_ENV, "")
    return [part for part in value.split(os.pathsep) if part]


def _load_issue(error: DocumentLoadError, severity: Severity = ERROR) -> Issue:
    return Issue(str(error.path), "", error.rule, severity, error.message)


def load_registry(
    paths: Iterable[str | Path], registry_paths: Iterable[str | Path] = ()
) -> tuple[ModelRegistry, list[SdfDocument], list[Issue]]:
    """Load targets and registry documents; returns the registry, the targets, load issues.

    A directory among ``paths`` that holds no model is an error (a typo should
    not pass as "0 files, all valid"). Broken files in registry directories are
    warnings: they only matter if something refers to them.
    """
    registry = ModelRegistry()
    issues: list[Issue] = []
    targets: list[SdfDocument] = []
    for raw in paths:
        path = Path(raw)
        loaded, failed = registry.add_paths([path])
        targets.extend(loaded)
        issues.extend(_load_issue(e) for e in failed)
        if (
            path.is_dir()
            and not loaded
            and not failed
            and not any(t.path.is_relative_to(path) for t in targets)
        ):
            issues.append(
                Issue(str(path), "", "no-models", ERROR, "no *.sdf.json file in this directory")
            )
    _, failed = registry.add_paths(registry_paths)
    issues.extend(_load_issue(e, WARNING) for e in failed)
    return registry, targets, issues


def _reference_issues(doc: SdfDocument, resolver: Resolver, file: str) -> list[Issue]:
    """Every sdfRef that does not dereference, and every sdfRequired prefix not declared."""
    issues: list[Issue] = []
    for node in iter_nodes(doc.data):
        q = node.qualities
        if "sdfRef" in q and node.pointer:
            try:
                resolver.dereference(doc, q["sdfRef"], node.pointer + "/sdfRef")
            except ResolutionError as exc:
                issues.append(Issue(file, exc.pointer, exc.rule, ERROR, exc.message))
        entries = q.get("sdfRequired")
        if isinstance(entries, list):
            for i, entry in enumerate(entries):
                if not isinstance(entry, str) or entry.startswith("#"):
                    continue
                prefix, sep, _ = entry.partition(":")
                if sep and not isinstance(doc.namespaces.get(prefix), str):
                    issues.append(
                        Issue(
                            file,
                            f"{node.pointer}/sdfRequired/{i}",
                            "sdfrequired-namespace",
                            ERROR,
                            f"sdfRequired {entry!r} uses prefix {prefix!r}, which the "
                            "namespace map does not define",
                        )
                    )
    return issues


def _lookup_global(
    name: str, doc: SdfDocument, expanded: dict[str, Any], resolver: Resolver
) -> Any:
    """The node a global name selects, in expanded documents; ``KeyError`` if none."""
    uri, pointer = split_global_name(name)
    if uri == doc.base_uri:
        return pointers.lookup(expanded, pointer)
    for other in resolver.registry.by_base_uri(uri):
        if other is doc:
            continue
        try:
            body = resolver.expand(other)
        except ResolutionError:
            body = other.data
        try:
            return pointers.lookup(body, pointer)
        except (KeyError, ValueError):
            continue
    raise KeyError(name)


def _as_written(doc: SdfDocument, at: str, entry: str) -> str:
    """The sdfRequired entry as the document spells it (before it became a global name)."""
    try:
        written = pointers.lookup(doc.data, at)
    except (KeyError, ValueError):
        return entry
    return written if isinstance(written, str) else entry


def _required_issues(
    doc: SdfDocument, expanded: dict[str, Any], resolver: Resolver, file: str
) -> list[Issue]:
    """sdfRequired entries that select nothing, checked on the merged tree (RFC 9880 §4.5)."""
    issues: list[Issue] = []
    for node in iter_nodes(expanded):
        entries = node.qualities.get("sdfRequired")
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            at = f"{node.pointer}/sdfRequired/{i}"
            if not isinstance(entry, str):
                continue  # true is always satisfied; other values are schema errors
            if ":" not in entry and "#" not in entry:
                if not required_members(node.qualities, entry):
                    issues.append(
                        Issue(
                            file,
                            at,
                            "sdfrequired-unresolved",
                            ERROR,
                            f"sdfRequired names {entry!r}, but no affordance or grouping of that "
                            "name is directly in this definition",
                        )
                    )
                continue
            try:
                target = _lookup_global(entry, doc, expanded, resolver)
            except (KeyError, ValueError):
                target = None
            if not isinstance(target, dict):
                issues.append(
                    Issue(
                        file,
                        at,
                        "sdfrequired-unresolved",
                        ERROR,
                        f"sdfRequired {_as_written(doc, at, entry)!r} selects no definition",
                    )
                )
    return issues


def _resolved_issues(
    resolved: ResolvedDocument, file: str, known: set[tuple[str, str]]
) -> list[Issue]:
    """Schema and semantic issues that only the resolved model has."""
    found = schema_issues(resolved.body, file) + data_issues(resolved.body, file)
    return [
        Issue(i.file, i.pointer, i.rule, i.severity, i.message + _RESOLVED_NOTE)
        for i in found
        if (i.pointer, i.rule) not in known
    ]


def _has_sdfref(doc: SdfDocument) -> bool:
    return any("sdfRef" in node.qualities for node in iter_nodes(doc.data) if node.pointer)


def json_depth(value: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0), computed without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(file: str, what: str) -> Issue:
    return Issue(file, "", "nesting-depth", ERROR, f"{what}; ndtwin checks at most {MAX_DEPTH}")


def validate_document(
    doc: SdfDocument, resolver: Resolver
) -> tuple[list[Issue], ResolvedDocument | None]:
    """All issues of one loaded document, and its resolved form when it has no errors."""
    file = str(doc.path)
    depth = json_depth(doc.data)
    if depth > MAX_DEPTH:
        return [_too_deep(file, f"the document nests {depth} levels deep")], None
    try:
        return _validate_document(doc, resolver, file)
    except RecursionError:
        # Resolution can build a tree deeper than the document itself.
        return [_too_deep(file, "the resolved document nests too deeply")], None


def _validate_document(
    doc: SdfDocument, resolver: Resolver, file: str
) -> tuple[list[Issue], ResolvedDocument | None]:
    issues = schema_issues(doc.data, file)
    issues += document_issues(doc.data, file)
    issues += data_issues(doc.data, file)
    reference = _reference_issues(doc, resolver, file)
    issues += reference
    if reference:
        return sort_issues(issues), None
    try:
        expanded = resolver.expand(doc)
    except ResolutionError as exc:
        issues.append(Issue(file, exc.pointer, exc.rule, ERROR, exc.message))
        return sort_issues(issues), None
    issues += _required_issues(doc, expanded, resolver, file)
    resolved = resolver.resolve_document(doc)
    if _has_sdfref(doc):
        issues += _resolved_issues(resolved, file, {(i.pointer, i.rule) for i in issues})
    ok = count_errors(issues) == 0
    return sort_issues(issues), resolved if ok else None


def validate_registry(registry: ModelRegistry, targets: Sequence[SdfDocument]) -> Report:
    """Validate ``targets``; references may land in any document of ``registry``."""
    resolver = Resolver(registry)
    report = Report()
    for doc in targets:
        report.files.append(str(doc.path))
        issues, resolved = validate_document(doc, resolver)
        report.issues.extend(issues)
        if resolved is not None:
            report.resolved.append(resolved)
    return report


def validate_paths(
    paths: Iterable[str | Path], registry_paths: Iterable[str | Path] = ()
) -> Report:
    """Validate every ``*.sdf.json`` under ``paths``; ``registry_paths`` only supply references."""
    paths = list(paths)
    registry, targets, load_issues = load_registry(paths, registry_paths)
    report = validate_registry(registry, targets)
    report.files = [
        *(i.file for i in load_issues if i.rule != "no-models" and i.severity == ERROR),
        *report.files,
    ]
    report.issues = sort_issues([*load_issues, *report.issues])
    return report


def validate_data(
    data: Any, file: str = "<memory>", registry: ModelRegistry | None = None
) -> list[Issue]:
    """Issues of one in-memory document (for tests and importers); no file is read."""
    if not isinstance(data, dict):
        return [
            Issue(file, "", "document-not-object", ERROR, "an SDF document must be a JSON object")
        ]
    registry = registry or ModelRegistry()
    doc = SdfDocument(path=Path(file), data=data)
    registry.add(doc)
    issues, _ = validate_document(doc, Resolver(registry))
    return issues
