"""A local registry of SDF documents, indexed by file and by namespace URI.

Namespace URIs are names, never locations: nothing is fetched from the network
(RFC 9880 §4: global names "need not be dereferenceable"). Cross-document
``sdfRef`` values resolve only against documents loaded here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.modeling import pointers

__all__ = [
    "DocumentLoadError",
    "ModelRegistry",
    "SdfDocument",
    "iter_model_files",
    "load_document",
]

SDF_SUFFIX = ".sdf.json"


class DocumentLoadError(Exception):
    """A file could not be read or is not a JSON object; ``rule`` names which."""

    def __init__(
        self, path: Path, message: str, rule: str = "file-unreadable", line: int | None = None
    ) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.rule = rule
        self.line = line


@dataclass
class SdfDocument:
    """One parsed SDF document as written (``sdfRef`` not yet resolved)."""

    path: Path
    data: dict[str, Any]

    @property
    def namespaces(self) -> dict[str, str]:
        ns = self.data.get("namespace")
        return dict(ns) if isinstance(ns, dict) else {}

    @property
    def default_namespace(self) -> str | None:
        """The URI of ``defaultNamespace``, or ``None`` if the document has none."""
        name = self.data.get("defaultNamespace")
        if isinstance(name, str):
            uri = self.namespaces.get(name)
            return uri if isinstance(uri, str) else None
        return None

    @property
    def base_uri(self) -> str:
        """URI under which this document's definitions get global names.

        Documents without a default namespace contribute no global names
        (RFC 9880 §4); ndtwin still needs stable IRIs for them, so it uses a
        URN derived from the file name.
        """
        return self.default_namespace or f"urn:ndtwin:sdf:{self.stem}"

    @property
    def stem(self) -> str:
        name = self.path.name
        return name[: -len(SDF_SUFFIX)] if name.endswith(SDF_SUFFIX) else self.path.stem


def iter_model_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Yield ``*.sdf.json`` files from files and directories (recursively), sorted."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob(f"*{SDF_SUFFIX}") if p.is_file())
        else:
            yield path


def load_document(path: Path) -> SdfDocument:
    """Read and parse one file; every failure is a ``DocumentLoadError``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DocumentLoadError(path, f"cannot read file: {reason}") from exc
    try:
        # RFC 8259 §8.1: JSON exchanged between systems is UTF-8 (a BOM is tolerated).
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentLoadError(
            path, f"not UTF-8 text (byte {exc.start}: {exc.reason})", rule="file-unreadable"
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentLoadError(
            path,
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            rule="json-syntax",
            line=exc.lineno,
        ) from exc
    except RecursionError as exc:
        raise DocumentLoadError(path, "JSON nested too deeply to read", rule="json-syntax") from exc
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        kind = {
            "list": "an array",
            "str": "a string",
            "int": "a number",
            "float": "a number",
            "bool": "a boolean",
            "null": "null",
        }.get(kind, kind)
        raise DocumentLoadError(
            path, f"an SDF document must be a JSON object, not {kind}", rule="document-not-object"
        )
    return SdfDocument(path=path, data=data)


@dataclass
class ModelRegistry:
    """SDF documents by path and by the namespace URI they contribute to."""

    documents: list[SdfDocument] = field(default_factory=list)
    load_errors: list[DocumentLoadError] = field(default_factory=list)

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path]) -> ModelRegistry:
        """Load every ``*.sdf.json`` under ``paths``; failures go to ``load_errors``."""
        registry = cls()
        registry.add_paths(paths)
        return registry

    def add_paths(
        self, paths: Iterable[str | Path]
    ) -> tuple[list[SdfDocument], list[DocumentLoadError]]:
        """Load files and directories not loaded yet; returns what this call loaded and failed.

        A file reached twice (named and inside a registry directory) is loaded once.
        """
        known = {_identity(d.path) for d in self.documents}
        known.update(_identity(e.path) for e in self.load_errors)
        loaded: list[SdfDocument] = []
        failed: list[DocumentLoadError] = []
        for file in iter_model_files(paths):
            identity = _identity(file)
            if identity in known:
                continue
            known.add(identity)
            try:
                doc = load_document(file)
            except DocumentLoadError as exc:
                self.load_errors.append(exc)
                failed.append(exc)
                continue
            self.documents.append(doc)
            loaded.append(doc)
        return loaded, failed

    def add_file(self, path: Path) -> SdfDocument | None:
        try:
            doc = load_document(path)
        except DocumentLoadError as exc:
            self.load_errors.append(exc)
            return None
        self.documents.append(doc)
        return doc

    def add(self, doc: SdfDocument) -> None:
        self.documents.append(doc)

    def by_namespace(self, uri: str) -> list[SdfDocument]:
        """Documents whose ``defaultNamespace`` is ``uri`` (several may contribute)."""
        return [d for d in self.documents if d.default_namespace == uri]

    def by_base_uri(self, uri: str) -> list[SdfDocument]:
        """Documents whose definitions get global names under ``uri`` (see ``base_uri``)."""
        return [d for d in self.documents if d.base_uri == uri]

    def find(self, uri: str, pointer: str) -> tuple[SdfDocument, Any] | None:
        """Find the definition named ``uri#pointer`` in any document of that namespace."""
        for doc in self.by_namespace(uri):
            try:
                return doc, pointers.lookup(doc.data, pointer)
            except (KeyError, ValueError):
                continue
        return None


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()
