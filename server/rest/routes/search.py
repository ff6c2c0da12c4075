"""Ditto search routes: ``/api/2/search/things`` and ``/api/2/search/things/count``.

``GET`` takes ``filter`` (RQL), ``option`` (``size``, ``cursor``, ``sort``), ``fields`` and
``namespaces`` as query parameters; ``POST`` takes the same as an
``application/x-www-form-urlencoded`` body (httpapi-search, notes §1.6). A search answers
``{"items": [...], "cursor": "..."}`` (no cursor on the last page), a count a bare
integer. Errors in ``option`` and ``namespaces`` carry Ditto's ``thing-search:`` prefix; a
malformed filter is the general ``rql.expression.invalid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from server.core import errors
from server.rest.codec import json_response, media_type, read_body
from server.rest.context import authenticate, call, rest_state
from server.rest.errors import MediaTypeUnsupported
from server.rest.routes.things import search_namespaces, search_option
from server.rest.selection import check_fields

__all__ = ["count_things", "search_things"]

_FORM = "application/x-www-form-urlencoded"
_SEARCH_FIELDS = frozenset({"filter", "option", "fields", "namespaces"})
_COUNT_FIELDS = frozenset({"filter", "namespaces"})


async def _params(request: Request, allowed: frozenset[str]) -> Mapping[str, str]:
    if request.method != "POST":
        return request.query_params
    given = media_type(request.headers.get("content-type"))
    if given not in (None, _FORM):
        raise MediaTypeUnsupported(given or "", (_FORM,))
    body = await read_body(request, rest_state(request).settings.max_body_bytes)
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise errors.BadRequest("The form body is not UTF-8.") from exc
    unknown = sorted(set(form) - allowed)
    if unknown:
        raise errors.BadRequest(
            f"Unknown form field(s): {', '.join(unknown)}; expected {', '.join(sorted(allowed))}."
        )
    return {**request.query_params, **form}


def _filter(params: Mapping[str, str]) -> str | None:
    value = params.get("filter")
    return value if value else None


async def search_things(request: Request) -> Response:
    """One page of things matching ``filter``."""
    caller = await authenticate(request)
    params = await _params(request, _SEARCH_FIELDS)
    option = search_option(params.get("option"))
    namespaces = search_namespaces(params.get("namespaces"))
    items, cursor = await call(
        rest_state(request).core.twins.search,
        caller,
        _filter(params),
        option,
        check_fields(params.get("fields")),
        namespaces,
    )
    body: dict[str, object] = {"items": items}
    if cursor is not None:
        body["cursor"] = cursor
    return json_response(body)


async def count_things(request: Request) -> Response:
    """How many things match ``filter`` (a bare JSON integer)."""
    caller = await authenticate(request)
    params = await _params(request, _COUNT_FIELDS)
    namespaces = search_namespaces(params.get("namespaces"))
    count = await call(rest_state(request).core.twins.count, caller, _filter(params), namespaces)
    return json_response(count)
