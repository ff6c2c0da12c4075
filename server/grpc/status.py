"""Errors as ``google.rpc.Status`` (AIP-193): canonical code, one ``ErrorInfo``, typed details.

Every `NdtError` becomes a status whose code is the error's ``grpc_code`` and whose details
hold exactly one ``ErrorInfo`` (``reason`` = `NdtError.reason`, ``domain`` = `DOMAIN`,
``metadata`` = the Ditto error code and every variable of the message), plus, at most once
each:

- ``BadRequest`` with one ``field_violation`` per SHACL/JSON Schema violation of a
  `PayloadValidationError` (``field`` is the JSON pointer inside the entity);
- ``PreconditionFailure`` for a failed etag or revision precondition (type ``ETAG``);
- ``Help`` with the error's documentation link, when it has one.

Anything that is not an `NdtError` is a bug: it is logged and answered INTERNAL with a
generic message, never with its text. The REST face renders the same status as Google's
JSON error body (`http_error_body`), so both faces report one error identically.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import grpc
from google.protobuf import any_pb2, json_format
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from server.core import errors

__all__ = [
    "DOMAIN",
    "GRPC_TO_HTTP",
    "grpc_status_of",
    "http_error_body",
    "http_status_of",
    "status_of",
]

log = logging.getLogger(__name__)

#: ``ErrorInfo.domain``: the service's logical name (AIP-193).
DOMAIN = "ndtwin.io"

#: HTTP status of each canonical code (google/rpc/code.proto), for errors that carry none.
GRPC_TO_HTTP: dict[int, int] = {
    code_pb2.OK: 200,
    code_pb2.CANCELLED: 499,
    code_pb2.UNKNOWN: 500,
    code_pb2.INVALID_ARGUMENT: 400,
    code_pb2.DEADLINE_EXCEEDED: 504,
    code_pb2.NOT_FOUND: 404,
    code_pb2.ALREADY_EXISTS: 409,
    code_pb2.PERMISSION_DENIED: 403,
    code_pb2.UNAUTHENTICATED: 401,
    code_pb2.RESOURCE_EXHAUSTED: 429,
    code_pb2.FAILED_PRECONDITION: 400,
    code_pb2.ABORTED: 409,
    code_pb2.OUT_OF_RANGE: 400,
    code_pb2.UNIMPLEMENTED: 501,
    code_pb2.INTERNAL: 500,
    code_pb2.UNAVAILABLE: 503,
    code_pb2.DATA_LOSS: 500,
}

# Attributes of core errors that name the variables of their message (AIP-193 asks for
# every variable in ErrorInfo.metadata).
_VARIABLES = (
    "thing_id",
    "relationship_id",
    "policy_id",
    "tenant",
    "value",
    "pointer",
    "key",
    "detail",
    "at",
    "expression",
    "position",
    "size",
    "limit",
    "field",
    "kind",
    "entity_id",
    "expected",
    "actual",
)
_CAMEL = re.compile(r"_([a-z])")


def _camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _error_info(exc: errors.NdtError) -> error_details_pb2.ErrorInfo:
    metadata = {"code": exc.code}
    for name in _VARIABLES:
        value = getattr(exc, name, None)
        if value is not None and isinstance(value, str | int):
            metadata[_camel(name)] = str(value)
    return error_details_pb2.ErrorInfo(reason=exc.reason[:63], domain=DOMAIN, metadata=metadata)


def _constraint_reason(constraint: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", constraint).strip("_").upper()[:63] or "CONSTRAINT"


def _bad_request(exc: errors.PayloadValidationError) -> error_details_pb2.BadRequest:
    out = error_details_pb2.BadRequest()
    for detail in exc.details:
        violation = out.field_violations.add()
        violation.field = detail.path or "/"
        violation.reason = _constraint_reason(detail.constraint)
        value = "" if detail.value is None else f" (value: {detail.value!r})"
        violation.description = f"{detail.message}{value}"
    return out


def _precondition(exc: errors.NdtError) -> error_details_pb2.PreconditionFailure:
    subject = (
        getattr(exc, "entity_id", None)
        or getattr(exc, "thing_id", None)
        or getattr(exc, "relationship_id", None)
        or ""
    )
    out = error_details_pb2.PreconditionFailure()
    out.violations.add(type="ETAG", subject=str(subject), description=exc.message)
    return out


def status_of(exc: BaseException) -> status_pb2.Status:
    """The ``google.rpc.Status`` of an error (INTERNAL, with no detail of it, for a bug)."""
    if not isinstance(exc, errors.NdtError):
        log.error("unexpected error", exc_info=exc)
        exc = errors.InternalError()
    try:
        code = code_pb2.Code.Value(exc.grpc_code)
    except ValueError:
        code = code_pb2.INTERNAL
    status = status_pb2.Status(code=code, message=exc.message)
    status.details.append(_pack(_error_info(exc)))
    if isinstance(exc, errors.PayloadValidationError) and exc.details:
        status.details.append(_pack(_bad_request(exc)))
    if isinstance(exc, errors.PreconditionFailed):
        status.details.append(_pack(_precondition(exc)))
    if exc.href:
        help_ = error_details_pb2.Help()
        help_.links.add(description=exc.description or exc.message, url=exc.href)
        status.details.append(_pack(help_))
    return status


def grpc_status_of(exc: BaseException) -> grpc.Status:
    """The status as grpcio wants it for ``context.abort_with_status``."""
    return rpc_status.to_status(status_of(exc))


def http_status_of(exc: BaseException) -> int:
    """The HTTP status of an error on the ``/v1`` REST routes.

    An `NdtError` keeps its own status (412 for a failed etag, as on the Ditto routes);
    a 304 "not modified" cannot carry a body and reads as 412 here.
    """
    if isinstance(exc, errors.NdtError):
        return 412 if exc.status == 304 else exc.status
    return 500


def http_error_body(exc: BaseException) -> dict[str, Any]:
    """Google's JSON error body: ``{"error": {code, message, status, details}}`` (AIP-193)."""
    status = status_of(exc)
    body = json_format.MessageToDict(status)
    return {
        "error": {
            "code": http_status_of(exc),
            "message": status.message,
            "status": code_pb2.Code.Name(status.code),
            "details": body.get("details", []),
        }
    }
