"""The hot-path validator: JSON Schema 2020-12 compiled from the same twin types as the shapes.

``server.modeling.compilers.jsonschema`` compiles every sdfObject/sdfThing into a schema
of the Ditto-shaped twin and applies it the way SHACL targets classes (a twin by its
``definition``, each feature by its ``definition`` array). A differential test
(``tests/server/modeling/test_shacl_jsonschema_equivalence.py`` and
``tests/server/core/test_validators_agree.py``) proves the decisions equal pyshacl's on the
compiled shapes, so this validator may stand in for pyshacl on every write.
"""

from __future__ import annotations

import re
from typing import Any

from server.core.catalog import ModelCatalog
from server.core.errors import ValidationDetail
from server.core.validation.base import TwinValidator, unknown_definitions
from server.modeling import pointers
from server.modeling.compilers.jsonschema import TwinSchemas, document_schemas

__all__ = ["CompiledValidator"]


_REQUIRED = re.compile(r"^'(?P<key>[^']+)' is a required property$")


def _detail(doc: Any, focus: str, line: str) -> ValidationDetail:
    where, _, message = line.partition(": ")
    path = where if where.startswith("/") else "/"
    missing = _REQUIRED.match(message)
    if missing:
        # Report a missing member where it belongs, as SHACL's sh:minCount does.
        path = path.rstrip("/") + "/" + missing["key"]
    try:
        value = pointers.lookup(doc, path) if path != "/" else None
    except (KeyError, ValueError):
        value = None
    return ValidationDetail(focus_node=focus, path=path, constraint="json-schema",
                            value=value, message=message or line)


class CompiledValidator(TwinValidator):
    """Validates with the compiled JSON Schemas of the catalog's models."""

    def __init__(self, catalog: ModelCatalog) -> None:
        self.catalog = catalog
        self.schemas = TwinSchemas(
            (schema for doc in catalog.documents for schema in document_schemas(doc).values()),
            class_of=catalog.class_iri)

    def known_definition(self, definition: str) -> bool:
        return self.catalog.find(definition) is not None

    def validate_twin(self, doc: dict[str, Any]) -> list[ValidationDetail]:
        unknown = unknown_definitions(doc, self.catalog.claims, self.known_definition)
        if unknown:
            return unknown
        focus = str(doc.get("thingId", ""))
        return [_detail(doc, focus, line) for line in self.schemas.twin_errors(doc)]

    def validate_relationship(self, rel_type: str, properties: dict[str, Any]
                              ) -> list[ValidationDetail]:
        entry = self.catalog.relationship_model(rel_type)
        if entry is None:
            return []
        # A relationship's properties follow its model as a twin's attributes do.
        as_twin = {"thingId": "relationship:properties", "definition": entry.tm_url,
                   "attributes": properties}
        return [_detail(as_twin, "relationship", line)
                for line in self.schemas.twin_errors(as_twin)]
