"""Responses of the ``/v1`` routes: Google-style JSON errors (AIP-193) and shared helpers."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from server.core import errors
from server.grpc.status import http_error_body, http_status_of

__all__ = ["ERROR_SCHEMA", "MediaTypeUnsupported", "error_response"]

#: The OpenAPI schema of an error body (``google.rpc.Status`` in Google's JSON form).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "status"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


class MediaTypeUnsupported(errors.NdtError):
    """The request body's media type is not one the route reads."""

    code = "mediatype.unsupported"
    status = 415
    grpc_code = "INVALID_ARGUMENT"
    default_message = "The request body's media type is not supported."


def error_response(exc: BaseException, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error as ``{"error": {code, message, status, details}}`` with its HTTP status."""
    response_headers = dict(headers or {})
    if isinstance(exc, errors.AuthenticationFailed):
        response_headers.setdefault("WWW-Authenticate", 'Bearer realm="ndtwin"')
    return JSONResponse(
        http_error_body(exc), status_code=http_status_of(exc), headers=response_headers
    )
