"""Core records to and from ``ndtwin.v1`` messages: paired ``x_to_proto``/``x_from_proto``.

This is the only place that knows both shapes (style note §2.11); round trips are pinned
in ``tests/server/grpc/test_serde.py``.

JSON values travel as ``google.protobuf.Struct``/``Value``, whose numbers are doubles
(protobuf's JSON mapping). Reading them back, an integral double within ±2^53 becomes an
``int`` again, so ``{"level": 3}`` survives a round trip as an integer, which the model
validators need; larger integers lose precision, as they would in any JSON double. NaN
and infinities are not JSON and are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2

from server.core import errors
from server.core.errors import ValidationDetail
from server.core.ids import TenantId, ThingId
from server.core.preconditions import thing_etag
from server.core.stores.records import (
    ChangeEvent,
    HistoryBucket,
    HistoryPoint,
    RelationshipRecord,
    TenantRecord,
    TwinRecord,
)
from server.grpc.gen.ndtwin.v1 import (
    history_pb2,
    models_pb2,
    relationships_pb2,
    tenants_pb2,
    twins_pb2,
)
from server.grpc.names import (
    relationship_name,
    tenant_name,
    twin_name,
)
from server.modeling.issues import Issue

__all__ = [
    "bucket_from_proto",
    "bucket_to_proto",
    "etag_of",
    "event_from_proto",
    "event_to_proto",
    "issue_from_proto",
    "issue_to_proto",
    "json_from_struct",
    "json_from_value",
    "json_to_struct",
    "json_to_value",
    "point_from_proto",
    "point_to_proto",
    "relationship_from_proto",
    "relationship_to_proto",
    "revision_of_etag",
    "tenant_to_proto",
    "time_from_proto",
    "time_to_proto",
    "twin_doc_from_proto",
    "twin_to_proto",
    "violation_of",
]

_MAX_EXACT = 2**53
_ACTIONS = {
    "created": twins_pb2.TwinEvent.ACTION_CREATED,
    "modified": twins_pb2.TwinEvent.ACTION_MODIFIED,
    "merged": twins_pb2.TwinEvent.ACTION_MERGED,
    "deleted": twins_pb2.TwinEvent.ACTION_DELETED,
}
_ACTION_NAMES = {v: k for k, v in _ACTIONS.items()}
_KINDS = {
    "twin": twins_pb2.TwinEvent.ENTITY_KIND_TWIN,
    "relationship": twins_pb2.TwinEvent.ENTITY_KIND_RELATIONSHIP,
}
_KIND_NAMES = {v: k for k, v in _KINDS.items()}
_SEVERITIES = {
    "error": models_pb2.ModelIssue.SEVERITY_ERROR,
    "warning": models_pb2.ModelIssue.SEVERITY_WARNING,
}
_SEVERITY_NAMES = {v: k for k, v in _SEVERITIES.items()}


# --- JSON values -----------------------------------------------------------------------


def json_to_value(value: Any, out: struct_pb2.Value | None = None) -> struct_pb2.Value:
    """A JSON value (as orjson/json load it) as a ``google.protobuf.Value``."""
    target = out if out is not None else struct_pb2.Value()
    if value is None:
        target.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int | float):
        target.number_value = float(value)
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, Mapping):
        json_to_struct(value, target.struct_value)
    elif isinstance(value, list | tuple):
        items = target.list_value
        items.Clear()
        for item in value:
            json_to_value(item, items.values.add())
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")
    return target


def json_to_struct(
    obj: Mapping[str, Any], out: struct_pb2.Struct | None = None
) -> struct_pb2.Struct:
    """A JSON object as a ``google.protobuf.Struct``."""
    target = out if out is not None else struct_pb2.Struct()
    target.Clear()
    for key, item in obj.items():
        json_to_value(item, target.fields[key])
    return target


def json_from_value(value: struct_pb2.Value, where: str = "value") -> Any:
    """The JSON value of a ``google.protobuf.Value``; integral numbers become ``int``."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            raise errors.JsonFormatInvalid(
                f"The number at '{where}' is not finite; JSON has no NaN or infinity."
            )
        if number.is_integer() and abs(number) <= _MAX_EXACT:
            return int(number)
        return number
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return json_from_struct(value.struct_value, where)
    return [json_from_value(item, f"{where}/{i}") for i, item in enumerate(value.list_value.values)]


def json_from_struct(struct: struct_pb2.Struct, where: str = "") -> dict[str, Any]:
    """The JSON object of a ``google.protobuf.Struct`` (keys in sorted order)."""
    return {
        key: json_from_value(struct.fields[key], f"{where}/{key}") for key in sorted(struct.fields)
    }


# --- times and etags -------------------------------------------------------------------


def time_to_proto(
    value: datetime, out: timestamp_pb2.Timestamp | None = None
) -> timestamp_pb2.Timestamp:
    target = out if out is not None else timestamp_pb2.Timestamp()
    target.FromDatetime(value.astimezone(UTC))
    return target


def time_from_proto(value: timestamp_pb2.Timestamp) -> datetime:
    return value.ToDatetime(tzinfo=UTC)


def etag_of(revision: int) -> str:
    """The AIP-154 etag of a revision: the core's entity tag without its quotes."""
    return thing_etag(revision).strip('"')


def revision_of_etag(etag: str) -> str:
    """An etag as the core compares it: quoted, weak prefix dropped (RFC 9110 §8.8.3)."""
    tag = etag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    if not tag.startswith('"'):
        tag = f'"{tag}"'
    return tag


# --- twins -----------------------------------------------------------------------------


def twin_to_proto(record: TwinRecord, out: twins_pb2.Twin | None = None) -> twins_pb2.Twin:
    """A stored twin as a ``Twin``."""
    twin = out if out is not None else twins_pb2.Twin()
    doc = record.doc
    twin.name = twin_name(record.tenant, record.thing_id)
    twin.thing_id = record.thing_id
    twin.policy_id = str(doc.get("policyId", ""))
    definition = doc.get("definition")
    if isinstance(definition, str):
        twin.definition = definition
    if isinstance(doc.get("attributes"), dict):
        json_to_struct(doc["attributes"], twin.attributes)
    if isinstance(doc.get("features"), dict):
        json_to_struct(doc["features"], twin.features)
    twin.revision = record.revision
    time_to_proto(record.created, twin.create_time)
    time_to_proto(record.modified, twin.update_time)
    twin.etag = etag_of(record.revision)
    return twin


def twin_doc_from_proto(twin: twins_pb2.Twin) -> dict[str, Any]:
    """The Ditto thing JSON of the fields set in ``twin`` (no ``thingId``).

    Empty strings and absent ``Struct`` s are left out, so the result can serve both as a
    whole document and as the set of populated fields (AIP-134's implied mask).
    """
    doc: dict[str, Any] = {}
    if twin.policy_id:
        doc["policyId"] = twin.policy_id
    if twin.definition:
        doc["definition"] = twin.definition
    if twin.HasField("attributes"):
        doc["attributes"] = json_from_struct(twin.attributes, "/attributes")
    if twin.HasField("features"):
        doc["features"] = json_from_struct(twin.features, "/features")
    return doc


# --- relationships ---------------------------------------------------------------------


def relationship_to_proto(
    record: RelationshipRecord,
    out: relationships_pb2.Relationship | None = None,
) -> relationships_pb2.Relationship:
    rel = out if out is not None else relationships_pb2.Relationship()
    rel.name = relationship_name(record.tenant, record.id)
    rel.source = twin_name(record.tenant, record.source)
    rel.target = twin_name(record.tenant, record.target)
    rel.type = record.type
    json_to_struct(record.properties, rel.properties)
    rel.revision = record.revision
    time_to_proto(record.created, rel.create_time)
    time_to_proto(record.modified, rel.update_time)
    rel.etag = etag_of(record.revision)
    return rel


def relationship_from_proto(
    rel: relationships_pb2.Relationship, thing_id_of: Any
) -> dict[str, Any]:
    """The core's relationship body of the fields set in ``rel``.

    ``thing_id_of`` maps a twin resource name to its thing id (checking the tenant).
    """
    body: dict[str, Any] = {}
    if rel.source:
        body["source"] = str(thing_id_of(rel.source, "relationship.source"))
    if rel.target:
        body["target"] = str(thing_id_of(rel.target, "relationship.target"))
    if rel.type:
        body["type"] = rel.type
    if rel.HasField("properties"):
        body["properties"] = json_from_struct(rel.properties, "/properties")
    return body


# --- events ----------------------------------------------------------------------------


def event_to_proto(event: ChangeEvent) -> twins_pb2.TwinEvent:
    out = twins_pb2.TwinEvent(
        position=event.seq,
        kind=_KINDS[event.kind],
        action=_ACTIONS[event.action],
        name=(
            twin_name(event.tenant, event.entity_id)
            if event.kind == "twin"
            else relationship_name(event.tenant, event.entity_id)
        ),
        path=event.path,
        revision=event.revision,
    )
    json_to_value(event.value, out.value)
    time_to_proto(event.timestamp, out.event_time)
    return out


def event_from_proto(event: twins_pb2.TwinEvent) -> ChangeEvent:
    """The core event a ``TwinEvent`` was made from (tenant and id from its name)."""
    parts = event.name.split("/")
    return ChangeEvent(
        tenant=TenantId.trusted(parts[1]),
        kind=_KIND_NAMES[event.kind],  # type: ignore[arg-type]
        action=_ACTION_NAMES[event.action],  # type: ignore[arg-type]
        entity_id=parts[3],
        path=event.path,
        value=json_from_value(event.value),
        revision=event.revision,
        timestamp=time_from_proto(event.event_time),
        seq=event.position,
    )


# --- history ---------------------------------------------------------------------------


def point_to_proto(point: HistoryPoint) -> history_pb2.HistoryPoint:
    out = history_pb2.HistoryPoint(path=point.path, revision=point.revision)
    time_to_proto(point.time, out.time)
    json_to_value(point.value, out.value)
    return out


def point_from_proto(point: history_pb2.HistoryPoint, tenant: str, thing_id: str) -> HistoryPoint:
    return HistoryPoint(
        TenantId.trusted(tenant),
        ThingId.trusted(thing_id),
        point.path,
        time_from_proto(point.time),
        json_from_value(point.value),
        point.revision,
    )


def bucket_to_proto(bucket: HistoryBucket) -> history_pb2.HistoryBucket:
    out = history_pb2.HistoryBucket(path=bucket.path, count=bucket.count)
    time_to_proto(bucket.start, out.start_time)
    if bucket.minimum is not None:
        out.min = bucket.minimum
    if bucket.maximum is not None:
        out.max = bucket.maximum
    if bucket.mean is not None:
        out.mean = bucket.mean
    return out


def bucket_from_proto(bucket: history_pb2.HistoryBucket) -> HistoryBucket:
    return HistoryBucket(
        bucket.path,
        time_from_proto(bucket.start_time),
        bucket.count,
        bucket.min if bucket.HasField("min") else None,
        bucket.max if bucket.HasField("max") else None,
        bucket.mean if bucket.HasField("mean") else None,
    )


# --- tenants and models ----------------------------------------------------------------


def tenant_to_proto(record: TenantRecord, api_key: str = "") -> tenants_pb2.Tenant:
    out = tenants_pb2.Tenant(name=tenant_name(record.tenant), api_key=api_key)
    time_to_proto(record.created, out.create_time)
    return out


def issue_to_proto(issue: Issue) -> models_pb2.ModelIssue:
    return models_pb2.ModelIssue(
        pointer=issue.pointer,
        rule=issue.rule,
        severity=_SEVERITIES[issue.severity],
        message=issue.message,
    )


def issue_from_proto(issue: models_pb2.ModelIssue, file: str = "<request>") -> Issue:
    return Issue(
        file,
        issue.pointer,
        issue.rule,
        _SEVERITY_NAMES[issue.severity],  # type: ignore[arg-type]
        issue.message,
    )


def violation_of(issue: Issue) -> ValidationDetail:
    """An SDF issue as a validation detail (for ``BadRequest.field_violations``)."""
    return ValidationDetail(issue.file, issue.pointer or "/", issue.rule, None, issue.message)
