"""WoT Thing Descriptions of twins, derived from the Thing Models of their definitions.

A twin whose ``definition`` is the URL of a Thing Model compiled from ndtwin's SDF
models (``server.modeling.compilers.wot``) has a Thing Description (TD 1.1 §5):
``GET /api/2/things/{id}`` with ``Accept: application/td+json`` returns it, as Ditto's
WoT integration does (notes §2). The TD is the TM made concrete (TD 1.1 §10.5):

* ``@type: tm:ThingModel``, ``tm:*`` terms and ``links`` to other TMs are dropped;
* ``id`` is ``urn:<thingId>``, ``version.instance`` the twin's revision, ``base`` the
  twin's URL, and the security is HTTP Basic or Bearer, as the REST face accepts;
* each TM property gets a form on the twin's attribute of the same name (feature TDs:
  on the feature property), read-only ones only ``readproperty``;
* each ``tm:submodel`` becomes a link (``rel: item``) to the feature's own TD.

Actions and events are left out: ndtwin does not serve Ditto's message routes yet, and
a TD must not advertise forms that cannot work. A twin without a known TM gets a 406.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from server.rest.errors import MediaTypeNotAcceptable

__all__ = ["TD_MEDIA_TYPE", "ThingDescriptions", "describe"]

log = logging.getLogger(__name__)

#: Media type of a Thing Description (TD 1.1 §8.1).
TD_MEDIA_TYPE = "application/td+json"

_SECURITY = {
    "basic_sc": {"scheme": "basic", "in": "header"},
    "bearer_sc": {"scheme": "bearer", "in": "header"},
    "combo_sc": {"scheme": "combo", "oneOf": ["basic_sc", "bearer_sc"]},
}


def _strip_tm_terms(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_tm_terms(v) for k, v in value.items() if not k.startswith("tm:")}
    if isinstance(value, list):
        return [_strip_tm_terms(v) for v in value]
    return value


def describe(
    tm: dict[str, Any], thing_id: str, revision: int, base: str, property_prefix: str
) -> dict[str, Any]:
    """The TD of one thing (or feature) from its TM; ``base`` ends with ``/``.

    ``property_prefix`` is where the TM's properties live relative to ``base``:
    ``attributes/`` for a thing, ``properties/`` for a feature.
    """
    td: dict[str, Any] = {"@context": tm.get("@context", "https://www.w3.org/2022/wot/td/v1.1")}
    types = [t for t in _as_list(tm.get("@type")) if t != "tm:ThingModel"]
    if types:
        td["@type"] = types
    td["id"] = f"urn:{thing_id}"
    td["title"] = tm.get("title", thing_id)
    for key in ("description", "titles", "descriptions", "support"):
        if key in tm:
            td[key] = tm[key]
    version = dict(tm.get("version") or {})
    version["instance"] = str(revision)
    td["version"] = version
    td["base"] = base
    td["securityDefinitions"] = _SECURITY
    td["security"] = "combo_sc"
    properties: dict[str, Any] = {}
    for name, affordance in (tm.get("properties") or {}).items():
        if not isinstance(affordance, dict):
            continue
        prop = _strip_tm_terms(affordance)
        ops = (
            ["readproperty"]
            if prop.get("readOnly")
            else ["writeproperty"]
            if prop.get("writeOnly")
            else ["readproperty", "writeproperty"]
        )
        prop["forms"] = [
            {
                "href": property_prefix + quote(name, safe=""),
                "op": ops,
                "contentType": "application/json",
            }
        ]
        properties[name] = prop
    td["properties"] = properties
    td["actions"] = {}
    td["events"] = {}
    td["forms"] = [
        {
            "href": property_prefix.rstrip("/"),
            "op": ["readallproperties"],
            "contentType": "application/json",
        }
    ]
    links = []
    for link in tm.get("links") or []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "tm:submodel"
            and isinstance(link.get("instanceName"), str)
        ):
            links.append(
                {
                    "rel": "item",
                    "href": "features/" + quote(link["instanceName"], safe=""),
                    "type": TD_MEDIA_TYPE,
                }
            )
        elif isinstance(link, dict) and link.get("rel") not in ("tm:extends", "tm:submodel"):
            links.append(link)
    if links:
        td["links"] = links
    return td


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


class ThingDescriptions:
    """Looks up compiled Thing Models by URL (compiled on first use) and builds TDs."""

    def __init__(self, model_dirs: Sequence[Path]) -> None:
        self._dirs = [Path(p) for p in model_dirs]
        self._models: dict[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def model(self, url: str) -> dict[str, Any] | None:
        """The TM published at ``url``, or None when no known SDF model compiles to it."""
        if self._models is None:
            with self._lock:
                if self._models is None:
                    self._models = self._compile()
        return self._models.get(url)

    def _compile(self) -> dict[str, dict[str, Any]]:
        from server.modeling.compilers import wot
        from server.modeling.registry import ModelRegistry
        from server.modeling.resolve import resolve_registry

        dirs = [d for d in self._dirs if d.exists()]
        if not dirs:
            return {}
        registry = ModelRegistry.from_paths(dirs)
        resolved, failures = resolve_registry(registry)
        for failure in failures:
            log.warning("TD catalogue: model not resolved: %s", failure)
        models: dict[str, dict[str, Any]] = {}
        for doc in resolved:
            try:
                for path, tm in wot.thing_models(doc).items():
                    models[wot.TM_BASE + path] = tm
            except wot.WotCompileError as exc:
                log.warning("TD catalogue: %s", exc)
        return models

    def for_thing(self, doc: dict[str, Any], revision: int, thing_url: str) -> dict[str, Any]:
        """The TD of a twin; 406 when its definition is not a known Thing Model."""
        definition = doc.get("definition")
        tm = self.model(definition) if isinstance(definition, str) else None
        if tm is None:
            raise MediaTypeNotAcceptable(
                TD_MEDIA_TYPE, "The thing's definition is not the URL of a known Thing Model."
            )
        return describe(tm, str(doc.get("thingId")), revision, thing_url + "/", "attributes/")

    def for_feature(
        self, doc: dict[str, Any], feature_id: str, revision: int, thing_url: str
    ) -> dict[str, Any]:
        """The TD of one feature, from the first entry of its definition."""
        feature = (doc.get("features") or {}).get(feature_id)
        definition = feature.get("definition") if isinstance(feature, dict) else None
        tm = None
        if isinstance(definition, list) and definition and isinstance(definition[0], str):
            tm = self.model(definition[0])
        if tm is None:
            raise MediaTypeNotAcceptable(
                TD_MEDIA_TYPE,
                "The feature's definition does not start with a known Thing Model URL.",
            )
        base = f"{thing_url}/features/{quote(feature_id, safe='')}/"
        thing_id = f"{doc.get('thingId')}/features/{feature_id}"
        return describe(tm, thing_id, revision, base, "properties/")
