"""Compile resolved SDF documents to Eclipse Ditto thing definitions and skeletons.

Ditto's WoT integration (Ditto docs ``basic-wot-integration``; notes
``../shared/notes/ditto-api.md`` §2) reads a thing's ``definition`` as the URL
of a WoT Thing Model and, when the thing is created, builds a *skeleton* from
it. This module builds the same skeleton from the TMs of
``server.modeling.compilers.wot``:

* ``definition`` is the TM's URL (``wot.tm_url``: ``TM_BASE`` + TM path, e.g.
  ``https://w3id.org/ndtwin/tm/example1/Switch.tm.jsonld``);
* every TM property not listed in ``tm:optional`` becomes an attribute;
* every ``tm:submodel`` link becomes a feature whose id is the link's
  ``instanceName`` (the SDF given name), whose ``definition`` is
  ``[submodel URL, …its tm:extends chain]`` and whose properties are built from
  the submodel's properties the same way. As in Ditto, only the first level of
  submodels becomes features (a feature cannot hold features); actions and
  events produce nothing;
* a value is the schema's ``const``, else its ``default``, else a neutral value:
  ``false``; ``0`` or ``0.0`` moved into ``minimum``/``maximum`` (an exclusive
  bound moves it to bound ± 1); ``""`` or ``minLength`` underscores; an object
  gets its ``required`` members filled the same way (``null`` when a member has
  no value) or ``{}``; an array gets ``minItems`` (default 1) neutral items, or
  ``[]`` without typed ``items``; a schema without ``type`` gives no value and
  the member is left out. Dated strings get the epoch (``format`` date-time
  ``1970-01-01T00:00:00Z``, date ``1970-01-01``, time ``00:00:00Z``; the notes
  give ``00:00Z`` for time, which is not an RFC 3339 ``full-time``).

ndtwin differs from Ditto in one place, because it validates every write
against the model and Ditto's neutral value may lie outside an ``enum`` or
``oneOf``: a schema with ``enum`` takes the first member, and one with ``oneOf``
the value of the first alternative that yields one (its ``const``, ``default``
or neutral value, with the qualities written beside ``oneOf`` applied).
``pattern`` and ``multipleOf`` are ignored, as in Ditto, so a value can miss
a ``pattern`` (7 of 1 511 values in the corpus skeletons do).

The skeleton carries no ``thingId`` and no ``policyId``: it is the body of
``PUT /api/2/things/{thingId}``, where the path names the thing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from server.modeling import pointers
from server.modeling.compilers import wot
from server.modeling.resolve import ResolvedDocument

__all__ = [
    "THING_SUFFIX",
    "compile_document",
    "initial_value",
    "skeleton_for",
    "skeleton_from_thing_model",
    "thing_definition",
]

#: Suffix of a compiled skeleton file; the rest of the path is the TM's.
THING_SUFFIX = ".thing.json"
_EPOCH = {"date-time": "1970-01-01T00:00:00Z", "date": "1970-01-01", "time": "00:00:00Z"}
_NO_VALUE = object()


def thing_definition(doc: ResolvedDocument, pointer: str, base_url: str = wot.TM_BASE) -> str:
    """The ``definition`` of a thing modelled by the grouping at ``pointer`` (its TM URL)."""
    return wot.tm_url(doc, pointer, base_url)


def skeleton_for(
    doc: ResolvedDocument,
    pointer: str,
    *,
    base_url: str = wot.TM_BASE,
    include_optional: bool = False,
) -> dict[str, Any]:
    """The thing Ditto would create for a new twin of the grouping at ``pointer``.

    ``include_optional`` mirrors Ditto's ``generate-defaults-for-optional-properties``.
    """
    urls = {wot.tm_url(doc, p, base_url): p for p in wot.grouping_pointers(doc)}
    root = wot.thing_model(doc, pointer, base_url)

    def load(url: str) -> dict[str, Any]:
        if url not in urls:
            raise KeyError(f"{url} is not a Thing Model of {doc.source.path}")
        return wot.thing_model(doc, urls[url], base_url)

    return skeleton_from_thing_model(
        root, wot.tm_url(doc, pointer, base_url), load, include_optional=include_optional
    )


def skeleton_from_thing_model(
    tm: dict[str, Any],
    url: str,
    load: Callable[[str], dict[str, Any]],
    *,
    include_optional: bool = False,
) -> dict[str, Any]:
    """Build the skeleton of a thing whose ``definition`` is ``url`` (holding ``tm``).

    ``load`` returns the TM at an absolute URL (submodels and ``tm:extends``).
    """
    thing: dict[str, Any] = {"definition": url}
    attributes = _properties(tm, include_optional)
    if attributes is not None:
        thing["attributes"] = attributes
    features: dict[str, Any] = {}
    for link in _links(tm, "tm:submodel"):
        name = link.get("instanceName")
        if not isinstance(name, str):
            raise ValueError(f"{url}: a tm:submodel link needs an instanceName")
        href = urljoin(url, link["href"])
        submodel = load(href)
        feature: dict[str, Any] = {"definition": [href, *_extends_chain(submodel, href, load)]}
        properties = _properties(submodel, include_optional)
        if properties is not None:
            feature["properties"] = properties
        features[name] = feature
    if features:
        thing["features"] = features
    return thing


def compile_document(doc: ResolvedDocument, base_url: str = wot.TM_BASE) -> dict[str, str]:
    """Compile ``doc`` to ``{path: JSON text}``: one skeleton per sdfObject and sdfThing.

    The path is the TM's path with ``.thing.json`` for ``.tm.jsonld``.
    """
    out: dict[str, str] = {}
    for pointer in wot.grouping_pointers(doc):
        path = wot.tm_path(doc, pointer)[: -len(wot.TM_SUFFIX)] + THING_SUFFIX
        skeleton = skeleton_for(doc, pointer, base_url=base_url)
        out[path] = json.dumps(skeleton, indent=2, ensure_ascii=False) + "\n"
    return out


def initial_value(schema: dict[str, Any]) -> Any:
    """The skeleton value of one DataSchema; raises ``LookupError`` when it has none."""
    value = _initial(schema)
    if value is _NO_VALUE:
        raise LookupError("the schema gives no initial value (it has no type)")
    return value


# -- internals ------------------------------------------------------------------------------


def _links(tm: dict[str, Any], rel: str) -> list[dict[str, Any]]:
    links = tm.get("links")
    return (
        [
            link
            for link in links
            if isinstance(link, dict)
            and link.get("rel") == rel
            and isinstance(link.get("href"), str)
        ]
        if isinstance(links, list)
        else []
    )


def _extends_chain(
    tm: dict[str, Any], url: str, load: Callable[[str], dict[str, Any]], seen: tuple[str, ...] = ()
) -> list[str]:
    """The URLs of ``tm:extends``, nearest first (a feature's further definitions)."""
    for link in _links(tm, "tm:extends"):
        parent = urljoin(url, link["href"])
        if parent in seen:
            break
        return [parent, *_extends_chain(load(parent), parent, load, (*seen, parent))]
    return []


def _properties(tm: dict[str, Any], include_optional: bool) -> dict[str, Any] | None:
    properties = tm.get("properties")
    if not isinstance(properties, dict):
        return None
    optional: set[str] = set()
    if not include_optional and isinstance(tm.get("tm:optional"), list):
        for entry in tm["tm:optional"]:
            tokens = pointers.split(entry) if isinstance(entry, str) else []
            if len(tokens) == 2 and tokens[0] == "properties":
                optional.add(tokens[1])
    values: dict[str, Any] = {}
    for name, schema in properties.items():
        if name in optional or not isinstance(schema, dict):
            continue
        value = _initial(schema)
        if value is not _NO_VALUE:
            values[name] = value
    return values


def _initial(schema: dict[str, Any]) -> Any:
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    alternatives = schema.get("oneOf")
    if isinstance(alternatives, list):
        beside = {k: v for k, v in schema.items() if k != "oneOf"}
        for alternative in alternatives:
            if isinstance(alternative, dict):
                value = _initial({**beside, **alternative})
                if value is not _NO_VALUE:
                    return value
        return _NO_VALUE
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required")
        members = schema.get("properties")
        if isinstance(required, list) and required and isinstance(members, dict):
            filled = {}
            for name, member in members.items():
                if name in required:
                    value = _initial(member) if isinstance(member, dict) else _NO_VALUE
                    filled[name] = None if value is _NO_VALUE else value
            return filled
        return {}
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, dict):
            # Ditto takes the type's neutral item; ndtwin's enum/oneOf rule applies here too.
            item = _initial(items) if "enum" in items or "oneOf" in items else _neutral(items)
            count = schema.get("minItems", 1)
            if item is not _NO_VALUE and isinstance(count, int):
                return [item] * count
        return []
    return _neutral(schema)


def _neutral(schema: dict[str, Any]) -> Any:
    """Ditto's neutral element of a type, before const/default are considered."""
    kind = schema.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        value = _clamp(schema, 0)
        if kind == "number":
            return float(value)
        return int(value) if float(value).is_integer() else math.ceil(value)
    if kind == "string":
        if schema.get("format") in _EPOCH:
            return _EPOCH[schema["format"]]
        length = schema.get("minLength")
        return "_" * length if isinstance(length, int) and length > 0 else ""
    if kind == "object":
        return {}
    if kind == "array":
        return []
    if kind == "null":
        return None
    return _NO_VALUE


def _clamp(schema: dict[str, Any], value: float) -> float:
    # Same order as Ditto: minimum, exclusiveMinimum, maximum, exclusiveMaximum.
    def bound(key: str) -> float | None:
        found = schema.get(key)
        return found if isinstance(found, int | float) and not isinstance(found, bool) else None

    low, low_x, high, high_x = (
        bound(k) for k in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
    )
    if low is not None and low > value:
        value = low
    if low_x is not None and low_x >= value:
        value = low_x + 1
    if high is not None and high < value:
        value = high
    if high_x is not None and high_x <= value:
        value = high_x - 1
    return value
