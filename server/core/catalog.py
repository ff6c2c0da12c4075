"""The models a server knows: compiled SDF groupings, found by a twin's ``definition``.

A twin's ``definition`` is the URL of a WoT Thing Model (what Ditto stores and what our
Ditto compiler writes into skeletons, e.g.
``https://w3id.org/ndtwin/tm/cellular/LteCell.tm.jsonld``); the SDF global name of the
grouping (``https://w3id.org/ndtwin/models/cellular#/sdfObject/LteCell``) is accepted as
an alias. Each entry also knows its RDF class IRI, which the graph projection types the
twin with and the SHACL shapes target.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.modeling import pointers
from server.modeling.compilers import ditto, wot
from server.modeling.issues import Issue
from server.modeling.resolve import ResolvedDocument
from server.modeling.validate import validate_paths

__all__ = [
    "DEFAULT_MODEL_DIR",
    "RELATIONSHIP_MODELS",
    "ModelCatalog",
    "ModelEntry",
    "ModelLoadError",
]

#: Our own models, shipped in the repository.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "sdf"

#: Relationship types whose properties follow a model (by sdfObject name).
RELATIONSHIP_MODELS = {"observes": "Observation"}


class ModelLoadError(Exception):
    """The model directories hold invalid models; ``issues`` lists every error."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("invalid models:\n" + "\n".join(i.render() for i in issues))
        self.issues = issues


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One sdfObject or sdfThing a twin can be defined by."""

    document: ResolvedDocument
    pointer: str
    kind: str
    name: str
    class_iri: str
    tm_url: str

    @property
    def aliases(self) -> tuple[str, str]:
        return self.tm_url, self.class_iri

    @property
    def node(self) -> dict[str, Any]:
        node = pointers.lookup(self.document.body, self.pointer)
        assert isinstance(node, dict)
        return node

    def skeleton(self) -> dict[str, Any]:
        """The body Ditto's WoT rules would create for a new twin of this model."""
        body = ditto.skeleton_for(self.document, self.pointer)
        body["definition"] = self.tm_url
        return body


class ModelCatalog:
    """Resolved models indexed by every name a ``definition`` may use."""

    def __init__(self, documents: Iterable[ResolvedDocument]) -> None:
        self.documents = list(documents)
        self._by_alias: dict[str, ModelEntry] = {}
        self._by_name: dict[str, ModelEntry] = {}
        for doc in self.documents:
            for pointer in wot.grouping_pointers(doc):
                tokens = pointers.split(pointer)
                entry = ModelEntry(
                    doc,
                    pointer,
                    tokens[-2],
                    tokens[-1],
                    f"{doc.base_uri}#{pointer}",
                    wot.tm_url(doc, pointer),
                )
                for alias in entry.aliases:
                    self._by_alias[alias] = entry
                if len(tokens) == 2:
                    self._by_name.setdefault(entry.name, entry)

    @classmethod
    def load(cls, paths: Iterable[str | Path] = (DEFAULT_MODEL_DIR,)) -> ModelCatalog:
        """Validate and resolve every model under ``paths``; invalid models refuse to load."""
        report = validate_paths(list(paths))
        if not report.valid:
            raise ModelLoadError([i for i in report.issues if i.severity == "error"])
        return cls(report.resolved)

    def __iter__(self) -> Iterator[ModelEntry]:
        seen: set[int] = set()
        for entry in self._by_alias.values():
            if id(entry) not in seen:
                seen.add(id(entry))
                yield entry

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def find(self, definition: str) -> ModelEntry | None:
        """The model a ``definition`` names, or None."""
        return self._by_alias.get(definition)

    def by_name(self, name: str) -> ModelEntry | None:
        """A top-level sdfObject/sdfThing by its given name (first document wins)."""
        return self._by_name.get(name)

    def claims(self, definition: str) -> bool:
        """Whether ``definition`` lies in a namespace of ours (so it must name a model)."""
        if definition.startswith(wot.TM_BASE):
            return True
        return any(definition.startswith(doc.base_uri + "#") for doc in self.documents)

    def class_iri(self, definition: str) -> str | None:
        """The RDF class of twins with this definition (for the graph projection)."""
        entry = self._by_alias.get(definition)
        return entry.class_iri if entry else None

    def relationship_model(self, rel_type: str) -> ModelEntry | None:
        name = RELATIONSHIP_MODELS.get(rel_type)
        return self._by_name.get(name) if name else None
