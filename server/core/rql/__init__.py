"""Ditto RQL: parse filters and options, evaluate them on one thing, compile them to SQL."""

from server.core.rql.ast import (
    And,
    Comparison,
    Empty,
    Exists,
    In,
    Like,
    Node,
    Not,
    Or,
    Placeholder,
    Property,
    SortKey,
    to_rql,
)
from server.core.rql.parser import (
    DEFAULT_SIZE,
    MAX_SIZE,
    SearchOptions,
    parse_filter,
    parse_options,
    parse_property,
)

__all__ = [
    "DEFAULT_SIZE",
    "MAX_SIZE",
    "And",
    "Comparison",
    "Empty",
    "Exists",
    "In",
    "Like",
    "Node",
    "Not",
    "Or",
    "Placeholder",
    "Property",
    "SearchOptions",
    "SortKey",
    "parse_filter",
    "parse_options",
    "parse_property",
    "to_rql",
]
