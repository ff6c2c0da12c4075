"""Walk an SDF document by its structure (RFC 9880 §2.2, §3.3).

SDF maps alternate between maps keyed by SDF keywords (*qualities*) and maps
keyed by names the modeller chose (definition groups, ``sdfChoice``,
``properties``). A generic JSON walk cannot tell ``{"sdfRef": ...}`` the
quality from a property a modeller named ``sdfRef``; this walk can. It never
trusts the input: anything of the wrong JSON type is skipped, so it is safe on
documents that fail the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from server.modeling import pointers

__all__ = [
    "DATA_ROLES",
    "GROUP_ROLES",
    "NAMED_MAPS",
    "NESTED_NODES",
    "Node",
    "iter_nodes",
]

#: Definition groups and the role their entries play.
GROUP_ROLES: dict[str, str] = {
    "sdfThing": "thing",
    "sdfObject": "object",
    "sdfProperty": "property",
    "sdfAction": "action",
    "sdfEvent": "event",
    "sdfData": "data",
}
#: Every map whose keys are names given by the modeller (value: role of its entries).
NAMED_MAPS: dict[str, str] = {**GROUP_ROLES, "sdfChoice": "choice", "properties": "member"}
#: Qualities whose value is one nested set of data qualities.
NESTED_NODES: dict[str, str] = {
    "items": "items",
    "sdfInputData": "input",
    "sdfOutputData": "output",
}
#: Roles of nodes that carry data qualities (RFC 9880 §4.7).
DATA_ROLES = frozenset({"property", "data", "choice", "member", "items", "input", "output"})


@dataclass(frozen=True, slots=True)
class Node:
    """One map of qualities: the document root, a definition or a nested data schema."""

    pointer: str
    role: str
    qualities: dict[str, Any]

    @property
    def carries_data(self) -> bool:
        return self.role in DATA_ROLES


def iter_nodes(
    document: dict[str, Any], pointer: str = "", role: str = "document"
) -> Iterator[Node]:
    """Yield ``document`` and every quality map under it, depth first, in document order."""
    yield Node(pointer, role, document)
    for key, value in document.items():
        if not isinstance(value, dict):
            continue
        at = pointer + "/" + pointers.escape_token(key)
        if key in NAMED_MAPS:
            child_role = NAMED_MAPS[key]
            for name, child in value.items():
                if isinstance(child, dict):
                    yield from iter_nodes(child, at + "/" + pointers.escape_token(name), child_role)
        elif key in NESTED_NODES:
            yield from iter_nodes(value, at, NESTED_NODES[key])
