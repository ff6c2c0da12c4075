"""JSON Pointer (RFC 6901) helpers for SDF references.

SDF references are URI fragments, so tokens may be percent-encoded as well as
``~``-escaped (RFC 9880 §4.3; ietf-wg-asdf/SDF #148).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

__all__ = ["escape_token", "join", "lookup", "split"]

_MISSING = object()


def escape_token(token: str) -> str:
    """Escape one reference token (``~`` then ``/``, in that order)."""
    return token.replace("~", "~0").replace("/", "~1")


def split(pointer: str) -> list[str]:
    """Split ``/a/b~1c`` (optionally ``#``-prefixed, percent-encoded) into tokens."""
    if pointer.startswith("#"):
        pointer = pointer[1:]
    pointer = unquote(pointer)
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def join(*tokens: str) -> str:
    """Build a pointer string from unescaped tokens."""
    return "".join("/" + escape_token(t) for t in tokens)


def lookup(doc: Any, pointer: str | list[str]) -> Any:
    """Return the value at ``pointer`` in ``doc`` or raise ``KeyError``."""
    tokens = split(pointer) if isinstance(pointer, str) else pointer
    node = doc
    for token in tokens:
        if isinstance(node, dict):
            if token not in node:
                raise KeyError(token)
            node = node[token]
        elif isinstance(node, list):
            # RFC 6901 §4: an array index is decimal digits without leading zeros.
            if (
                not token.isascii()
                or not token.isdigit()
                or (token != "0" and token[0] == "0")
                or int(token) >= len(node)
            ):
                raise KeyError(token)
            node = node[int(token)]
        else:
            raise KeyError(token)
    return node
