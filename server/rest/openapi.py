"""The OpenAPI 3.1 document of ndtwin: the Ditto part written here, ``/v1`` derived.

The Ditto routes read their requests by hand (raw paths, headers as parameters), so
their description is written out below from small tables instead of being derived from
handler signatures; routes that FastAPI describes itself (the native ``/v1`` API) are
merged in. ``docs/openapi.json`` is this document, committed (a test fails when stale):
regenerate it with ``python -m server.rest.openapi > docs/openapi.json``.

Request schemas are exact, so a generated request that fits them is accepted and one
that breaks them is refused (schemathesis checks both): keys follow Ditto's rule (no
``/``, no characters in ``\\x00-\\x1F\\x7F-\\xFF``, notes §1.1), ids its ``ns:name`` rule,
and ``fields``, ``option``, ``filter`` and ``condition`` are described by a pattern of
a small, always valid subset of their grammar (the full grammars are in Ditto's docs).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute

from server.rest.selection import KEY_FIELDS_PATTERN, THING_FIELDS_PATTERN

__all__ = ["api_version", "build_document", "ditto_paths", "main"]

_REF = "#/components/schemas/"
_KEY = r"^[^\x00-\x1F\x7F-\xFF/]+$"
_NS = r"[a-zA-Z][a-zA-Z0-9_]*([.-][a-zA-Z][a-zA-Z0-9_]*)*"
_NAMESPACE = f"({_NS})?"
_THING_ID = rf"^{_NAMESPACE}:[^\x00-\x1F\x7F-\xFF/]+$"
_ID_IN_LIST = rf"{_NAMESPACE}:[^\x00-\x1F\x7F-\xFF/,]+"
_DEFINITION = r"^([_a-zA-Z0-9.-]+:[_a-zA-Z0-9.-]+:[_a-zA-Z0-9.-]+|https?://[!-~]+)$"
_SIZE = "([1-9]|[1-9][0-9]|1[0-9][0-9]|200)"
_SORT = "[+-](thingId|_created|_modified)"
_RQL_VALUE = r'("[a-z0-9]{0,8}"|-?(0|[1-9][0-9]{0,5})|true|false|null)'
_RQL_PROP = (
    "(thingId|policyId|_revision|attributes/[a-z]{1,8}|features/[a-z]{1,8}/properties/[a-z]{1,8})"
)
_RQL_BODY = rf"(eq|ne|gt|ge|lt|le)\({_RQL_PROP},{_RQL_VALUE}\)|exists\({_RQL_PROP}\)"
_RQL = f"^({_RQL_BODY})$"
_RQL_OR_EMPTY = f"^({_RQL_BODY})?$"

_JSON = "application/json"
_MERGE = "application/merge-patch+json"

# Human-facing texts of the tags.
_TAGS = [
    {"name": "Things", "description": "Eclipse Ditto HTTP API v2: things and their parts."},
    {"name": "Features", "description": "Features of a thing and their properties."},
    {"name": "Search", "description": "RQL search over the caller's things."},
    {"name": "Auth", "description": "Who the caller is."},
]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _schemas() -> dict[str, Any]:
    key = {"type": "string", "pattern": _KEY}
    return {
        "Key": key,
        "JsonValue": {
            "anyOf": [
                {"type": "null"},
                {"type": "boolean"},
                {"type": "number"},
                {"type": "string"},
                {"type": "array", "items": _ref("JsonValue")},
                _ref("JsonObject"),
            ]
        },
        "JsonObject": {
            "type": "object",
            "propertyNames": _ref("Key"),
            "additionalProperties": _ref("JsonValue"),
        },
        "ThingId": {"type": "string", "pattern": _THING_ID, "maxLength": 256},
        "PolicyId": {"type": "string", "pattern": _THING_ID, "maxLength": 256},
        "Definition": {"type": "string", "pattern": _DEFINITION},
        "StoredDefinition": {
            "anyOf": [_ref("Definition"), {"type": "null"}],
            "description": "A definition; null where one was set to null.",
        },
        "FeatureDefinition": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": _ref("Definition"),
        },
        "Feature": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "definition": _ref("FeatureDefinition"),
                "properties": _ref("JsonObject"),
                "desiredProperties": _ref("JsonObject"),
            },
        },
        "FeaturePatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "definition": {"anyOf": [_ref("FeatureDefinition"), {"type": "null"}]},
                "properties": {"anyOf": [_ref("JsonObject"), {"type": "null"}]},
                "desiredProperties": {"anyOf": [_ref("JsonObject"), {"type": "null"}]},
            },
        },
        "Features": {
            "type": "object",
            "propertyNames": {"allOf": [_ref("Key"), {"not": {"const": "*"}}]},
            "additionalProperties": _ref("Feature"),
        },
        "FeaturesPatch": {
            "type": "object",
            "propertyNames": {"allOf": [_ref("Key"), {"not": {"const": "*"}}]},
            "additionalProperties": {"anyOf": [_ref("FeaturePatch"), {"type": "null"}]},
        },
        "NewThing": {
            "type": "object",
            "additionalProperties": False,
            "description": "A thing's body; 'thingId' comes from the path (or is generated).",
            "properties": {
                "policyId": _ref("PolicyId"),
                "definition": {"anyOf": [_ref("Definition"), {"type": "null"}]},
                "attributes": _ref("JsonObject"),
                "features": _ref("Features"),
            },
        },
        "PatchThing": {
            "type": "object",
            "additionalProperties": False,
            "description": "An RFC 7396 merge patch of a thing: null deletes.",
            "properties": {
                "definition": {"anyOf": [_ref("Definition"), {"type": "null"}]},
                "attributes": {"anyOf": [_ref("JsonObject"), {"type": "null"}]},
                "features": {"anyOf": [_ref("FeaturesPatch"), {"type": "null"}]},
            },
        },
        "Thing": {
            "type": "object",
            "description": "A thing; '_'-prefixed fields appear only when selected in 'fields'.",
            "properties": {
                "thingId": {"type": "string"},
                "policyId": {"type": "string"},
                "definition": {"type": ["string", "null"]},
                "attributes": {"type": "object"},
                "features": {"type": "object", "additionalProperties": {"type": "object"}},
                "_revision": {"type": "integer", "minimum": 1},
                "_created": {"type": "string"},
                "_modified": {"type": "string"},
                "_namespace": {"type": "string"},
            },
        },
        "SearchResult": {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {"type": "array", "items": _ref("Thing")},
                "cursor": {"type": "string", "description": "Absent on the last page."},
            },
        },
        "WhoAmI": {
            "type": "object",
            "required": ["subjects", "defaultSubject"],
            "properties": {
                "subjects": {"type": "array", "items": {"type": "string"}},
                "defaultSubject": {"type": "string"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["status", "error", "message"],
            "description": "Eclipse Ditto's error JSON (basic-errors).",
            "properties": {
                "status": {"type": "integer"},
                "error": {"type": "string"},
                "message": {"type": "string"},
                "description": {"type": "string"},
                "href": {"type": "string"},
                "validationDetails": {"type": "array", "items": {"type": "object"}},
            },
        },
    }


def _param(
    name: str, where: str, schema: dict[str, Any], description: str, required: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": where, "schema": schema, "description": description}
    if required or where == "path":
        out["required"] = True
    return out


_PARAMS: dict[str, dict[str, Any]] = {
    "thingId": _param(
        "thingId",
        "path",
        _ref("ThingId"),
        "The thing's id 'namespace:name' (percent-encoded as needed).",
    ),
    "featureId": _param(
        "featureId",
        "path",
        {"allOf": [_ref("Key"), {"not": {"enum": ["*", ".", ".."]}}]},
        "The feature's id.",
    ),
    "attributePath": _param(
        "attributePath",
        "path",
        {
            "type": "string",
            "pattern": r"^[^\x00-\x1F\x7F-\xFF/]+"
            r"(/[^\x00-\x1F\x7F-\xFF/]+)*$",
            "not": {"enum": [".", ".."]},
        },
        "JSON pointer to an attribute ('a/b'; '%2F' separates too).",
    ),
    "propertyPath": _param(
        "propertyPath",
        "path",
        {
            "type": "string",
            "pattern": r"^[^\x00-\x1F\x7F-\xFF/]+"
            r"(/[^\x00-\x1F\x7F-\xFF/]+)*$",
            "not": {"enum": [".", ".."]},
        },
        "JSON pointer to a property.",
    ),
    "thingFields": _param(
        "fields",
        "query",
        {"type": "string", "pattern": THING_FIELDS_PATTERN},
        "Comma-separated JSON pointers to select; nesting is kept "
        "(e.g. 'thingId,attributes/location'); '_revision', '_created', "
        "'_modified', '_namespace' only appear when selected.",
    ),
    "keyFields": _param(
        "fields",
        "query",
        {"type": "string", "pattern": KEY_FIELDS_PATTERN},
        "Comma-separated JSON pointers into this resource to select.",
    ),
    "condition": _param(
        "condition",
        "query",
        {"type": "string", "pattern": _RQL},
        "RQL condition checked against the stored thing; false: 412 "
        "'things:condition.failed' (also as a header).",
    ),
    "ifMatch": _param(
        "If-Match",
        "header",
        {"type": "string"},
        "Entity tags ('\"rev:3\"', '\"hash:…\"') or '*'; mismatch: 412.",
    ),
    "ifNoneMatch": _param(
        "If-None-Match",
        "header",
        {"type": "string"},
        "'*' or entity tags; on GET a match answers 304, on writes 412.",
    ),
    "responseRequired": _param(
        "response-required",
        "query",
        {"type": "boolean"},
        "false: answer 202 without waiting for a body.",
    ),
    "ids": _param(
        "ids",
        "query",
        {"type": "string", "pattern": f"^({_ID_IN_LIST}(,{_ID_IN_LIST})*)?$"},
        "Comma-separated thing ids; missing things are left out.",
    ),
    "option": _param(
        "option",
        "query",
        {
            "type": "string",
            "pattern": rf"^(size\({_SIZE}\)|sort\({_SORT}\)|"
            rf"size\({_SIZE}\),sort\({_SORT}\))?$",
        },
        "size(n) (1..200, default 25), sort(+a,-b) and cursor(c) from the "
        "previous page; empty: the defaults.",
    ),
    "filter": _param(
        "filter",
        "query",
        {"type": "string", "pattern": _RQL_OR_EMPTY},
        "An RQL filter (eq, ne, gt, ge, lt, le, in, like, ilike, exists, empty, "
        "and, or, not); empty: all things.",
    ),
    "namespaces": _param(
        "namespaces",
        "query",
        {"type": "string", "pattern": f"^({_NS}(,{_NS})*)?$"},
        "Comma-separated namespaces to restrict to; empty: all.",
    ),
    "namespace": _param(
        "namespace",
        "query",
        {"type": "string", "pattern": f"^({_NS})?$"},
        "Namespace of the generated thing id (empty by default).",
    ),
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ref("Error")}}}


_ERRORS = {
    "400": _error(
        "Invalid id, pointer, JSON, RQL, fields or value "
        "(Ditto codes, e.g. 'things:id.invalid', 'json.format.invalid')."
    ),
    "401": _error("Missing or bad credentials."),
    "404": _error("Not found, or not visible to the caller (e.g. 'things:thing.notfound')."),
    "406": _error("No acceptable representation (e.g. no Thing Description)."),
    "412": _error("A precondition (If-Match, If-None-Match, condition) failed."),
    "413": _error("The body is over the size limit (100 kB)."),
    "415": _error("The body's media type is not supported here."),
}
_ETAG = {"ETag": {"description": "Entity tag of the resource.", "schema": {"type": "string"}}}
_LOCATION = {
    "Location": {"description": "URL of the created resource.", "schema": {"type": "string"}}
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {_JSON: {"schema": schema}}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: _ERRORS[code] for code in codes}


def _get(
    op_id: str, summary: str, tag: str, schema: dict[str, Any], params: list[str], td: bool = False
) -> dict[str, Any]:
    content = _json(schema)
    if td:
        content["application/td+json"] = {"schema": {"type": "object"}}
    return {
        "operationId": op_id,
        "summary": summary,
        "tags": [tag],
        "parameters": [_PARAMS[p] for p in params],
        "responses": {
            "200": {"description": "The value.", "headers": _ETAG, "content": content},
            "304": {"description": "Not modified (If-None-Match matched).", "headers": _ETAG},
            **_errors(*(["400", "401", "404", "412"] + (["406"] if td else []))),
        },
    }


def _write(
    op_id: str,
    summary: str,
    tag: str,
    body: dict[str, Any],
    params: list[str],
    media: str,
    created: dict[str, Any],
) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": summary,
        "tags": [tag],
        "parameters": [_PARAMS[p] for p in params],
        "requestBody": {"required": True, "content": {media: {"schema": body}}},
        "responses": {
            "201": {
                "description": "Created; the body is the created value.",
                "headers": {**_ETAG, **_LOCATION},
                "content": _json(created),
            },
            "202": {"description": "Accepted (response-required=false)."},
            "204": {"description": "Modified.", "headers": _ETAG},
            **_errors("400", "401", "404", "412", "413", "415"),
        },
    }


def _delete(op_id: str, summary: str, tag: str, params: list[str]) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": summary,
        "tags": [tag],
        "parameters": [_PARAMS[p] for p in params],
        "responses": {
            "202": {"description": "Accepted (response-required=false)."},
            "204": {"description": "Deleted."},
            **_errors("400", "401", "404", "412"),
        },
    }


# (path suffix, name, tag, PUT schema, PATCH schema, read schema, fields kind, delete?)
_RESOURCES: list[tuple[str, str, str, str, str, str, str, bool]] = [
    ("", "Thing", "Things", "NewThing", "PatchThing", "Thing", "thingFields", True),
    ("/policyId", "PolicyId", "Things", "PolicyId", "PolicyId", "PolicyId", "", False),
    (
        "/definition",
        "Definition",
        "Things",
        "Definition",
        "Definition",
        "StoredDefinition",
        "",
        True,
    ),
    (
        "/attributes",
        "Attributes",
        "Things",
        "JsonObject",
        "JsonObject",
        "JsonObject",
        "keyFields",
        True,
    ),
    (
        "/attributes/{attributePath}",
        "Attribute",
        "Things",
        "JsonValue",
        "JsonValue",
        "JsonValue",
        "",
        True,
    ),
    (
        "/features",
        "Features",
        "Features",
        "Features",
        "FeaturesPatch",
        "Features",
        "keyFields",
        True,
    ),
    (
        "/features/{featureId}",
        "Feature",
        "Features",
        "Feature",
        "FeaturePatch",
        "Feature",
        "",
        True,
    ),
    (
        "/features/{featureId}/definition",
        "FeatureDefinition",
        "Features",
        "FeatureDefinition",
        "FeatureDefinition",
        "FeatureDefinition",
        "",
        True,
    ),
    (
        "/features/{featureId}/properties",
        "FeatureProperties",
        "Features",
        "JsonObject",
        "JsonObject",
        "JsonObject",
        "keyFields",
        True,
    ),
    (
        "/features/{featureId}/properties/{propertyPath}",
        "FeatureProperty",
        "Features",
        "JsonValue",
        "JsonValue",
        "JsonValue",
        "",
        True,
    ),
    (
        "/features/{featureId}/desiredProperties",
        "FeatureDesiredProperties",
        "Features",
        "JsonObject",
        "JsonObject",
        "JsonObject",
        "keyFields",
        True,
    ),
    (
        "/features/{featureId}/desiredProperties/{propertyPath}",
        "FeatureDesiredProperty",
        "Features",
        "JsonValue",
        "JsonValue",
        "JsonValue",
        "",
        True,
    ),
]


def _path_params(suffix: str) -> list[str]:
    names = ["thingId"]
    for name in ("featureId", "attributePath", "propertyPath"):
        if "{" + name + "}" in suffix:
            names.append(name)
    return names


def ditto_paths() -> dict[str, Any]:
    """The ``paths`` of the Ditto part (``/api/2/...``)."""
    paths: dict[str, Any] = {}
    cond = ["ifMatch", "ifNoneMatch", "condition"]
    for suffix, name, tag, put, patch, read, fields, deletable in _RESOURCES:
        base = _path_params(suffix)
        item: dict[str, Any] = {}
        read_params = base + ([fields] if fields else []) + cond
        item["get"] = _get(
            f"get{name}",
            f"Retrieve the {_words(name)}",
            tag,
            _ref(read),
            read_params,
            td=name in ("Thing", "Feature"),
        )
        write_params = base + cond + ["responseRequired"]
        item["put"] = _write(
            f"put{name}",
            f"Create or replace the {_words(name)}",
            tag,
            _ref(put),
            write_params,
            _JSON,
            _ref(read),
        )
        if patch:
            # null deletes the resource (RFC 7396 §2); a thing itself takes an object.
            body = (
                _ref(patch)
                if name in ("Thing", "PolicyId")
                else {"anyOf": [_ref(patch), {"type": "null"}]}
            )
            # A patch that creates the thing answers with the value now at the path,
            # which a null patch leaves empty.
            created = _ref(read) if name == "Thing" else {"anyOf": [_ref(read), {"type": "null"}]}
            item["patch"] = _write(
                f"patch{name}",
                f"Merge-patch the {_words(name)} (RFC 7396)",
                tag,
                body,
                write_params,
                _MERGE,
                created,
            )
        if deletable:
            item["delete"] = _delete(
                f"delete{name}",
                f"Delete the {_words(name)}",
                tag,
                base + cond + ["responseRequired"],
            )
        paths["/api/2/things/{thingId}" + suffix] = item
    paths["/api/2/things"] = {
        "get": {
            "operationId": "listThings",
            "tags": ["Things"],
            "summary": "Things by id, or the first page of all things",
            "description": "With 'ids': the things in that order (missing ones left "
            "out). Without: a page of all things, with 'Link' headers "
            "rel=canonical and rel=next (its option carries the cursor).",
            "parameters": [_PARAMS[p] for p in ("ids", "thingFields", "option", "namespaces")],
            "responses": {
                "200": {
                    "description": "A bare array of things.",
                    "headers": {
                        "Link": {"schema": {"type": "string"}, "description": "Paging links."}
                    },
                    "content": _json({"type": "array", "items": _ref("Thing")}),
                },
                **_errors("400", "401"),
            },
        },
        "post": {
            "operationId": "createThing",
            "tags": ["Things"],
            "summary": "Create a thing with a generated id '<namespace>:<uuid>'",
            "parameters": [_PARAMS["namespace"], _PARAMS["responseRequired"]],
            "requestBody": {"required": True, "content": _json(_ref("NewThing"))},
            "responses": {
                "201": {
                    "description": "Created.",
                    "headers": {**_ETAG, **_LOCATION},
                    "content": _json(_ref("Thing")),
                },
                "202": {"description": "Accepted (response-required=false)."},
                **_errors("400", "401", "413", "415"),
            },
        },
    }
    search_params = ["filter", "option", "thingFields", "namespaces"]
    form = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "fields": _PARAMS["thingFields"]["schema"],
            **{p: _PARAMS[p]["schema"] for p in ("filter", "option", "namespaces")},
        },
    }
    paths["/api/2/search/things"] = {
        "get": {
            "operationId": "searchThings",
            "tags": ["Search"],
            "summary": "Search things with RQL",
            "parameters": [_PARAMS[p] for p in search_params],
            "responses": {
                "200": {
                    "description": "One page of results.",
                    "content": _json(_ref("SearchResult")),
                },
                **_errors("400", "401"),
            },
        },
        "post": {
            "operationId": "searchThingsPost",
            "tags": ["Search"],
            "summary": "Search things with RQL (form body)",
            "requestBody": {
                "required": False,
                "content": {"application/x-www-form-urlencoded": {"schema": form}},
            },
            "responses": {
                "200": {
                    "description": "One page of results.",
                    "content": _json(_ref("SearchResult")),
                },
                **_errors("400", "401", "413", "415"),
            },
        },
    }
    count_form = {
        "type": "object",
        "additionalProperties": False,
        "properties": {p: _PARAMS[p]["schema"] for p in ("filter", "namespaces")},
    }
    counted = {
        "200": {
            "description": "The count, a bare integer.",
            "content": _json({"type": "integer", "minimum": 0}),
        }
    }
    paths["/api/2/search/things/count"] = {
        "get": {
            "operationId": "countThings",
            "tags": ["Search"],
            "summary": "Count things matching an RQL filter",
            "parameters": [_PARAMS[p] for p in ("filter", "namespaces")],
            "responses": {**counted, **_errors("400", "401")},
        },
        "post": {
            "operationId": "countThingsPost",
            "tags": ["Search"],
            "summary": "Count things matching an RQL filter (form body)",
            "requestBody": {
                "required": False,
                "content": {"application/x-www-form-urlencoded": {"schema": count_form}},
            },
            "responses": {**counted, **_errors("400", "401", "413", "415")},
        },
    }
    paths["/api/2/whoami"] = {
        "get": {
            "operationId": "whoami",
            "tags": ["Auth"],
            "summary": "The caller's subject",
            "responses": {
                "200": {"description": "The caller.", "content": _json(_ref("WhoAmI"))},
                **_errors("401"),
            },
        },
    }
    return paths


def _words(name: str) -> str:
    """``FeatureDesiredProperty`` → ``feature desired property``."""
    return "".join(" " + c.lower() if c.isupper() else c for c in name).strip()


def api_version() -> str:
    """The installed ndtwin version (the document's and the app's version)."""
    try:
        return version("ndtwin")
    except PackageNotFoundError:
        return "0.0.0"


def build_document(routes: Sequence[BaseRoute] = ()) -> dict[str, Any]:
    """The whole document: the Ditto part plus what FastAPI derives from ``routes``."""
    derived = get_openapi(
        title="ndtwin", version=api_version(), openapi_version="3.1.0", routes=list(routes)
    )
    paths = ditto_paths()
    paths.update(derived.get("paths", {}))
    schemas = _schemas()
    schemas.update(derived.get("components", {}).get("schemas", {}))
    tags = list(_TAGS)
    for tag in derived.get("tags", []) or []:
        if tag not in tags:
            tags.append(tag)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ndtwin",
            "version": api_version(),
            "description": "ndtwin serves network digital twins through the Eclipse "
            "Ditto HTTP API v2 (/api/2, /ws/2) and its native API "
            "(/v1). Authenticate with 'Authorization: Bearer <api key>' "
            "or HTTP Basic (user: tenant, password: api key).",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "security": [{"basicAuth": []}, {"bearerAuth": []}],
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "User: tenant name; password: API key.",
                },
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The tenant's API key.",
                },
            },
        },
    }


def main() -> int:
    """Print the document (with ``/v1`` when present) for ``docs/openapi.json``."""
    from server.app import v1_router

    router = v1_router()
    routes = list(router.routes) if router is not None else []
    json.dump(build_document(routes), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
