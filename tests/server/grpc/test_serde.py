"""Round trips of `server.grpc.serde`, with the exact messages pinned."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from google.protobuf import json_format, struct_pb2

from server.core import errors
from server.core.ids import RelationshipId, TenantId, ThingId
from server.core.stores.records import (
    ChangeEvent,
    HistoryBucket,
    HistoryPoint,
    RelationshipRecord,
    TenantRecord,
    TwinRecord,
)
from server.grpc import serde
from server.grpc.gen.ndtwin.v1 import models_pb2, twins_pb2
from server.modeling.issues import Issue

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)


def test_json_values_round_trip_with_integers_restored() -> None:
    value = {
        "i": 3,
        "neg": -7,
        "f": 2.5,
        "big": 2**53,
        "s": "x",
        "b": True,
        "n": None,
        "list": [1, 1.5, {"deep": [False]}],
        "empty": {},
    }
    proto = serde.json_to_struct(value)
    assert json_format.MessageToDict(proto) == {
        "i": 3.0,
        "neg": -7.0,
        "f": 2.5,
        "big": float(2**53),
        "s": "x",
        "b": True,
        "n": None,
        "list": [1.0, 1.5, {"deep": [False]}],
        "empty": {},
    }
    back = serde.json_from_struct(proto)
    assert back == value
    assert isinstance(back["i"], int) and isinstance(back["f"], float)
    assert isinstance(back["list"][0], int)
    # Beyond 2^53 a double is not an exact integer any more: it stays a float.
    assert isinstance(serde.json_from_value(serde.json_to_value(2**60)), float)


def test_non_finite_numbers_are_refused() -> None:
    proto = struct_pb2.Struct()
    proto.fields["x"].number_value = math.nan
    with pytest.raises(errors.JsonFormatInvalid, match="/attributes/x"):
        serde.json_from_struct(proto, "/attributes")


def test_twin_round_trip() -> None:
    record = TwinRecord(
        TenantId("alpha"),
        ThingId("org.x:t1"),
        4,
        T0,
        T1,
        {
            "thingId": "org.x:t1",
            "policyId": "org.x:p",
            "definition": "org.x:m:1",
            "attributes": {"a": 1},
            "features": {"f": {"properties": {"v": 0.5}}},
        },
    )
    twin = serde.twin_to_proto(record)
    assert json_format.MessageToDict(twin) == {
        "name": "tenants/alpha/twins/org.x:t1",
        "thingId": "org.x:t1",
        "policyId": "org.x:p",
        "definition": "org.x:m:1",
        "attributes": {"a": 1.0},
        "features": {"f": {"properties": {"v": 0.5}}},
        "revision": "4",
        "createTime": "2026-03-01T12:00:00.123456Z",
        "updateTime": "2026-03-01T12:00:05Z",
        "etag": "rev:4",
    }
    assert serde.twin_doc_from_proto(twin) == {
        k: v for k, v in record.doc.items() if k != "thingId"
    }
    # Unset fields stay out (the implied update mask of AIP-134).
    assert serde.twin_doc_from_proto(twins_pb2.Twin(definition="d")) == {"definition": "d"}


def test_relationship_round_trip() -> None:
    record = RelationshipRecord(
        TenantId("alpha"),
        RelationshipId("r1"),
        ThingId("a:b"),
        ThingId("a:c"),
        "observes",
        {"rsrp": -90},
        2,
        T0,
        T1,
    )
    rel = serde.relationship_to_proto(record)
    assert (rel.name, rel.source, rel.target, rel.etag) == (
        "tenants/alpha/relationships/r1",
        "tenants/alpha/twins/a:b",
        "tenants/alpha/twins/a:c",
        "rev:2",
    )
    body = serde.relationship_from_proto(rel, lambda name, field: name.rsplit("/", 1)[1])
    assert body == {
        "source": "a:b",
        "target": "a:c",
        "type": "observes",
        "properties": {"rsrp": -90},
    }


def test_event_round_trip() -> None:
    event = ChangeEvent(
        TenantId("alpha"), "twin", "merged", "org.x:t1", "/attributes", {"a": 1}, 3, T0, 17
    )
    proto = serde.event_to_proto(event)
    assert (proto.position, proto.kind, proto.action, proto.name) == (
        17,
        twins_pb2.TwinEvent.ENTITY_KIND_TWIN,
        twins_pb2.TwinEvent.ACTION_MERGED,
        "tenants/alpha/twins/org.x:t1",
    )
    assert serde.event_from_proto(proto) == event
    deleted = ChangeEvent(TenantId("beta"), "relationship", "deleted", "r9", "/", None, 2, T1, 4)
    proto = serde.event_to_proto(deleted)
    assert proto.name == "tenants/beta/relationships/r9"
    assert proto.value.WhichOneof("kind") == "null_value"
    assert serde.event_from_proto(proto) == deleted


def test_history_round_trips() -> None:
    point = HistoryPoint(TenantId("alpha"), ThingId("a:b"), "/attributes/co2", T0, 412, 5)
    assert serde.point_from_proto(serde.point_to_proto(point), "alpha", "a:b") == point
    bucket = HistoryBucket("/attributes/co2", T0, 3, 400.0, 900.0, 600.0)
    assert serde.bucket_from_proto(serde.bucket_to_proto(bucket)) == bucket
    empty = HistoryBucket("/attributes/s", T0, 2, None, None, None)
    proto = serde.bucket_to_proto(empty)
    assert not proto.HasField("min") and serde.bucket_from_proto(proto) == empty


def test_tenant_and_issue() -> None:
    tenant = serde.tenant_to_proto(TenantRecord(TenantId("alpha"), "hash", T0), "alpha.key")
    assert (tenant.name, tenant.api_key) == ("tenants/alpha", "alpha.key")
    issue = Issue("<request>", "/sdfObject/X", "schema", "error", "bad")
    proto = serde.issue_to_proto(issue)
    assert proto.severity == models_pb2.ModelIssue.SEVERITY_ERROR
    assert serde.issue_from_proto(proto) == issue


@pytest.mark.parametrize(
    ("etag", "expected"),
    [
        ("rev:3", '"rev:3"'),
        ('"rev:3"', '"rev:3"'),
        ('W/"rev:3"', '"rev:3"'),
        ("W/rev:3", '"rev:3"'),
    ],
)
def test_etags_normalise(etag: str, expected: str) -> None:
    assert serde.revision_of_etag(etag) == expected
    assert serde.etag_of(3) == "rev:3"
