"""The ``/v1`` REST routes: each a transcoding of one ``ndtwin.v1`` method (see `transcode`).

Every route authenticates like the gRPC face (``Authorization: Bearer <key>``, or Basic
with the tenant as user; the operator key for tenants), builds the request message,
calls the same servicer method the gRPC server calls, and answers the response message
as JSON. Server-streaming methods answer newline-delimited JSON
(``application/x-ndjson``): one ``{"result": ...}`` line per message and, should the
stream fail after it started, a last ``{"error": ...}`` line. Errors are Google's JSON
error body (``{"error": {code, message, status, details}}``) with the HTTP status of the
core error (404, 409, 412, ...).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from server.core import errors
from server.grpc.binding import authenticate
from server.grpc.server import MAX_MESSAGE_BYTES
from server.grpc.services import Services, services_for
from server.grpc.status import http_error_body
from server.rest.v1.responses import ERROR_SCHEMA, MediaTypeUnsupported, error_response
from server.rest.v1.transcode import Binding, bindings, message_to_json, request_from_http

__all__ = ["add_routes", "v1_services"]

log = logging.getLogger(__name__)

_NDJSON = "application/x-ndjson"
#: How long a streaming route waits for its first message before sending the headers.
_FIRST_ITEM_WAIT_S = 0.2
_SCALAR_SCHEMAS = {
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
}


def v1_services(request: Request) -> Services:
    """The services of the app's core: ``app.state.v1_services``, else built from the REST
    face's state (``app.state.rest`` with ``core`` and ``settings``)."""
    state = request.app.state
    services: Services | None = getattr(state, "v1_services", None)
    if services is None:
        rest = state.rest
        services = services_for(rest.core, getattr(rest, "settings", None))
        state.v1_services = services
    return services


async def _json_body(request: Request) -> Any | None:
    raw = await request.body()
    if not raw:
        return None
    if len(raw) > MAX_MESSAGE_BYTES:
        raise errors.BadRequest(f"The body exceeds {MAX_MESSAGE_BYTES} bytes.")
    media = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media and media != "application/json" and not media.endswith("+json"):
        raise MediaTypeUnsupported(f"The body must be application/json, not '{media}'.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.JsonFormatInvalid(f"The body is not JSON: {exc}") from exc


async def _stream(
    first: asyncio.Future[Message], rest: AsyncIterator[Message]
) -> AsyncIterator[bytes]:
    try:
        try:
            yield orjson.dumps({"result": message_to_json(await first)}) + b"\n"
            async for item in rest:
                yield orjson.dumps({"result": message_to_json(item)}) + b"\n"
        except StopAsyncIteration:
            return
        except Exception as exc:  # the status line is sent: report the failure in-band
            yield orjson.dumps(http_error_body(exc), default=dict) + b"\n"
    finally:
        first.cancel()
        aclose = getattr(rest, "aclose", None)
        if aclose is not None:
            await aclose()


async def _streaming_response(items: AsyncIterator[Message]) -> Response:
    """Errors that come at once (bad names, credentials) keep their HTTP status; a stream
    with nothing to send yet (a watch) answers its headers after `_FIRST_ITEM_WAIT_S`."""
    first: asyncio.Future[Message] = asyncio.ensure_future(items.__anext__())
    await asyncio.wait({first}, timeout=_FIRST_ITEM_WAIT_S)
    if first.done() and first.exception() is not None:
        if isinstance(first.exception(), StopAsyncIteration):
            return Response(b"", media_type=_NDJSON)
        first.result()  # raises: answered as an error response
    return StreamingResponse(_stream(first, items), media_type=_NDJSON)


def _endpoint(binding: Binding) -> Callable[[Request], Any]:
    method_name = binding.method.name

    async def endpoint(request: Request) -> Response:
        try:
            services = v1_services(request)
            call = await authenticate(services, request.headers, None)
            body = await _json_body(request) if binding.body else None
            message = request_from_http(
                binding, request.path_params, list(request.query_params.multi_items()), body
            )
            impl = getattr(services.servicer(binding.method.containing_service), method_name)
            if not binding.streaming:
                return JSONResponse(message_to_json(await impl(message, call)))
            return await _streaming_response(impl(message, call).__aiter__())
        except Exception as exc:
            return error_response(exc)

    endpoint.__name__ = f"{binding.method.containing_service.name}_{method_name}"
    return endpoint


def _query_parameters(descriptor: Descriptor, bound: set[str], body: str) -> list[dict[str, Any]]:
    params = []
    for field in descriptor.fields:
        if field.name in bound or field.name == body:
            continue
        if field.message_type is not None:
            if field.message_type.full_name not in (
                "google.protobuf.Timestamp",
                "google.protobuf.Duration",
                "google.protobuf.FieldMask",
            ):
                continue
            schema: dict[str, Any] = {"type": "string"}
        elif field.enum_type is not None:
            schema = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
        else:
            schema = dict(_SCALAR_SCHEMAS.get(field.type, {"type": "string"}))
        if field.is_repeated:
            schema = {"type": "array", "items": schema}
        params.append({"name": field.name, "in": "query", "required": False, "schema": schema})
    return params


def _openapi(binding: Binding) -> dict[str, Any]:
    request = binding.method.input_type
    path_params = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
        for p in binding.params
    ]
    extra: dict[str, Any] = {"parameters": path_params}
    if not binding.body:
        bound = {v.field.split(".")[0] for v in binding.variables}
        extra["parameters"] += _query_parameters(request, bound, binding.body)
    else:
        extra["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    media = _NDJSON if binding.streaming else "application/json"
    extra["responses"] = {
        "200": {
            "description": f"{binding.method.output_type.full_name} in proto3 JSON",
            "content": {media: {"schema": {"type": "object"}}},
        },
        "default": {
            "description": "google.rpc.Status as JSON",
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        },
    }
    return extra


def add_routes(router: APIRouter) -> None:
    """Add one route per `Binding` to ``router`` (custom verbs first: they match first)."""
    for binding in bindings():
        router.add_api_route(
            binding.route,
            _endpoint(binding),
            methods=[binding.verb],
            name=binding.method.full_name,
            summary=binding.method.name,
            tags=[binding.service],
            openapi_extra=_openapi(binding),
            response_class=JSONResponse,
        )
