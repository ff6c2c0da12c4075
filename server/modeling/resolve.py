"""Resolve SDF documents into the normalized model that every compiler reads.

Resolution (RFC 9880 §4.4): an ``sdfRef`` definition is copied as a patch,
stripped of ``sdfRef``, the target is resolved (recursively), and the patch is
applied to it with JSON Merge Patch (RFC 7396), so ``null`` deletes a quality.

The resolved document is the input contract of the compilers:

* no ``sdfRef`` remains anywhere;
* every ``sdfRequired`` entry is a global name ``<namespace-uri>#<json-pointer>``
  (``true`` and bare names expanded, RFC 9880 §4.5);
* every sdfProperty carries ``readable``, ``writable``, ``observable`` and
  ``nullable`` (all default to true, RFC 9880 §5.2/§6.3).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from server.modeling import pointers
from server.modeling.registry import ModelRegistry, SdfDocument

__all__ = [
    "AFFORDANCE_GROUPS",
    "DEFINITION_GROUPS",
    "ResolutionError",
    "ResolvedDocument",
    "Resolver",
    "iter_definitions",
    "merge_patch",
    "resolve_registry",
]

AFFORDANCE_GROUPS = ("sdfProperty", "sdfAction", "sdfEvent")
GROUPING_GROUPS = ("sdfThing", "sdfObject")
DEFINITION_GROUPS = (*GROUPING_GROUPS, *AFFORDANCE_GROUPS, "sdfData")
PROPERTY_DEFAULTS = {"readable": True, "writable": True, "observable": True, "nullable": True}


class ResolutionError(Exception):
    """A reference that cannot be resolved; ``rule`` names the check that failed."""

    def __init__(self, doc: SdfDocument, pointer: str, rule: str, message: str) -> None:
        super().__init__(f"{doc.path}:{pointer or '/'}: [{rule}] {message}")
        self.doc = doc
        self.pointer = pointer
        self.rule = rule
        self.message = message


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7396 JSON Merge Patch; returns a new value, inputs untouched."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass
class ResolvedDocument:
    """One document after resolution; ``body`` follows the module's contract."""

    source: SdfDocument
    body: dict[str, Any]

    @property
    def base_uri(self) -> str:
        return self.source.base_uri

    def global_name(self, pointer: str) -> str:
        return f"{self.base_uri}#{pointer}"


@dataclass(frozen=True)
class Definition:
    """A named sdfThing/sdfObject/affordance/sdfData found while walking a document."""

    group: str
    name: str
    pointer: str
    node: dict[str, Any]


def iter_definitions(body: dict[str, Any], groups: tuple[str, ...] = DEFINITION_GROUPS,
                     prefix: str = "") -> Iterator[Definition]:
    """Walk every named definition in groups, depth first, nested ones included."""
    for group in DEFINITION_GROUPS:
        members = body.get(group)
        if not isinstance(members, dict):
            continue
        for name, node in members.items():
            if not isinstance(node, dict):
                continue
            pointer = prefix + pointers.join(group, name)
            if group in groups:
                yield Definition(group, name, pointer, node)
            yield from iter_definitions(node, groups, pointer)


@dataclass
class Resolver:
    """Resolves documents of one registry; caches resolved targets."""

    registry: ModelRegistry
    _cache: dict[tuple[int, str], Any] = field(default_factory=dict)

    def resolve_document(self, doc: SdfDocument) -> ResolvedDocument:
        body = self._resolve(doc, doc.data, "", ())
        assert isinstance(body, dict)
        _apply_property_defaults(body)
        return ResolvedDocument(source=doc, body=body)

    # -- references -------------------------------------------------------
    def _deref(self, doc: SdfDocument, ref: str, at: str) -> tuple[SdfDocument, str, Any]:
        if not isinstance(ref, str):
            raise ResolutionError(doc, at, "sdfref-syntax", "sdfRef must be a string")
        if ref.startswith("#"):
            target_doc, pointer = doc, ref[1:]
            try:
                return target_doc, pointer, pointers.lookup(doc.data, pointer)
            except (KeyError, ValueError) as exc:
                raise ResolutionError(doc, at, "sdfref-unresolved",
                                      f"sdfRef {ref!r} does not resolve in this document") from exc
        prefix, sep, fragment = ref.partition(":")
        if not sep or not fragment.startswith("#"):
            raise ResolutionError(doc, at, "sdfref-syntax",
                                  f"sdfRef {ref!r} is neither '#/pointer' nor 'prefix:#/pointer'")
        uri = doc.namespaces.get(prefix)
        if uri is None:
            raise ResolutionError(doc, at, "sdfref-namespace",
                                  f"sdfRef {ref!r} uses prefix {prefix!r} not in the namespace map")
        found = self.registry.find(uri, fragment[1:])
        if found is None:
            raise ResolutionError(doc, at, "sdfref-unresolved",
                                  f"sdfRef {ref!r} ({uri}{fragment}) is not in any loaded document")
        return found[0], fragment[1:], found[1]

    def _resolve(self, doc: SdfDocument, node: Any, at: str,
                 stack: tuple[tuple[int, str], ...]) -> Any:
        if isinstance(node, list):
            return [self._resolve(doc, v, f"{at}/{i}", stack) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "sdfRef":
                continue
            if key == "sdfRequired" and isinstance(value, list):
                out[key] = self._normalize_required(doc, node, value, at)
            else:
                out[key] = self._resolve(doc, value, at + pointers.join(key), stack)
        if "sdfRef" not in node:
            return out
        target_doc, target_ptr, target = self._deref(doc, node["sdfRef"], at + "/sdfRef")
        key = (id(target_doc), target_ptr)
        if key in stack:
            raise ResolutionError(doc, at, "sdfref-cycle",
                                  f"sdfRef {node['sdfRef']!r} leads back to itself")
        if key not in self._cache:
            self._cache[key] = self._resolve(target_doc, target, target_ptr, (*stack, key))
        return merge_patch(self._cache[key], out)

    def _normalize_required(self, doc: SdfDocument, owner: dict[str, Any], entries: list[Any],
                            at: str) -> list[Any]:
        names: list[Any] = []
        for entry in entries:
            if entry is True:
                names.append(f"{doc.base_uri}#{at}")
            elif isinstance(entry, str) and entry.startswith("#"):
                names.append(f"{doc.base_uri}{entry}")
            elif isinstance(entry, str) and ":" in entry:
                prefix, _, fragment = entry.partition(":")
                uri = doc.namespaces.get(prefix, prefix)
                names.append(f"{uri}{fragment}")
            elif isinstance(entry, str):
                # A bare name: every affordance or grouping of that name directly here.
                for group in DEFINITION_GROUPS:
                    members = owner.get(group)
                    if isinstance(members, dict) and entry in members and group != "sdfData":
                        names.append(f"{doc.base_uri}#{at}{pointers.join(group, entry)}")
            else:
                names.append(entry)
        return names


def _apply_property_defaults(body: dict[str, Any]) -> None:
    for definition in iter_definitions(body, ("sdfProperty",)):
        for quality, default in PROPERTY_DEFAULTS.items():
            definition.node.setdefault(quality, default)


def resolve_registry(registry: ModelRegistry) -> tuple[list[ResolvedDocument],
                                                       list[ResolutionError]]:
    """Resolve every document; returns the resolved ones and the errors of the rest."""
    resolver = Resolver(registry)
    resolved: list[ResolvedDocument] = []
    errors: list[ResolutionError] = []
    for doc in registry.documents:
        try:
            resolved.append(resolver.resolve_document(doc))
        except ResolutionError as exc:
            errors.append(exc)
    return resolved, errors
