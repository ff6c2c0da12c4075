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

Resolution runs in two steps. ``Resolver.expand`` applies every ``sdfRef``
and turns pointer-form ``sdfRequired`` entries into global names, but keeps
``true`` and bare names, because their meaning depends on where they end up
after merging. ``Resolver.resolve_document`` then expands those against the
merged tree and applies the property defaults.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from server.modeling import pointers
from server.modeling.registry import ModelRegistry, SdfDocument
from server.modeling.walk import GROUP_ROLES, NAMED_MAPS, NESTED_NODES, iter_nodes

__all__ = [
    "AFFORDANCE_GROUPS",
    "DEFINITION_GROUPS",
    "Definition",
    "ResolutionError",
    "ResolvedDocument",
    "Resolver",
    "iter_definitions",
    "merge_patch",
    "required_members",
    "resolve_registry",
    "split_global_name",
]

AFFORDANCE_GROUPS = ("sdfProperty", "sdfAction", "sdfEvent")
GROUPING_GROUPS = ("sdfThing", "sdfObject")
DEFINITION_GROUPS = (*GROUPING_GROUPS, *AFFORDANCE_GROUPS, "sdfData")
#: Groups a bare sdfRequired name can select: affordances and groupings, not sdfData.
REQUIRABLE_GROUPS = (*GROUPING_GROUPS, *AFFORDANCE_GROUPS)
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


def split_global_name(name: str) -> tuple[str, str]:
    """Split ``uri#/pointer`` into the namespace URI and the JSON pointer.

    The split is at the first ``#/``, not the first ``#``: some real models
    declare namespace URIs that end in ``#`` (``https://onedm.org/playground/#``).
    """
    index = name.find("#/")
    if index < 0:
        uri, _, pointer = name.rpartition("#")
        return uri, pointer
    return name[:index], name[index + 1 :]


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


def iter_definitions(
    body: dict[str, Any], groups: tuple[str, ...] = DEFINITION_GROUPS, prefix: str = ""
) -> Iterator[Definition]:
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


def required_members(owner: dict[str, Any], name: str) -> list[tuple[str, str]]:
    """(group, name) of every affordance or grouping called ``name`` directly in ``owner``.

    This is what a bare name in ``sdfRequired`` selects (RFC 9880 §4.5).
    """
    found: list[tuple[str, str]] = []
    for group in REQUIRABLE_GROUPS:
        members = owner.get(group)
        if isinstance(members, dict) and isinstance(members.get(name), dict):
            found.append((group, name))
    return found


@dataclass
class Resolver:
    """Resolves documents of one registry; caches resolved targets and expanded documents."""

    registry: ModelRegistry
    _cache: dict[tuple[int, str], Any] = field(default_factory=dict)
    _expanded: dict[int, dict[str, Any]] = field(default_factory=dict)

    def resolve_document(self, doc: SdfDocument) -> ResolvedDocument:
        """The resolved form of ``doc``; raises ``ResolutionError`` on a broken reference."""
        body = copy.deepcopy(self.expand(doc))
        _finish_required(body, doc.base_uri)
        _apply_property_defaults(body)
        return ResolvedDocument(source=doc, body=body)

    def expand(self, doc: SdfDocument) -> dict[str, Any]:
        """``doc`` with every ``sdfRef`` applied (first step; see the module docstring).

        The result is cached and shared: callers must not modify it.
        """
        key = id(doc)
        if key not in self._expanded:
            body = self._resolve_node(doc, doc.data, "", ())
            self._expanded[key] = body
        return self._expanded[key]

    # -- references -------------------------------------------------------
    def dereference(
        self, doc: SdfDocument, ref: Any, at: str
    ) -> tuple[SdfDocument, str, dict[str, Any]]:
        """Find the definition an ``sdfRef`` names: (its document, its pointer, the raw node).

        ``at`` is the pointer of the ``sdfRef`` member, for error messages.
        Same-document references are ``#/pointer``; cross-document ones are
        ``prefix:#/pointer`` through the namespace map (RFC 9880 §4.3). The
        namespace URI is looked up in the registry, never fetched.
        """
        if not isinstance(ref, str):
            raise ResolutionError(doc, at, "sdfref-syntax", "sdfRef must be a string")
        if ref.startswith("#"):
            target_doc, fragment, where = doc, ref[1:], "this document"
        else:
            prefix, sep, fragment = ref.partition(":")
            if not sep or not fragment.startswith("#"):
                raise ResolutionError(
                    doc,
                    at,
                    "sdfref-syntax",
                    f"sdfRef {ref!r} is neither '#/pointer' nor 'prefix:#/pointer'",
                )
            fragment = fragment[1:]
            uri = doc.namespaces.get(prefix)
            if not isinstance(uri, str):
                raise ResolutionError(
                    doc,
                    at,
                    "sdfref-namespace",
                    f"sdfRef {ref!r} uses prefix {prefix!r}, which the namespace map "
                    "does not define",
                )
            candidates = self.registry.by_namespace(uri)
            if not candidates:
                raise ResolutionError(
                    doc,
                    at,
                    "sdfref-unresolved",
                    f"sdfRef {ref!r}: no loaded document contributes to namespace {uri} "
                    "(add its directory with --registry or NDTWIN_MODEL_PATH)",
                )
            found = self.registry.find(uri, fragment)
            if found is None:
                raise ResolutionError(
                    doc,
                    at,
                    "sdfref-unresolved",
                    f"sdfRef {ref!r}: no document of namespace {uri} defines {fragment}",
                )
            target_doc, where = found[0], f"namespace {uri}"
        if fragment and not fragment.startswith("/"):
            raise ResolutionError(
                doc, at, "sdfref-syntax", f"sdfRef {ref!r}: a JSON pointer must start with '/'"
            )
        try:
            target = pointers.lookup(target_doc.data, fragment)
        except KeyError as exc:
            raise ResolutionError(
                doc, at, "sdfref-unresolved", f"sdfRef {ref!r} does not resolve in {where}"
            ) from exc
        if not isinstance(target, dict) or not fragment:
            raise ResolutionError(
                doc, at, "sdfref-unresolved", f"sdfRef {ref!r} does not name a definition"
            )
        return target_doc, fragment, target

    def _resolve_node(
        self, doc: SdfDocument, node: dict[str, Any], at: str, stack: tuple[tuple[int, str], ...]
    ) -> dict[str, Any]:
        """Resolve one map of qualities; keys of named maps are names, not qualities."""
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "sdfRef":
                continue
            here = at + "/" + pointers.escape_token(key)
            if key in NAMED_MAPS and isinstance(value, dict):
                out[key] = {
                    name: (
                        self._resolve_node(
                            doc, member, here + "/" + pointers.escape_token(name), stack
                        )
                        if isinstance(member, dict)
                        else copy.deepcopy(member)
                    )
                    for name, member in value.items()
                }
            elif key in NESTED_NODES and isinstance(value, dict):
                out[key] = self._resolve_node(doc, value, here, stack)
            elif key == "sdfRequired" and isinstance(value, list):
                out[key] = [_globalize(doc, entry) for entry in value]
            else:
                # const, default, enum, info... are data: copied, never searched for sdfRef.
                out[key] = copy.deepcopy(value)
        if "sdfRef" not in node or at == "":
            return out
        target_doc, target_ptr, target = self.dereference(doc, node["sdfRef"], at + "/sdfRef")
        target_key = (id(target_doc), target_ptr)
        if target_key in stack:
            raise ResolutionError(
                doc,
                at + "/sdfRef",
                "sdfref-cycle",
                f"sdfRef {node['sdfRef']!r} leads back to a definition that "
                "is being resolved (a reference cycle)",
            )
        if target_key not in self._cache:
            try:
                self._cache[target_key] = self._resolve_node(
                    target_doc, target, target_ptr, (*stack, target_key)
                )
            except ResolutionError as exc:
                if stack or (exc.doc is doc and exc.pointer == at + "/sdfRef"):
                    raise
                # Report a failure deep in the chain at the sdfRef of this document
                # that led to it, naming where it actually is.
                raise ResolutionError(
                    doc,
                    at + "/sdfRef",
                    exc.rule,
                    f"{exc.message} (reached through sdfRef {node['sdfRef']!r}; at "
                    f"{exc.doc.path}:{exc.pointer or '/'})",
                ) from exc
        merged = merge_patch(self._cache[target_key], out)
        assert isinstance(merged, dict)
        return merged


def _globalize(doc: SdfDocument, entry: Any) -> Any:
    """Make a pointer-form sdfRequired entry a global name; keep ``true`` and bare names.

    An entry whose prefix the namespace map lacks is kept as written; the
    validator reports it.
    """
    if not isinstance(entry, str):
        return entry
    if entry.startswith("#"):
        return f"{doc.base_uri}{entry}"
    prefix, sep, fragment = entry.partition(":")
    if sep and fragment.startswith("#"):
        uri = doc.namespaces.get(prefix)
        if isinstance(uri, str):
            return f"{uri}{fragment}"
    return entry


def _finish_required(body: dict[str, Any], base_uri: str) -> None:
    """Expand ``true`` and bare names against the merged tree (RFC 9880 §4.5)."""
    for node in iter_nodes(body):
        entries = node.qualities.get("sdfRequired")
        if not isinstance(entries, list):
            continue
        names: list[Any] = []
        for entry in entries:
            if entry is True:
                names.append(f"{base_uri}#{node.pointer}")
            elif isinstance(entry, str) and ":" not in entry and "#" not in entry:
                for group, name in required_members(node.qualities, entry):
                    names.append(f"{base_uri}#{node.pointer}{pointers.join(group, name)}")
            else:
                names.append(entry)
        node.qualities["sdfRequired"] = list(dict.fromkeys(n for n in names if isinstance(n, str)))


def _apply_property_defaults(body: dict[str, Any]) -> None:
    for node in iter_nodes(body):
        if node.role == GROUP_ROLES["sdfProperty"]:
            for quality, default in PROPERTY_DEFAULTS.items():
                node.qualities.setdefault(quality, default)


def resolve_registry(
    registry: ModelRegistry,
) -> tuple[list[ResolvedDocument], list[ResolutionError]]:
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
