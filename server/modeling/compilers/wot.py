"""Compile resolved SDF documents to W3C WoT Thing Models (WoT TD 1.1 §10).

One Thing Model (TM) is written per sdfObject and per sdfThing, nested ones
included. An sdfThing's TM lists its children as ``tm:submodel`` links (TD 1.1
§10.3.3) with ``instanceName`` set to the child's given name, so Eclipse Ditto
turns each child into a feature of that id. A document with top-level
affordances or ``sdfData`` (reusable definitions, RFC 9880 §2.2) also gets a
*definitions TM*: those definitions as affordances and ``schemaDefinitions``,
a library for ``tm:ref`` rather than the model of a thing.

Naming. A TM's path is ``<stem>/<name>.tm.jsonld`` for a top-level grouping
(``stem`` is the SDF file name without ``.sdf.json``), ``<stem>/<thing>/<child>
.tm.jsonld`` for a child of an sdfThing (one folder per level), and
``<stem>.tm.jsonld`` for the definitions TM; names are percent-encoded. A TM's
URL is ``TM_BASE`` + its path, e.g.
``https://w3id.org/ndtwin/tm/example1/Switch.tm.jsonld``; submodel links carry
that absolute URL because Ditto reads ``href`` as a URL (it cannot resolve a
relative one). The SDF global name of the source definition is written as
``sdf:globalName``.

Mapping (``../shared/notes/sdf.md`` §3.2; the TM terms are TD 1.1 §5.3):

* label → ``title`` (a grouping without label gets its given name, TD requires
  a title); description → ``description``; ``info.version`` → ``version.model``;
  ``info.license`` → link ``rel: license``; the rest of ``info`` → ``sdf:info``;
  ``namespace`` → ``@context`` entries; ``defaultNamespace`` →
  ``sdf:defaultNamespace``.
* sdfProperty → ``properties``: ``writable: false`` → ``readOnly: true``,
  ``readable: false`` → ``writeOnly: true``; ``observable`` is always written,
  because SDF defaults it to true (RFC 9880 §5.2) and TD to false (TD 1.1 §5.3.2.1).
* sdfAction → ``actions`` (``sdfInputData`` → ``input``, ``sdfOutputData`` →
  ``output``); sdfEvent → ``events`` (``sdfOutputData`` → ``data``).
* sdfData → ``schemaDefinitions``.
* Data qualities keep their JSON Schema names (TD 1.1 §5.3.2); ``unit`` and
  ``enum`` are kept; ``sdfChoice`` (RFC 9880 §4.7.2) → ``oneOf`` with one schema
  per alternative whose ``title`` is the alternative's name (a ``const``
  alternative becomes ``{"const": …, "title": …}``). TD has no ``anyOf``, so
  overlapping alternatives (e.g. empty ones) stay as written.
* sdfRequired (RFC 9880 §4.5) → ``tm:required`` pointers such as
  ``#/properties/x``; the affordances not required are listed in ``tm:optional``
  (the TD 1.1 §10.4 term, which Ditto reads). A required grouping gets
  ``"sdf:required": true`` on its own TM.
* Qualities with no TD counterpart keep their value under an ``sdf:`` term
  (``nullable`` → ``sdf:nullable``, ``sdfType`` → ``sdf:sdfType``,
  ``contentFormat`` → ``sdf:contentFormat``, ``$comment`` → ``sdf:$comment``,
  an object's ``minItems``/``maxItems`` → ``sdf:minItems``/``sdf:maxItems``);
  ``byte-string`` also gets ``contentEncoding: base64url`` and a media-type
  ``contentFormat`` also gets ``contentMediaType``. Prefixed qualities
  (``ext:name``) are kept as they are.

``server.modeling.importers.tm`` is the inverse of this mapping.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from server.modeling import pointers
from server.modeling.resolve import AFFORDANCE_GROUPS, ResolvedDocument

__all__ = [
    "JSON_SCHEMA_QUALITIES",
    "SDF_TERMS",
    "TD_CONTEXT",
    "TM_BASE",
    "TM_MEDIA_TYPE",
    "TM_SUFFIX",
    "WotCompileError",
    "compile_document",
    "data_schema",
    "grouping_pointers",
    "thing_model",
    "thing_models",
    "tm_path",
    "tm_url",
]

#: The TD 1.1 JSON-LD context (TD 1.1 §5.1.2), first entry of every ``@context``.
TD_CONTEXT = "https://www.w3.org/2022/wot/td/v1.1"
#: ndtwin's namespace for SDF qualities that have no TD term (prefix ``sdf``);
#: IETF registered no JSON-LD vocabulary for SDF.
SDF_TERMS = "https://w3id.org/ndtwin/sdf#"
#: Base URL under which ndtwin publishes compiled TMs; a TM's URL is base + path.
TM_BASE = "https://w3id.org/ndtwin/tm/"
#: Media type of a Thing Model (TD 1.1 §10.2).
TM_MEDIA_TYPE = "application/tm+json"
TM_SUFFIX = ".tm.jsonld"

GROUPINGS = ("sdfThing", "sdfObject")
# TD 1.1 context terms a namespace prefix must not redefine (they are protected).
_RESERVED_PREFIXES = frozenset(
    {
        "sdf",
        "tm",
        "td",
        "jsonschema",
        "wotsec",
        "hctl",
        "htv",
        "schema",
        "rdf",
        "rdfs",
        "xsd",
        "dct",
    }
)
#: Data qualities that keep their name (RFC 9880 §4.7 ↔ TD 1.1 §5.3.2). ``uniqueItems``
#: has no TD term but is JSON Schema, which a DataSchema is read as.
JSON_SCHEMA_QUALITIES = (
    "type",
    "const",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minItems",
    "maxItems",
    "uniqueItems",
    "unit",
    "enum",
    "required",
)
_PROPERTY_QUALITIES = ("readable", "writable", "observable")
_TD_AFFORDANCE = {"sdfProperty": "properties", "sdfAction": "actions", "sdfEvent": "events"}


class WotCompileError(Exception):
    """A resolved document that cannot be written as Thing Models (e.g. clashing names)."""


def tm_path(doc: ResolvedDocument, pointer: str) -> str:
    """Relative path of the TM for the grouping at ``pointer`` ("" = definitions TM)."""
    stem = quote(doc.source.stem, safe="")
    if pointer == "":
        return stem + TM_SUFFIX
    names = pointers.split(pointer)[1::2]
    return stem + "/" + "/".join(quote(name, safe="") for name in names) + TM_SUFFIX


def tm_url(doc: ResolvedDocument, pointer: str, base_url: str = TM_BASE) -> str:
    """The URL a compiled TM is published at; Ditto definitions hold this URL."""
    return base_url + tm_path(doc, pointer)


def grouping_pointers(doc: ResolvedDocument) -> list[str]:
    """Pointers of every sdfObject and sdfThing of ``doc``, nested ones included."""
    return [pointer for pointer, _ in _walk_groupings(doc.body, "")]


def thing_models(doc: ResolvedDocument, base_url: str = TM_BASE) -> dict[str, dict[str, Any]]:
    """Every TM of ``doc`` by path (see the module docstring for the naming)."""
    required = _Requirements.collect(doc)
    models: dict[str, dict[str, Any]] = {}
    targets = [""] if _has_definitions(doc.body, required) else []
    targets += grouping_pointers(doc)
    for pointer in targets:
        path = tm_path(doc, pointer)
        if path in models:
            raise WotCompileError(
                f"{doc.source.path}:{pointer}: TM path {path!r} is already used by another "
                "definition (an sdfThing and an sdfObject with the same name?)"
            )
        models[path] = _build(doc, pointer, required, base_url)
    return models


def thing_model(doc: ResolvedDocument, pointer: str, base_url: str = TM_BASE) -> dict[str, Any]:
    """The TM of the grouping at ``pointer`` ("" for the definitions TM)."""
    if pointer != "":
        try:
            node = pointers.lookup(doc.body, pointer)
            tokens = pointers.split(pointer)
        except (KeyError, ValueError) as exc:
            raise WotCompileError(f"{doc.source.path}: no definition at {pointer!r}") from exc
        if not isinstance(node, dict) or len(tokens) % 2 or tokens[-2] not in GROUPINGS:
            raise WotCompileError(f"{pointer!r} is not an sdfObject or sdfThing")
    return _build(doc, pointer, _Requirements.collect(doc), base_url)


def compile_document(doc: ResolvedDocument, base_url: str = TM_BASE) -> dict[str, str]:
    """Compile ``doc`` to ``{path: JSON text}``, one Thing Model per file."""
    return {
        path: json.dumps(tm, indent=2, ensure_ascii=False) + "\n"
        for path, tm in thing_models(doc, base_url).items()
    }


def data_schema(node: dict[str, Any]) -> dict[str, Any]:
    """Map one set of SDF data qualities to a TD DataSchema (TD 1.1 §5.3.2)."""
    out: dict[str, Any] = {}
    if "label" in node:
        out["title"] = node["label"]
    if "description" in node:
        out["description"] = node["description"]
    for key, value in node.items():
        if key in ("label", "description", "sdfRequired"):
            continue
        if key in JSON_SCHEMA_QUALITIES:
            out[key] = value
        elif key == "items" and isinstance(value, dict):
            out["items"] = data_schema(value)
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {
                name: data_schema(member) if isinstance(member, dict) else member
                for name, member in value.items()
            }
        elif key == "sdfChoice" and isinstance(value, dict):
            out["oneOf"] = [_alternative(name, alt) for name, alt in value.items()]
        else:
            out[_extension_term(key)] = value
    if node.get("sdfType") == "byte-string":
        # RFC 9880 §4.7.1: a byte string is written in base64url (RFC 4648 §5).
        out.setdefault("contentEncoding", "base64url")
    content_format = node.get("contentFormat")
    if isinstance(content_format, str) and "/" in content_format:
        out.setdefault("contentMediaType", content_format)
    return out


# -- internals ------------------------------------------------------------------------------


def _extension_term(key: str) -> str:
    # A prefixed quality (RFC 9880 §8.3.2) is already a compact IRI; keep it.
    return key if ":" in key else f"sdf:{key}"


def _alternative(name: str, alternative: Any) -> dict[str, Any]:
    schema = data_schema(alternative) if isinstance(alternative, dict) else {}
    if "title" in schema:
        # The title names the alternative; an own label moves aside.
        schema["sdf:label"] = schema.pop("title")
    return {"title": name, **schema}


def _walk_groupings(node: dict[str, Any], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for group in GROUPINGS:
        members = node.get(group)
        if not isinstance(members, dict):
            continue
        for name, child in members.items():
            if isinstance(child, dict):
                pointer = prefix + pointers.join(group, name)
                yield pointer, child
                yield from _walk_groupings(child, pointer)


def _has_definitions(body: dict[str, Any], required: _Requirements) -> bool:
    return any(
        isinstance(body.get(group), dict) and body[group]
        for group in (*AFFORDANCE_GROUPS, "sdfData")
    ) or bool(required.other.get(""))


@dataclass
class _Requirements:
    """The required global names of a document, sorted by where they land in the TMs."""

    #: grouping pointer ("" = top level) → affordance pointers such as ``#/properties/x``
    affordances: dict[str, list[str]] = field(default_factory=dict)
    #: pointers of groupings that are themselves required
    groupings: set[str] = field(default_factory=set)
    #: grouping pointer where the sdfRequired was written → entries that point elsewhere
    other: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def collect(cls, doc: ResolvedDocument) -> _Requirements:
        found = cls()
        for owner, entries in _required_entries(doc.body, "", ""):
            for entry in entries:
                found._place(doc, owner, entry)
        return found

    def _place(self, doc: ResolvedDocument, owner: str, entry: Any) -> None:
        # Compare with the base URI + "#": a namespace URI may end in "#" itself.
        local = doc.base_uri + "#"
        if (
            isinstance(entry, str)
            and entry.startswith(local)
            and self._place_local(doc.body, entry[len(local) :])
        ):
            return
        bucket = self.other.setdefault(owner, [])
        if entry not in bucket:
            bucket.append(entry)

    def _place_local(self, body: dict[str, Any], pointer: str) -> bool:
        try:
            tokens = pointers.split(pointer)
            pointers.lookup(body, tokens)
        except (KeyError, ValueError):
            return False
        if len(tokens) < 2 or len(tokens) % 2:
            return False
        group, name, parent = tokens[-2], tokens[-1], tokens[:-2]
        parent_is_grouping = not parent or parent[-2] in GROUPINGS
        if group in GROUPINGS and parent_is_grouping:
            self.groupings.add(pointer)
            return True
        if group in _TD_AFFORDANCE and parent_is_grouping:
            owner = pointers.join(*parent)
            td_pointer = "#" + pointers.join(_TD_AFFORDANCE[group], name)
            bucket = self.affordances.setdefault(owner, [])
            if td_pointer not in bucket:
                bucket.append(td_pointer)
            return True
        return False


def _required_entries(node: dict[str, Any], at: str, owner: str) -> Iterator[tuple[str, list[Any]]]:
    """Yield (enclosing grouping pointer, sdfRequired list) for every definition."""
    entries = node.get("sdfRequired")
    if isinstance(entries, list):
        yield owner, entries
    for group in (*GROUPINGS, *AFFORDANCE_GROUPS, "sdfData"):
        members = node.get(group)
        if not isinstance(members, dict):
            continue
        for name, child in members.items():
            if isinstance(child, dict):
                pointer = at + pointers.join(group, name)
                yield from _required_entries(
                    child, pointer, pointer if group in GROUPINGS else owner
                )


def _context(doc: ResolvedDocument) -> tuple[list[Any], dict[str, str]]:
    """The ``@context`` and the namespace entries that could not go into it."""
    terms: dict[str, str] = {"sdf": SDF_TERMS}
    left_out: dict[str, str] = {}
    for prefix, uri in doc.source.namespaces.items():
        if not isinstance(uri, str):
            continue
        if prefix in _RESERVED_PREFIXES or prefix.startswith("@"):
            left_out[prefix] = uri
        else:
            terms[prefix] = uri
    return [TD_CONTEXT, terms], left_out


def _build(
    doc: ResolvedDocument, pointer: str, required: _Requirements, base_url: str
) -> dict[str, Any]:
    body = doc.body
    context, left_out = _context(doc)
    tm: dict[str, Any] = {"@context": context, "@type": "tm:ThingModel"}
    info = body.get("info") if isinstance(body.get("info"), dict) else {}
    assert isinstance(info, dict)
    if pointer == "":
        node: dict[str, Any] = body
        tm["title"] = info.get("title", doc.source.stem)
    else:
        node = pointers.lookup(body, pointer)
        tm["title"] = node.get("label", pointers.split(pointer)[-1])
        if "description" in node:
            tm["description"] = node["description"]
    tm["sdf:globalName"] = doc.global_name(pointer)
    _document_terms(body, info, left_out, tm)
    if pointer != "":
        links = tm.setdefault("links", [])
        for group in GROUPINGS:
            for name, child in (node.get(group) or {}).items():
                if isinstance(child, dict):
                    links.append(
                        {
                            "rel": "tm:submodel",
                            "href": tm_url(doc, pointer + pointers.join(group, name), base_url),
                            "type": TM_MEDIA_TYPE,
                            "instanceName": name,
                        }
                    )
        if not links:
            del tm["links"]
    if isinstance(node.get("sdfData"), dict) and node["sdfData"]:
        tm["schemaDefinitions"] = {
            name: data_schema(value) if isinstance(value, dict) else value
            for name, value in node["sdfData"].items()
        }
    names: list[str] = []
    for group, td_group in _TD_AFFORDANCE.items():
        members = node.get(group)
        if not isinstance(members, dict) or not members:
            continue
        tm[td_group] = {
            name: _affordance(group, value)
            for name, value in members.items()
            if isinstance(value, dict)
        }
        names += ["#" + pointers.join(td_group, name) for name in tm[td_group]]
    _requirement_terms(pointer, names, required, tm)
    if pointer != "":
        handled = {"label", "description", "sdfData", "sdfRequired", *GROUPINGS, *AFFORDANCE_GROUPS}
        for key, value in node.items():
            if key not in handled:
                tm[_extension_term(key)] = value
    return tm


def _document_terms(
    body: dict[str, Any], info: dict[str, Any], left_out: dict[str, str], tm: dict[str, Any]
) -> None:
    if isinstance(info.get("version"), str):
        tm["version"] = {"model": info["version"]}
    if isinstance(info.get("license"), str):
        tm["links"] = [{"rel": "license", "href": info["license"]}]
    rest = {
        k: v for k, v in info.items() if k not in ("version", "license") or not isinstance(v, str)
    }
    if rest:
        tm["sdf:info"] = rest
    if isinstance(body.get("defaultNamespace"), str):
        tm["sdf:defaultNamespace"] = body["defaultNamespace"]
    if left_out:
        tm["sdf:namespace"] = left_out


def _affordance(group: str, node: dict[str, Any]) -> dict[str, Any]:
    if group == "sdfProperty":
        # nullable: true is the default the resolver filled in (RFC 9880 §4.7.1), not news.
        quality_keys = {
            k: v
            for k, v in node.items()
            if k not in _PROPERTY_QUALITIES and not (k == "nullable" and v is True)
        }
        out = data_schema(quality_keys)
        if node.get("writable", True) is False:
            out["readOnly"] = True
        if node.get("readable", True) is False:
            out["writeOnly"] = True
        out["observable"] = bool(node.get("observable", True))
        return out
    out = {}
    if "label" in node:
        out["title"] = node["label"]
    if "description" in node:
        out["description"] = node["description"]
    data_keys = (
        {"sdfInputData": "input", "sdfOutputData": "output"}
        if group == "sdfAction"
        else {"sdfOutputData": "data"}
    )
    for key, value in node.items():
        if key in ("label", "description", "sdfRequired"):
            continue
        if key in data_keys and isinstance(value, dict):
            out[data_keys[key]] = data_schema(value)
        else:
            out[_extension_term(key)] = value
    return out


def _requirement_terms(
    pointer: str, names: list[str], required: _Requirements, tm: dict[str, Any]
) -> None:
    wanted = required.affordances.get(pointer, [])
    if wanted:
        tm["tm:required"] = list(wanted)
    optional = [name[1:] for name in names if name not in wanted]
    if optional:
        tm["tm:optional"] = optional
    if pointer in required.groupings:
        tm["sdf:required"] = True
    if required.other.get(pointer):
        tm["sdf:requiredElsewhere"] = list(required.other[pointer])
