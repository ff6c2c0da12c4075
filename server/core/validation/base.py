"""The validator seam: the core asks one question, implementations answer it.

Two implementations decide identically (a differential test proves it): the
compiled JSON Schema validator for the hot path, and pyshacl over the twin's own
subgraph as the reference. Cost never depends on the size of the graph: only the
changed twin (or relationship) is looked at.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from server.core.errors import ValidationDetail

__all__ = ["TwinValidator"]


class TwinValidator(ABC):
    """Checks one twin or relationship; returns every violation (empty when valid)."""

    @abstractmethod
    def validate_twin(self, doc: dict[str, Any]) -> list[ValidationDetail]:
        """Violations of ``doc`` (a Ditto thing JSON) against its definition's shapes."""

    @abstractmethod
    def validate_relationship(self, rel_type: str, properties: dict[str, Any]
                              ) -> list[ValidationDetail]:
        """Violations of a relationship's properties against its type's model."""

    def known_definition(self, definition: str) -> bool:
        """Whether ``definition`` names a model this validator has shapes for."""
        return False
