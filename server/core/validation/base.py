"""The validator seam: the core asks one question, implementations answer it.

Two implementations decide identically (a differential test proves it): the
compiled JSON Schema validator for the hot path, and pyshacl over the twin's own
subgraph as the reference. Cost never depends on the size of the graph: only the
changed twin (or relationship) is looked at.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from server.core.errors import ValidationDetail

__all__ = ["TwinValidator", "unknown_definitions"]


class TwinValidator(ABC):
    """Checks one twin or relationship; returns every violation (empty when valid)."""

    #: True when a check takes microseconds (compiled schemas), False when it takes
    #: milliseconds (pyshacl over a graph): only fast checks run on an event loop.
    fast: ClassVar[bool] = True

    @abstractmethod
    def validate_twin(self, doc: dict[str, Any]) -> list[ValidationDetail]:
        """Violations of ``doc`` (a Ditto thing JSON) against its definition's shapes."""

    @abstractmethod
    def validate_relationship(
        self, rel_type: str, properties: dict[str, Any]
    ) -> list[ValidationDetail]:
        """Violations of a relationship's properties against its type's model."""

    def known_definition(self, definition: str) -> bool:
        """Whether ``definition`` names a model this validator has shapes for."""
        return False


def unknown_definitions(
    doc: dict[str, Any], claims: Callable[[str], bool], known: Callable[[str], bool]
) -> list[ValidationDetail]:
    """Definitions in one of our namespaces that name no model (a typo must not pass)."""
    found: list[tuple[str, str]] = []
    definition = doc.get("definition")
    if isinstance(definition, str):
        found.append(("/definition", definition))
    features = doc.get("features")
    if isinstance(features, dict):
        for fid, feature in features.items():
            if isinstance(feature, dict) and isinstance(feature.get("definition"), list):
                found += [
                    (f"/features/{fid}/definition/{i}", d)
                    for i, d in enumerate(feature["definition"])
                    if isinstance(d, str)
                ]
    return [
        ValidationDetail(
            str(doc.get("thingId", "")),
            where,
            "ndt:knownModel",
            value,
            f"'{value}' names no model this server knows",
        )
        for where, value in found
        if claims(value) and not known(value)
    ]
