"""The reference validator: pyshacl over the twin's own subgraph.

The data graph holds only the changed twin's projection (or a relationship's), never
the tenant's whole graph, so the cost of a check does not grow with the graph
(issue: "validate the twin's own subgraph only"). It is slow (milliseconds per twin);
the hot path uses :mod:`server.core.validation.compiled`, which a differential test
proves to decide exactly as this one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyshacl
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef

from server.core.catalog import ModelCatalog
from server.core.errors import ValidationDetail
from server.core.validation.base import TwinValidator, unknown_definitions
from server.modeling import projection, vocab
from server.modeling.compilers import shacl
from server.modeling.resolve import ResolvedDocument

__all__ = ["ShaclValidator", "shapes_of"]

SH = Namespace("http://www.w3.org/ns/shacl#")
_TENANT = "validation"
_KEY_PREFIX = str(vocab.KEY)


def shapes_of(documents: Iterable[ResolvedDocument]) -> Graph:
    """One shapes graph holding the compiled shapes of ``documents``.

    Blank nodes are relabelled per document while merging: two documents' graphs may use
    the same labels, and a plain union would splice one model's lists into another's.
    """
    graph = Graph()
    for index, doc in enumerate(documents):

        def node(term: Any, tag: str = f"d{index}_") -> Any:
            return BNode(tag + str(term)) if isinstance(term, BNode) else term

        for s, p, o in shacl.shapes_graph(doc):
            graph.add((node(s), p, node(o)))
    return graph


def _pointer(focus: str, root: str, path: Any) -> str | None:
    """A JSON pointer for a result: the focus node below the twin plus the key."""
    below = focus[len(root) :] if focus.startswith(root) else ""
    parts = below.split("/")
    if len(parts) == 3 and parts[1] == "features":
        below += "/properties"  # a feature's own keys are its properties
    key = (
        str(path)[len(_KEY_PREFIX) :]
        if isinstance(path, URIRef) and str(path).startswith(_KEY_PREFIX)
        else None
    )
    if key is None:
        return below or None
    return f"{below}/{key}" if below else f"/attributes/{key}"


def _value(term: Any) -> Any:
    if isinstance(term, Literal):
        return term.toPython() if not isinstance(term.toPython(), Literal) else str(term)
    return None if term is None else str(term)


class ShaclValidator(TwinValidator):
    """Validates with pyshacl against the catalog's compiled shapes."""

    fast = False

    def __init__(self, catalog: ModelCatalog) -> None:
        self.catalog = catalog
        self._shapes: dict[tuple[int, ...], Graph] = {}

    def shapes_for(self, doc: dict[str, Any]) -> Graph:
        """The shapes of the documents that define this twin and its features.

        Each document's shapes are complete after resolution, so a twin is checked against
        its own models' shapes only (which also keeps pyshacl's work small).
        """
        definitions = [doc.get("definition")]
        for feature in (doc.get("features") or {}).values():
            if isinstance(feature, dict) and isinstance(feature.get("definition"), list):
                definitions += feature["definition"]
        docs = {
            id(e.document): e.document
            for d in definitions
            if isinstance(d, str)
            if (e := self.catalog.find(d)) is not None
        }
        key = tuple(sorted(docs))
        if key not in self._shapes:
            self._shapes[key] = shapes_of(docs[k] for k in key)
        return self._shapes[key]

    def known_definition(self, definition: str) -> bool:
        return self.catalog.find(definition) is not None

    def validate_twin(self, doc: dict[str, Any]) -> list[ValidationDetail]:
        unknown = unknown_definitions(doc, self.catalog.claims, self.known_definition)
        if unknown:
            return unknown
        if self.catalog.find(str(doc.get("definition", ""))) is None and not any(
            isinstance(f, dict) and f.get("definition")
            for f in (doc.get("features") or {}).values()
        ):
            return []
        data = Graph()
        for triple in projection.project_twin(_TENANT, doc, self.catalog.class_iri):
            data.add(triple)
        root = str(vocab.twin_iri(_TENANT, str(doc.get("thingId", ""))))
        return self._run(data, self.shapes_for(doc), root)

    def validate_relationship(
        self, rel_type: str, properties: dict[str, Any]
    ) -> list[ValidationDetail]:
        entry = self.catalog.relationship_model(rel_type)
        if entry is None:
            return []
        # A relationship's properties follow its model as a twin's attributes do.
        return self.validate_twin(
            {
                "thingId": "relationship:properties",
                "definition": entry.tm_url,
                "attributes": properties,
            }
        )

    def _run(self, data: Graph, shapes: Graph, root: str) -> list[ValidationDetail]:
        conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes, advanced=True)
        if conforms:
            return []
        details = []
        for result in results.subjects(RDF.type, SH.ValidationResult):
            focus = str(results.value(result, SH.focusNode))
            component = results.value(result, SH.sourceConstraintComponent)
            message = results.value(result, SH.resultMessage)
            details.append(
                ValidationDetail(
                    focus_node=focus,
                    path=_pointer(focus, root, results.value(result, SH.resultPath)),
                    constraint=str(component).replace(str(SH), "sh:") if component else "sh:?",
                    value=_value(results.value(result, SH.value)),
                    message=str(message) if message else "constraint violated",
                )
            )
        return sorted(details, key=lambda d: (d.path or "", d.constraint))
