"""The one error mapping of the REST face: every failure becomes Ditto's error JSON.

Core errors (`NdtError`) already carry the Ditto code, status and texts (ditto-api notes
§1.5); this module renders them and adds the few errors only HTTP has (media types,
body size, unknown routes, methods). Framework errors (Starlette's HTTP exceptions,
FastAPI's request validation) are mapped here too, so no response of the face leaves
Ditto's format. Anything unexpected is logged and answered with a bare 500, never with
internals.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from server.core import errors

__all__ = [
    "MediaTypeNotAcceptable",
    "MediaTypeUnsupported",
    "MethodNotAllowed",
    "NotImplementedYet",
    "RequestTooLarge",
    "ResourceNotFound",
    "error_response",
    "install_error_handlers",
]

log = logging.getLogger(__name__)

#: RFC 9110 §11.6.1: a 401 names the schemes the server accepts.
WWW_AUTHENTICATE = 'Basic realm="ndtwin", Bearer realm="ndtwin"'


class MediaTypeUnsupported(errors.NdtError):
    """The request body has a content type the resource does not take (415)."""

    code = "mediatype.unsupported"
    status = 415
    grpc_code = "INVALID_ARGUMENT"
    default_description = (
        "PUT and POST take application/json; PATCH takes application/merge-patch+json."
    )

    def __init__(self, given: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"The Media-Type '{given}' is not supported by this resource; "
            f"use {' or '.join(allowed)}."
        )


class MediaTypeNotAcceptable(errors.NdtError):
    """No representation matches the request's ``Accept`` header (406)."""

    code = "mediatype.notacceptable"
    status = 406
    grpc_code = "INVALID_ARGUMENT"

    def __init__(self, accept: str, reason: str | None = None) -> None:
        super().__init__(
            f"No representation matches 'Accept: {accept}'." + (f" {reason}" if reason else "")
        )


class RequestTooLarge(errors.NdtError):
    """A request body is over the size limit (Ditto's 100 kB, notes §1.1) (413)."""

    code = "things:thing.toolarge"
    status = 413
    grpc_code = "INVALID_ARGUMENT"
    default_description = "Send a smaller body; a thing may be at most 100 kB."

    def __init__(self, limit: int, size: int | None = None) -> None:
        what = f"of {size} bytes " if size is not None else ""
        super().__init__(f"The request body {what}exceeds the limit of {limit} bytes.")


class ResourceNotFound(errors.NotFound):
    """No route matches the request path (404)."""

    code = "resource.notfound"

    def __init__(self, path: str) -> None:
        super().__init__(
            f"The resource '{path}' does not exist.",
            description="Check the path against the OpenAPI document at /openapi.json.",
        )


class MethodNotAllowed(errors.NdtError):
    """The resource exists but does not take this HTTP method (405)."""

    code = "method.notallowed"
    status = 405
    grpc_code = "UNIMPLEMENTED"

    def __init__(self, method: str, path: str, allowed: tuple[str, ...] = ()) -> None:
        self.allowed = allowed
        super().__init__(
            f"The method {method} is not allowed on '{path}'."
            + (f" Use {', '.join(allowed)}." if allowed else "")
        )


class NotImplementedYet(errors.NdtError):
    """A Ditto resource ndtwin does not serve yet (policies, messages) (501)."""

    code = "not.implemented"
    status = 501
    grpc_code = "UNIMPLEMENTED"
    default_description = "This part of the Ditto API is planned for a later release."

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not implemented by ndtwin yet.")


def error_response(exc: errors.NdtError, headers: dict[str, str] | None = None) -> Response:
    """Render ``exc`` as Ditto's error JSON with its status (304: no body, RFC 9110)."""
    extra = dict(headers or {})
    if exc.status == 401:
        extra.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    if isinstance(exc, MethodNotAllowed) and exc.allowed:
        extra.setdefault("Allow", ", ".join(exc.allowed))
    if exc.status == 304:
        return Response(status_code=304, headers=extra)
    return Response(
        orjson.dumps(exc.to_dict()),
        status_code=exc.status,
        media_type="application/json",
        headers=extra,
    )


async def _ndt_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.NdtError)
    return error_response(exc, _correlation(request))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = {**_correlation(request), **dict(exc.headers or {})}
    if exc.status_code == 404:
        return error_response(ResourceNotFound(request.url.path), headers)
    if exc.status_code == 405:
        return error_response(MethodNotAllowed(request.method, request.url.path), headers)
    # Any other framework status keeps its number, in Ditto's shape.
    body = {"status": exc.status_code, "error": "http.error", "message": str(exc.detail)}
    return Response(
        orjson.dumps(body),
        status_code=exc.status_code,
        media_type="application/json",
        headers=headers,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'/'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', '')}"
        for err in exc.errors()
    )
    return error_response(
        errors.JsonFormatInvalid(f"The request is invalid: {problems}"), _correlation(request)
    )


#: nginx's "client closed request": nobody reads it, but the status log can tell it apart.
CLIENT_CLOSED_REQUEST = 499


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client hung up before its body arrived: no one is left to answer and nothing was
    # changed (the body is read before any core call). Not a server error, so no traceback.
    log.debug("client closed the connection during %s %s", request.method, request.url.path)
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(errors.InternalError(), _correlation(request))


def _correlation(request: Request) -> dict[str, str]:
    value = request.headers.get("correlation-id")
    return {"correlation-id": value} if value else {}


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping above on ``app`` (the only place errors are rendered)."""
    handlers: dict[Any, Any] = {
        errors.NdtError: _ndt_error,
        StarletteHTTPException: _http_error,
        RequestValidationError: _validation_error,
        ClientDisconnect: _client_gone,
        Exception: _unexpected,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
