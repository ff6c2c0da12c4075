"""Import W3C WoT Thing Models (TD 1.1 §10) as SDF documents (RFC 9880).

This is the inverse of ``server.modeling.compilers.wot``: a TM becomes an
sdfObject, or an sdfThing when it has ``tm:submodel`` links (TD 1.1 §10.3.3),
each submodel a child named by its ``instanceName``. ``properties``,
``actions`` and ``events`` become sdfProperty, sdfAction and sdfEvent;
``schemaDefinitions`` becomes sdfData; ``readOnly: true`` → ``writable: false``,
``writeOnly: true`` → ``readable: false``; ``observable`` is always written,
false when the TM leaves it out (the TD default, TD 1.1 §5.3.2.1); ``oneOf``
→ ``sdfChoice`` named by each alternative's ``title``; an ``enum`` with
non-string members → ``sdfChoice`` of ``const`` alternatives (SDF ``enum``
holds strings only, RFC 9880 §4.7.2); a local ``tm:ref`` to
``#/schemaDefinitions/x`` → ``sdfRef`` to the matching sdfData; ``sdf:``
terms give back the SDF quality they carry.

Required affordances: ``tm:required`` when present, otherwise every affordance
not listed in ``tm:optional`` (TD 1.1 §10.4: what is not optional is mandatory).

Dropped, because SDF has no place for them: protocol bindings and instance data
(``forms``, ``security``, ``base``, ``uriVariables``), ``@type`` and
multilingual ``titles``/``descriptions``, action ``safe``/``idempotent``/
``synchronous``, event ``subscription``/``dataResponse``/``cancellation``,
``readOnly``/``writeOnly`` inside nested data, ``type: null``, tuple ``items``,
and links other than ``tm:submodel`` and ``license``. ``tm:extends`` and
``tm:ref`` to other files are not supported and raise ``TmImportError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urljoin

from server.modeling import pointers
from server.modeling.compilers.wot import JSON_SCHEMA_QUALITIES, TM_BASE

__all__ = ["Loader", "TmImportError", "import_tm", "import_tm_file", "import_tms", "sdf_data"]

#: Gives the TM at an absolute URL (a submodel's ``href``).
Loader: TypeAlias = Callable[[str], dict[str, Any]]

_SDF_GROUP = {"properties": "sdfProperty", "actions": "sdfAction", "events": "sdfEvent"}
# sdf: terms the compiler writes at TM level that are not qualities of the definition.
_TM_LEVEL_TERMS = frozenset(
    {
        "sdf:globalName",
        "sdf:info",
        "sdf:defaultNamespace",
        "sdf:namespace",
        "sdf:required",
        "sdf:requiredElsewhere",
    }
)
# Prefixes whose terms belong to WoT itself, never to an SDF quality.
_WOT_PREFIXES = ("tm:", "td:", "htv:", "hctl:", "wotsec:")


class TmImportError(Exception):
    """A Thing Model that cannot be imported; the message names the offending member."""


def import_tm(
    tm: dict[str, Any],
    *,
    url: str | None = None,
    load: Loader | Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Import one TM (and, through ``load``, its submodels) as an SDF document.

    ``url`` is where the TM lives, used to resolve relative submodel ``href``s;
    ``load`` maps an absolute submodel URL to its TM (a callable or a mapping).
    """
    if not isinstance(tm, dict):
        raise TmImportError("a Thing Model must be a JSON object")
    loader = _as_loader(load)
    doc = _document_terms(tm)
    _place_root(doc, tm, url, loader)
    return doc


def import_tms(models: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Import a set of TMs keyed by URL (e.g. one compiled SDF document) as one document.

    The TMs that are no other TM's submodel are the roots; each is placed by its
    ``sdf:globalName`` where it has one.
    """
    children: set[str] = set()
    for url, tm in models.items():
        for link in _submodel_links(tm):
            children.add(urljoin(url, link["href"]))
    doc: dict[str, Any] = {}
    for url, tm in models.items():
        if url in children:
            continue
        part = import_tm(tm, url=url, load=models)
        _merge_document(doc, part, url)
    return doc


def import_tm_file(path: str | Path, base_url: str = TM_BASE) -> dict[str, Any]:
    """Import a TM file; submodels are read from files beside it.

    A submodel URL under ``base_url`` is looked up as that relative path in the
    file's folder and its parents (the layout ``ndtwin models compile --to
    wot-tm`` writes); a relative ``href`` is read relative to the file.
    """
    path = Path(path)
    tm = _read_json(path)

    def load(target: str) -> dict[str, Any]:
        if target.startswith(base_url):
            relative = target[len(base_url) :]
            for folder in (path.parent, *path.parent.parents):
                candidate = folder / relative
                if candidate.is_file():
                    return _read_json(candidate)
            raise TmImportError(f"{path}: submodel {target} not found beside the file")
        if target.startswith("file:"):
            return _read_json(Path(target[len("file:") :]))
        raise TmImportError(f"{path}: submodel {target} is not a local file")

    return import_tm(tm, url=path.resolve().as_uri(), load=load)


def sdf_data(schema: dict[str, Any], sdf_data_at: str = "") -> dict[str, Any]:
    """Map a TD DataSchema back to SDF data qualities.

    ``sdf_data_at`` is the pointer of the grouping whose ``sdfData`` a local
    ``tm:ref`` to ``#/schemaDefinitions/x`` stands for.
    """
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title":
            out["label"] = value
        elif key == "description":
            out["description"] = value
        elif key == "enum" and isinstance(value, list):
            if all(isinstance(v, str) for v in value):
                out["enum"] = value
            else:
                out["sdfChoice"] = {_choice_name(v): {"const": v} for v in value}
        elif key == "type":
            if value != "null":  # SDF has no null type; nullable covers it (RFC 9880 §4.7.1)
                out["type"] = value
        elif key in JSON_SCHEMA_QUALITIES:
            out[key] = value
        elif key == "items":
            if isinstance(value, dict):
                out["items"] = sdf_data(value, sdf_data_at)
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {
                name: sdf_data(member, sdf_data_at) if isinstance(member, dict) else member
                for name, member in value.items()
            }
        elif key == "oneOf" and isinstance(value, list):
            out["sdfChoice"] = _choices(value, sdf_data_at)
        elif key == "tm:ref":
            out["sdfRef"] = _sdf_ref(value, sdf_data_at)
        elif key == "contentMediaType":
            if "sdf:contentFormat" not in schema:
                out["contentFormat"] = value
        elif key.startswith("sdf:"):
            out[key[len("sdf:") :]] = value
        elif ":" in key and not key.startswith(_WOT_PREFIXES):
            out[key] = value
    return out


# -- internals ------------------------------------------------------------------------------


def _as_loader(load: Loader | Mapping[str, dict[str, Any]] | None) -> Loader:
    if load is None:

        def missing(target: str) -> dict[str, Any]:
            raise TmImportError(f"submodel {target} cannot be loaded (no loader given)")

        return missing
    if isinstance(load, Mapping):
        models = load

        def lookup(target: str) -> dict[str, Any]:
            if target not in models:
                raise TmImportError(f"submodel {target} is not among the given Thing Models")
            return models[target]

        return lookup
    return load


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TmImportError(f"{path}: cannot read a Thing Model: {exc}") from exc
    if not isinstance(data, dict):
        raise TmImportError(f"{path}: a Thing Model must be a JSON object")
    return data


def _choice_name(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _choices(alternatives: list[Any], sdf_data_at: str) -> dict[str, Any]:
    choices: dict[str, Any] = {}
    for index, alternative in enumerate(alternatives, start=1):
        schema = dict(alternative) if isinstance(alternative, dict) else {}
        title = schema.pop("title", None)
        name = title if isinstance(title, str) else f"alternative{index}"
        while name in choices:
            name += f" ({index})"
        if "sdf:label" in schema:
            schema["title"] = schema.pop("sdf:label")
        choices[name] = sdf_data(schema, sdf_data_at)
    return choices


def _sdf_ref(target: Any, sdf_data_at: str) -> str:
    prefix = "#/schemaDefinitions/"
    if isinstance(target, str) and target.startswith(prefix):
        name = pointers.split(target[1:])[1]
        return "#" + sdf_data_at + pointers.join("sdfData", name)
    raise TmImportError(
        f"tm:ref {target!r}: only references to this TM's schemaDefinitions can be imported"
    )


def _submodel_links(tm: dict[str, Any]) -> list[dict[str, Any]]:
    links = tm.get("links")
    if not isinstance(links, list):
        return []
    return [
        link
        for link in links
        if isinstance(link, dict)
        and link.get("rel") == "tm:submodel"
        and isinstance(link.get("href"), str)
    ]


def _split_global(name: str) -> tuple[str, str] | None:
    """Split ``<uri>#<pointer>``; the URI may end in "#" itself (``…/playground/#``)."""
    if name.endswith("#"):
        return name[:-1], ""
    at = name.find("#/")
    return (name[:at], name[at + 1 :]) if at >= 0 else None


def _global_name(tm: dict[str, Any]) -> tuple[str, list[str]] | None:
    name = tm.get("sdf:globalName")
    split = _split_global(name) if isinstance(name, str) else None
    if split is None:
        return None
    try:
        return split[0], pointers.split(split[1])
    except ValueError:
        return None


def _document_terms(tm: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    raw_info = tm.get("sdf:info")
    info: dict[str, Any] = dict(raw_info) if isinstance(raw_info, dict) else {}
    version = tm.get("version")
    if isinstance(version, dict) and isinstance(version.get("model"), str):
        info["version"] = version["model"]
    for link in tm.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "license" and "href" in link:
            info["license"] = link["href"]
    if _global_name(tm) is None and isinstance(tm.get("title"), str):
        info.setdefault("title", tm["title"])
    if info:
        doc["info"] = info
    namespace: dict[str, str] = {}
    context = tm.get("@context")
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict):
            namespace.update(
                {
                    k: v
                    for k, v in entry.items()
                    if isinstance(v, str) and k != "sdf" and not k.startswith("@")
                }
            )
    extra = tm.get("sdf:namespace")
    if isinstance(extra, dict):
        namespace.update(extra)
    if namespace:
        doc["namespace"] = namespace
    if isinstance(tm.get("sdf:defaultNamespace"), str):
        doc["defaultNamespace"] = tm["sdf:defaultNamespace"]
    return doc


def _place_root(doc: dict[str, Any], tm: dict[str, Any], url: str | None, load: Loader) -> None:
    named = _global_name(tm)
    if named is not None and not named[1]:
        _definitions(doc, tm)
        return
    if named is not None and len(named[1]) >= 2:
        group, name = named[1][-2], named[1][-1]
    else:
        group = "sdfThing" if _submodel_links(tm) else "sdfObject"
        title = tm.get("title")
        name = title if isinstance(title, str) and title else "thing"
    pointer = pointers.join(group, name)
    doc.setdefault(group, {})[name] = _grouping(tm, pointer, url, load, (url or "",))


def _definitions(doc: dict[str, Any], tm: dict[str, Any]) -> None:
    """The definitions TM: top-level affordances and sdfData of the document."""
    if isinstance(tm.get("schemaDefinitions"), dict):
        doc["sdfData"] = {
            name: sdf_data(schema)
            for name, schema in tm["schemaDefinitions"].items()
            if isinstance(schema, dict)
        }
    for td_group, group in _SDF_GROUP.items():
        members = tm.get(td_group)
        if isinstance(members, dict) and members:
            doc[group] = {
                name: _affordance(td_group, value, "")
                for name, value in members.items()
                if isinstance(value, dict)
            }
    for entry in _required_affordances(tm):
        td_group, name = pointers.split(entry)
        affordance = doc.get(_SDF_GROUP[td_group], {}).get(name)
        if isinstance(affordance, dict):
            # A top-level definition names itself required with ``true`` (RFC 9880 §4.5).
            affordance.setdefault("sdfRequired", []).append(True)
    elsewhere = tm.get("sdf:requiredElsewhere")
    if isinstance(elsewhere, list) and elsewhere:
        # The top level has no sdfRequired of its own; any top-level definition may hold
        # them, since an entry names its target wherever it is written (RFC 9880 §4.5).
        holder = next(
            definition
            for group in (*_SDF_GROUP.values(), "sdfData")
            for definition in doc.get(group, {}).values()
        )
        holder.setdefault("sdfRequired", []).extend(_compact(e, tm) for e in elsewhere)


def _grouping(
    tm: dict[str, Any], pointer: str, url: str | None, load: Loader, stack: tuple[str, ...]
) -> dict[str, Any]:
    node: dict[str, Any] = {}
    name = pointers.split(pointer)[-1]
    title = tm.get("title")
    if isinstance(title, str) and title != name:
        node["label"] = title
    if "description" in tm:
        node["description"] = tm["description"]
    for link in _submodel_links(tm):
        target = urljoin(url or "", link["href"])
        if target in stack:
            raise TmImportError(f"submodel {target} contains itself")
        child = load(target)
        child_named = _global_name(child)
        child_name = link.get("instanceName")
        if not isinstance(child_name, str):
            child_name = child_named[1][-1] if child_named and child_named[1] else target
        if child_named is not None and len(child_named[1]) >= 2:
            child_group = child_named[1][-2]
        else:
            child_group = "sdfThing" if _submodel_links(child) else "sdfObject"
        members = node.setdefault(child_group, {})
        if child_name in members:
            raise TmImportError(f"{pointer}: two submodels named {child_name!r}")
        members[child_name] = _grouping(
            child, pointer + pointers.join(child_group, child_name), target, load, (*stack, target)
        )
    if isinstance(tm.get("schemaDefinitions"), dict):
        node["sdfData"] = {
            key: sdf_data(schema, pointer)
            for key, schema in tm["schemaDefinitions"].items()
            if isinstance(schema, dict)
        }
    for td_group, group in _SDF_GROUP.items():
        members = tm.get(td_group)
        if isinstance(members, dict) and members:
            node[group] = {
                key: _affordance(td_group, value, pointer)
                for key, value in members.items()
                if isinstance(value, dict)
            }
    required: list[Any] = []
    for entry in _required_affordances(tm):
        td_group, key = pointers.split(entry)
        required.append("#" + pointer + pointers.join(_SDF_GROUP[td_group], key))
    if tm.get("sdf:required") is True:
        required.append(True)
    elsewhere = tm.get("sdf:requiredElsewhere")
    if isinstance(elsewhere, list):
        required += [_compact(entry, tm) for entry in elsewhere]
    if required:
        node["sdfRequired"] = required
    for key, value in tm.items():
        if key.startswith("sdf:"):
            if key not in _TM_LEVEL_TERMS:
                node[key[len("sdf:") :]] = value
        elif ":" in key and not key.startswith(_WOT_PREFIXES):
            node[key] = value
        elif key == "tm:ref" or (key == "links" and _links_extend(value)):
            raise TmImportError(f"{pointer}: {key} (tm:extends / tm:ref) is not supported")
    return node


def _links_extend(links: Any) -> bool:
    return isinstance(links, list) and any(
        isinstance(link, dict) and link.get("rel") == "tm:extends" for link in links
    )


def _required_affordances(tm: dict[str, Any]) -> list[str]:
    """Pointers such as ``/properties/x`` of the affordances the TM requires."""
    present = [
        pointers.join(td_group, name)
        for td_group in _SDF_GROUP
        for name in (tm.get(td_group) or {})
    ]
    explicit = tm.get("tm:required")
    if isinstance(explicit, list):
        wanted = [entry.lstrip("#") for entry in explicit if isinstance(entry, str)]
        return [entry for entry in wanted if entry in present]
    optional = tm.get("tm:optional")
    skipped = (
        {entry.lstrip("#") for entry in optional if isinstance(entry, str)}
        if isinstance(optional, list)
        else set()
    )
    return [entry for entry in present if entry not in skipped]


def _compact(entry: Any, tm: dict[str, Any]) -> Any:
    """Write a global name as an sdf-pointer of the imported document (RFC 9880 §4.3)."""
    split = _split_global(entry) if isinstance(entry, str) else None
    if split is None:
        return entry
    uri, pointer = split
    named = _global_name(tm)
    if named is not None and uri == named[0]:
        return "#" + pointer
    context = tm.get("@context")
    for item in context if isinstance(context, list) else []:
        if isinstance(item, dict):
            for prefix, namespace in item.items():
                if namespace == uri and prefix != "sdf":
                    return f"{prefix}:#{pointer}"
    return entry


def _affordance(td_group: str, node: dict[str, Any], grouping: str) -> dict[str, Any]:
    if td_group == "properties":
        out = sdf_data(
            {k: v for k, v in node.items() if k not in ("readOnly", "writeOnly", "observable")},
            grouping,
        )
        if node.get("readOnly") is True:
            out["writable"] = False
        if node.get("writeOnly") is True:
            out["readable"] = False
        out["observable"] = node.get("observable") is True
        return out
    out = {}
    data_keys = (
        {"input": "sdfInputData", "output": "sdfOutputData"}
        if td_group == "actions"
        else {"data": "sdfOutputData"}
    )
    for key, value in node.items():
        if key == "title":
            out["label"] = value
        elif key == "description":
            out["description"] = value
        elif key in data_keys and isinstance(value, dict):
            out[data_keys[key]] = sdf_data(value, grouping)
        elif key == "tm:ref":
            raise TmImportError(f"tm:ref {value!r} on an affordance is not supported")
        elif key.startswith("sdf:"):
            out[key[len("sdf:") :]] = value
        elif ":" in key and not key.startswith(_WOT_PREFIXES):
            out[key] = value
    return out


def _merge_document(doc: dict[str, Any], part: dict[str, Any], url: str) -> None:
    for key, value in part.items():
        if key in ("info", "namespace", "defaultNamespace"):
            doc.setdefault(key, value)
            continue
        members = doc.setdefault(key, {})
        for name, definition in value.items():
            if name in members:
                raise TmImportError(f"{url}: {key}/{name} is defined by two Thing Models")
            members[name] = definition
