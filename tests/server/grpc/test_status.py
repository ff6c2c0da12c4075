"""`server.grpc.status`: one ErrorInfo per status, typed details, no leak of bug text."""

from __future__ import annotations

from google.rpc import code_pb2, error_details_pb2, status_pb2

from server.core import errors
from server.grpc.status import grpc_status_of, http_error_body, http_status_of, status_of


def _details(status: status_pb2.Status) -> dict[str, object]:
    out: dict[str, object] = {}
    for packed in status.details:
        name = packed.type_url.rsplit("/", 1)[1]
        assert name not in out, "each detail type at most once (AIP-193)"
        message = {
            "google.rpc.ErrorInfo": error_details_pb2.ErrorInfo,
            "google.rpc.BadRequest": error_details_pb2.BadRequest,
            "google.rpc.PreconditionFailure": error_details_pb2.PreconditionFailure,
            "google.rpc.Help": error_details_pb2.Help,
        }[name]()
        packed.Unpack(message)
        out[name] = message
    return out


def test_not_found_has_one_error_info_with_the_variables() -> None:
    status = status_of(errors.ThingNotFound("org.x:t1"))
    assert status.code == code_pb2.NOT_FOUND
    details = _details(status)
    assert list(details) == ["google.rpc.ErrorInfo"]
    info = details["google.rpc.ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain) == ("THINGS_THING_NOTFOUND", "ndtwin.io")
    assert dict(info.metadata) == {"code": "things:thing.notfound", "thingId": "org.x:t1"}


def test_shape_violations_become_field_violations() -> None:
    exc = errors.PayloadValidationError(
        [
            errors.ValidationDetail(
                "urn:x", "/attributes/co2", "sh:maxInclusive", 50000, "too high"
            ),
            errors.ValidationDetail("urn:x", "/attributes/n", "sh:datatype", None, "not an int"),
        ]
    )
    status = status_of(exc)
    assert status.code == code_pb2.INVALID_ARGUMENT
    details = _details(status)
    assert list(details) == ["google.rpc.ErrorInfo", "google.rpc.BadRequest"]
    bad = details["google.rpc.BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert [(v.field, v.reason, v.description) for v in bad.field_violations] == [
        ("/attributes/co2", "SH_MAXINCLUSIVE", "too high (value: 50000)"),
        ("/attributes/n", "SH_DATATYPE", "not an int"),
    ]


def test_precondition_failure() -> None:
    exc = errors.RevisionMismatch("twin", "org.x:t1", 3, 4)
    details = _details(status_of(exc))
    assert list(details) == ["google.rpc.ErrorInfo", "google.rpc.PreconditionFailure"]
    failure = details["google.rpc.PreconditionFailure"]
    assert isinstance(failure, error_details_pb2.PreconditionFailure)
    assert [(v.type, v.subject) for v in failure.violations] == [("ETAG", "org.x:t1")]
    assert http_status_of(exc) == 412


def test_a_bug_is_internal_without_its_text() -> None:
    status = status_of(KeyError("secret path /etc/x"))
    assert status.code == code_pb2.INTERNAL
    assert "secret" not in status.message
    assert list(_details(status)) == ["google.rpc.ErrorInfo"]
    assert grpc_status_of(KeyError("x")).code.name == "INTERNAL"


def test_help_link_and_http_body() -> None:
    exc = errors.RqlExpressionInvalid("unexpected ')'", expression="eq(a,1))", position=7)
    assert list(_details(status_of(exc))) == ["google.rpc.ErrorInfo", "google.rpc.Help"]
    body = http_error_body(exc)
    assert body["error"]["code"] == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    info = body["error"]["details"][0]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert info["metadata"] == {
        "code": "rql.expression.invalid",
        "expression": "eq(a,1))",
        "position": "7",
    }
