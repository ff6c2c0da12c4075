"""The error tree pins Ditto codes, HTTP statuses, gRPC codes and ErrorInfo reasons."""

from __future__ import annotations

import inspect
import re

import pytest

import server.core.errors as errors_module
from server.core.errors import (
    AttributeNotFound,
    ConditionFailed,
    ConditionInvalid,
    FeatureNotFound,
    FeaturePropertyNotFound,
    FieldSelectionInvalid,
    IdNotSettable,
    JsonFormatInvalid,
    NdtError,
    NotFound,
    PayloadValidationError,
    PreconditionFailed,
    PreconditionNotModified,
    RelationshipNotFound,
    RevisionMismatch,
    RqlExpressionInvalid,
    SearchNamespacesInvalid,
    SearchOptionInvalid,
    TenantConflict,
    TenantNotFound,
    ThingConflict,
    ThingIdInvalid,
    ThingNotFound,
    ThingTooLarge,
    ValidationDetail,
    reason_for,
)

# (error instance, Ditto code, HTTP status, gRPC canonical code) per ditto-api notes §1.5.
CASES = [
    (ThingIdInvalid("x"), "things:id.invalid", 400, "INVALID_ARGUMENT"),
    (ThingNotFound("ns:x"), "things:thing.notfound", 404, "NOT_FOUND"),
    (AttributeNotFound("ns:x", "/a"), "things:attribute.notfound", 404, "NOT_FOUND"),
    (FeatureNotFound("ns:x", "f"), "things:feature.notfound", 404, "NOT_FOUND"),
    (FeaturePropertyNotFound("ns:x", "f/p"), "things:feature.property.notfound", 404, "NOT_FOUND"),
    (PreconditionFailed(), "things:precondition.failed", 412, "FAILED_PRECONDITION"),
    (PreconditionNotModified(), "things:precondition.notmodified", 304, "FAILED_PRECONDITION"),
    (ConditionFailed(), "things:condition.failed", 412, "FAILED_PRECONDITION"),
    (ConditionInvalid(), "things:condition.invalid", 400, "INVALID_ARGUMENT"),
    (ThingConflict("ns:x"), "things:thing.conflict", 409, "ALREADY_EXISTS"),
    (ThingTooLarge("ns:x", 200_000, 102_400), "things:thing.toolarge", 413, "INVALID_ARGUMENT"),
    (IdNotSettable(), "things:id.notsettable", 400, "INVALID_ARGUMENT"),
    (FieldSelectionInvalid(), "things:field.selection.invalid", 400, "INVALID_ARGUMENT"),
    (JsonFormatInvalid(), "json.format.invalid", 400, "INVALID_ARGUMENT"),
    (RqlExpressionInvalid("bad", position=3), "rql.expression.invalid", 400, "INVALID_ARGUMENT"),
    (SearchOptionInvalid(), "thing-search:search.option.invalid", 400, "INVALID_ARGUMENT"),
    (SearchNamespacesInvalid(), "thing-search:search.namespaces.invalid", 400, "INVALID_ARGUMENT"),
    (PayloadValidationError([]), "wot:payload.validation.error", 400, "INVALID_ARGUMENT"),
    (TenantNotFound("acme"), "tenants:tenant.notfound", 404, "NOT_FOUND"),
    (TenantConflict("acme"), "tenants:tenant.conflict", 409, "ALREADY_EXISTS"),
    (RelationshipNotFound("r"), "relationships:relationship.notfound", 404, "NOT_FOUND"),
]


@pytest.mark.parametrize(("error", "code", "status", "grpc"), CASES, ids=[c[1] for c in CASES])
def test_each_error_carries_its_code_status_and_grpc_code(
    error: NdtError, code: str, status: int, grpc: str
) -> None:
    assert (error.code, error.status, error.grpc_code) == (code, status, grpc)
    body = error.to_dict()
    assert body["error"] == code and body["status"] == status
    assert body["message"] == error.message == str(error)


def test_reason_is_upper_snake_of_the_code() -> None:
    assert reason_for("things:thing.notfound") == "THINGS_THING_NOTFOUND"
    assert reason_for("thing-search:search.option.invalid") == "THING_SEARCH_SEARCH_OPTION_INVALID"
    assert ThingNotFound("ns:x").reason == "THINGS_THING_NOTFOUND"


def test_every_error_class_has_a_unique_code_and_a_valid_reason() -> None:
    classes = [
        c for _, c in inspect.getmembers(errors_module, inspect.isclass) if issubclass(c, NdtError)
    ]
    # A class either defines its own code or shares its parent's (RevisionMismatch is a
    # PreconditionFailed on the wire); no two classes define the same code.
    codes = [c.code for c in classes if "code" in vars(c)]
    assert len(codes) == len(set(codes)), sorted(codes)
    assert "code" not in vars(RevisionMismatch)
    for cls in classes:
        assert re.fullmatch(r"[A-Z0-9]+(_[A-Z0-9]+)*", reason_for(cls.code)), cls
        assert cls.grpc_code in {
            "INVALID_ARGUMENT",
            "NOT_FOUND",
            "ALREADY_EXISTS",
            "FAILED_PRECONDITION",
            "UNAUTHENTICATED",
            "UNAVAILABLE",
            "INTERNAL",
        }


def test_not_found_reads_like_not_permitted() -> None:
    message = ThingNotFound("ns:x").message
    assert "ns:x" in message and "insufficient permissions" in message
    assert isinstance(ThingNotFound("ns:x"), NotFound)


def test_revision_mismatch_is_a_precondition_failure_with_details() -> None:
    error = RevisionMismatch("thing", "ns:x", 3, 4)
    assert isinstance(error, PreconditionFailed)
    assert (error.expected, error.actual, error.entity_id) == (3, 4, "ns:x")
    assert error.code == "things:precondition.failed"


def test_rql_errors_report_the_position() -> None:
    error = RqlExpressionInvalid("unexpected ')'", expression="eq(a,)", position=5)
    assert error.position == 5 and "position 5" in error.message


def test_payload_validation_lists_every_violation() -> None:
    details = [
        ValidationDetail("urn:t:ns:x", "/attributes/level", "sh:maxInclusive", 9, "too big"),
        ValidationDetail("urn:t:ns:x", None, "sh:closed", None, "unknown property"),
    ]
    body = PayloadValidationError(details).to_dict()
    assert body["validationDetails"] == [
        {
            "focusNode": "urn:t:ns:x",
            "path": "/attributes/level",
            "constraint": "sh:maxInclusive",
            "value": 9,
            "message": "too big",
        },
        {
            "focusNode": "urn:t:ns:x",
            "path": None,
            "constraint": "sh:closed",
            "value": None,
            "message": "unknown property",
        },
    ]


def test_optional_fields_are_left_out_and_overridable() -> None:
    error = ConditionFailed("custom", description="why", href="https://example.org")
    assert error.to_dict() == {
        "status": 412,
        "error": "things:condition.failed",
        "message": "custom",
        "description": "why",
        "href": "https://example.org",
    }
    assert "href" not in PreconditionFailed().to_dict()
