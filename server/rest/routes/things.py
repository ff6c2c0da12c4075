"""Ditto things routes: ``/api/2/things`` and every sub-resource of a thing.

Each handler only translates (style note §1): parse the URL, headers and body, call the
core in a worker thread, render Ditto's answer. Status codes and headers follow Ditto
(notes §1.2, §1.4): GET 200 with ``ETag``; PUT 201 with body, ``Location`` and ``ETag``
when it created the addressed resource, else 204; PATCH (``application/merge-patch+json``,
RFC 7396) likewise, creating the thing if absent; DELETE 204; a matching
``If-None-Match`` on GET 304; a failed precondition 412.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from server.core import errors
from server.core.ids import validate_namespace
from server.core.preconditions import value_etag
from server.core.rql.parser import parse_options
from server.core.twins.service import WriteResult
from server.rest.codec import MERGE_PATCH_TYPES, dumps, json_response, read_json
from server.rest.context import authenticate, call, call_point, ditto_headers, rest_state
from server.rest.errors import MethodNotAllowed, error_response
from server.rest.headers import DittoHeaders
from server.rest.paths import ThingTarget, parse_target, thing_url
from server.rest.routes import sse
from server.rest.selection import check_fields, retrieve
from server.rest.td import TD_MEDIA_TYPE

__all__ = [
    "create_thing",
    "delete_resource",
    "get_resource",
    "list_things",
    "merge_resource",
    "put_resource",
    "search_namespaces",
    "search_option",
]

_CURSOR = re.compile(r",?cursor\([^)]*\)")


def search_option(option: str | None) -> str | None:
    """Check ``option`` up front so its errors carry the ``thing-search:`` prefix."""
    if option is None or option == "":
        return None
    try:
        parse_options(option)
    except errors.RqlExpressionInvalid as exc:
        raise errors.SearchOptionInvalid(
            f"The option '{option}' is not valid: {exc.message}"
        ) from exc
    return option


def search_namespaces(raw: str | None) -> list[str] | None:
    """``namespaces=a,b`` as a list; an invalid namespace is Ditto's search error."""
    if raw is None:
        return None
    if raw == "":
        return None
    names = raw.split(",")
    for name in names:
        try:
            validate_namespace(name)
        except errors.NamespaceInvalid as exc:
            raise errors.SearchNamespacesInvalid(f"The namespace '{name}' is not valid.") from exc
        if name == "":
            raise errors.SearchNamespacesInvalid("A namespace in the list is empty.")
    return names


# -- /api/2/things -------------------------------------------------------------------


async def list_things(request: Request) -> Response:
    """``GET /api/2/things``: by ``ids``, else the first page of all things with links."""
    caller = await authenticate(request)
    if _wants(request, "text/event-stream"):
        return await sse.things_stream(request, caller)
    state = rest_state(request)
    query = request.query_params
    fields = check_fields(query.get("fields"))
    option = search_option(query.get("option"))
    namespaces = search_namespaces(query.get("namespaces"))
    ids = query.get("ids")
    if ids is not None:
        wanted = [i for i in ids.split(",") if i]
        items = await call(state.core.twins.get_many, caller, wanted, fields)
        return json_response(items)
    items, cursor = await call(state.core.twins.search, caller, None, option, fields, namespaces)
    url = str(request.url)
    links = [f'<{url}>; rel="canonical"']
    if cursor is not None:
        base = _CURSOR.sub("", option or "").strip(",")
        next_option = f"{base},cursor({cursor})" if base else f"cursor({cursor})"
        links.append(f'<{request.url.include_query_params(option=next_option)}>; rel="next"')
    return json_response(items, headers={"Link": ", ".join(links)})


async def create_thing(request: Request) -> Response:
    """``POST /api/2/things``: a new thing ``<namespace>:<uuid>`` (201)."""
    caller = await authenticate(request)
    state = rest_state(request)
    required = ditto_headers(request).response_required
    body = await read_json(request, state.settings.max_body_bytes)
    namespace = request.query_params.get("namespace", "")
    validate_namespace(namespace)
    result = await call(state.core.twins.create, caller, body, namespace)
    assert result.record is not None
    if not required:
        return Response(status_code=202)
    location = thing_url(request, result.record.thing_id)
    return json_response(result.value, 201, {"Location": location, "ETag": result.etag or ""})


# -- /api/2/things/{thingId}[/...] ---------------------------------------------------


async def get_resource(request: Request) -> Response:
    """``GET`` a thing or any part of it (``fields``, conditional, historical, TD, SSE)."""
    caller = await authenticate(request)
    target = parse_target(request)
    if _wants(request, "text/event-stream"):
        return await sse.thing_stream(request, caller, target)
    state = rest_state(request)
    if _wants(request, TD_MEDIA_TYPE) and (target.is_thing or target.feature_id):
        return await _description(request, caller, target)
    headers = ditto_headers(request)
    pre = headers.preconditions()
    at_revision, at_time = headers.historical()
    fields = request.query_params.get("fields") or None
    try:
        value, etag = await call_point(
            state.core,
            False,
            retrieve,
            state.core,
            caller,
            target.thing_id,
            target.path,
            fields,
            pre,
            at_revision,
            at_time,
        )
    except errors.PreconditionNotModified as exc:
        _, etag = await call_point(
            state.core, False, retrieve, state.core, caller, target.thing_id, target.path, None
        )
        return error_response(exc, {"ETag": etag})
    return json_response(value, headers={"ETag": etag})


async def put_resource(request: Request) -> Response:
    """``PUT``: create (201) or replace (204) the addressed resource."""
    caller = await authenticate(request)
    target = parse_target(request)
    state = rest_state(request)
    headers = ditto_headers(request)
    options = _WriteOptions.of(headers)
    body = await read_json(request, state.settings.max_body_bytes)
    pre = headers.preconditions()
    result = await call_point(
        state.core, True, state.core.twins.put, caller, target.thing_id, target.path, body, pre
    )
    return _written(request, target, options, result)


async def merge_resource(request: Request) -> Response:
    """``PATCH`` with a JSON merge patch (RFC 7396); creates the thing when absent."""
    caller = await authenticate(request)
    target = parse_target(request)
    state = rest_state(request)
    headers = ditto_headers(request)
    options = _WriteOptions.of(headers)
    body = await read_json(request, state.settings.max_body_bytes, MERGE_PATCH_TYPES)
    pre = headers.preconditions()
    result = await call_point(
        state.core, True, state.core.twins.merge, caller, target.thing_id, target.path, body, pre
    )
    return _written(request, target, options, result)


async def delete_resource(request: Request) -> Response:
    """``DELETE`` the thing or a part of it (204); ``policyId`` cannot be deleted."""
    caller = await authenticate(request)
    target = parse_target(request)
    if target.is_policy_id:
        raise MethodNotAllowed("DELETE", request.url.path, ("GET", "PUT", "PATCH"))
    state = rest_state(request)
    headers = ditto_headers(request)
    required = headers.response_required
    await call_point(
        state.core,
        True,
        state.core.twins.delete,
        caller,
        target.thing_id,
        target.path,
        headers.preconditions(),
    )
    if not required:
        return Response(status_code=202)
    return Response(status_code=204)


@dataclass(frozen=True, slots=True)
class _WriteOptions:
    """Headers that shape a write's answer, read (and checked) before the write."""

    response_required: bool
    if_equal_skip: bool

    @classmethod
    def of(cls, headers: DittoHeaders) -> _WriteOptions:
        """Read (and so check) the options before anything is written."""
        return cls(headers.response_required, headers.if_equal_skip)


def _written(
    request: Request, target: ThingTarget, options: _WriteOptions, result: WriteResult
) -> Response:
    if options.if_equal_skip and result.event is None and not result.created:
        raise errors.PreconditionFailed(
            "The resource already has this value and 'if-equal' is 'skip'."
        )
    if not options.response_required:
        return Response(status_code=202)
    if target.is_thing:
        etag = result.etag
    else:
        etag = value_etag(result.value) if result.value is not None else None
    out: dict[str, str] = {"ETag": etag} if etag else {}
    if result.created:
        location = thing_url(request, target.thing_id)
        if not target.is_thing:
            location += "/" + "/".join(quote(s, safe="") for s in target.segments)
        out["Location"] = location
        return json_response(result.value, 201, out)
    return Response(status_code=204, headers=out)


async def _description(request: Request, caller: Any, target: ThingTarget) -> Response:
    state = rest_state(request)
    record = await call(state.core.twins.get_record, caller, target.thing_id)
    url = thing_url(request, record.thing_id)
    if target.feature_id is not None:
        feature_id = target.feature_id
        if feature_id not in (record.doc.get("features") or {}):
            raise errors.FeatureNotFound(record.thing_id, feature_id)
        td = await call(
            state.descriptions.for_feature, record.doc, feature_id, record.revision, url
        )
    else:
        td = await call(state.descriptions.for_thing, record.doc, record.revision, url)
    return Response(dumps(td), media_type=TD_MEDIA_TYPE)


def _wants(request: Request, media_type: str) -> bool:
    # Ditto reads ``accept`` from the query too (query-params-as-headers).
    accept = request.headers.get("accept")
    if accept is not None and media_type in accept.lower():
        return True
    if not request.scope["query_string"]:
        return False
    return media_type in request.query_params.get("accept", "").lower()
