"""Dialect-neutral pieces of RQL-to-SQL compilation: parameters, sort atoms, keysets.

A compiled query is SQL text with *named* parameters (``:p3`` for SQLite, ``%(p3)s`` for
psycopg) plus a dict of their values, so fragments can be nested in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Params", "SortAtom", "keyset_condition", "order_by"]


@dataclass(slots=True)
class Params:
    """Collects bound values and hands out their placeholders."""

    style: Callable[[str], str]
    values: dict[str, Any] = field(default_factory=dict)
    _next: int = 0

    def add(self, value: Any) -> str:
        """Bind ``value`` and return its placeholder."""
        name = f"p{self._next}"
        self._next += 1
        self.values[name] = value
        return self.style(name)

    def alias(self) -> str:
        """A fresh table alias for a correlated subquery."""
        self._next += 1
        return f"j{self._next}"


@dataclass(frozen=True, slots=True)
class SortAtom:
    """One scalar SQL expression of the total sort order, and its direction.

    A JSON sort key expands to three atoms - type rank, numeric value, text value - so
    that values of mixed types order deterministically in SQL: missing < null < numbers
    < strings < booleans < objects and arrays.
    """

    sql: str
    descending: bool
    kind: str = "text"
    """``"int"``, ``"num"`` or ``"text"``: how a cursor value is bound back."""


def order_by(atoms: Sequence[SortAtom]) -> str:
    """The ``ORDER BY`` list for the atoms (selected as ``s0``, ``s1``, ...)."""
    return ", ".join(f"s{i} {'DESC' if a.descending else 'ASC'}" for i, a in enumerate(atoms))


def keyset_condition(
    atoms: Sequence[SortAtom], last: Sequence[Any], params: Params, bind: Callable[..., str]
) -> str:
    """Rows strictly after ``last`` in the atoms' order (keyset pagination).

    Expands the lexicographic comparison into ``a0 > v0 OR (a0 = v0 AND a1 > v1) ...``,
    flipping ``>`` for descending atoms. ``bind(atom, value, params)`` returns the
    placeholder (with any cast the dialect needs).
    """
    disjuncts: list[str] = []
    for j, atom in enumerate(atoms):
        terms = [f"{atoms[i].sql} = {bind(atoms[i], last[i], params)}" for i in range(j)]
        op = "<" if atom.descending else ">"
        terms.append(f"{atom.sql} {op} {bind(atom, last[j], params)}")
        disjuncts.append("(" + " AND ".join(terms) + ")")
    return "(" + " OR ".join(disjuncts) + ")"
