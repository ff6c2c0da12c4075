"""Bad input gets the right canonical code, never UNKNOWN or INTERNAL, and changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from server.core.service import Core
from server.grpc.gen.ndtwin.v1 import (
    history_pb2,
    history_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
    query_pb2,
    query_pb2_grpc,
    relationships_pb2,
    relationships_pb2_grpc,
    twins_pb2,
    twins_pb2_grpc,
)
from tests.server.grpc.conftest import ENV_MODEL, Tenant

pytestmark = pytest.mark.anyio
INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def _drain(call: Any) -> list[Any]:
    return [m async for m in call]


async def test_bad_input_statuses(channel: grpc.aio.Channel, alpha: Tenant, core: Core) -> None:
    twins = twins_pb2_grpc.TwinServiceStub(channel)
    rels = relationships_pb2_grpc.RelationshipServiceStub(channel)
    models = models_pb2_grpc.ModelServiceStub(channel)
    md = alpha.md
    seed = twins_pb2.Twin(definition=ENV_MODEL)
    seed.attributes.update({"co2": 400})
    await twins.CreateTwin(
        twins_pb2.CreateTwinRequest(parent=alpha.parent, twin=seed, twin_id="org.v:env"),
        metadata=md,
    )
    caller = core.tenants.authenticate(alpha.key)
    position = core.last_seq(caller)
    name = alpha.twin("org.v:env")

    def update(
        attrs: dict[str, Any], mask: list[str] | None = None, etag: str = "", twin_name: str = name
    ) -> Awaitable[Any]:
        twin = twins_pb2.Twin(name=twin_name, etag=etag)
        twin.attributes.update(attrs)
        request = twins_pb2.UpdateTwinRequest(twin=twin)
        if mask is not None:
            request.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=mask))
        return twins.UpdateTwin(request, metadata=md)

    nan = twins_pb2.Twin(name=name)
    nan.attributes.update({"co2": float("nan")})
    cases: dict[str, tuple[Callable[[], Awaitable[Any]], grpc.StatusCode]] = {
        "no credentials": (
            lambda: twins.GetTwin(twins_pb2.GetTwinRequest(name=name)),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        "wrong key": (
            lambda: twins.GetTwin(
                twins_pb2.GetTwinRequest(name=name),
                metadata=(("authorization", "Bearer alpha.wrong"),),
            ),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        "malformed scheme": (
            lambda: twins.GetTwin(
                twins_pb2.GetTwinRequest(name=name), metadata=(("authorization", "Token x"),)
            ),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        "empty name": (lambda: twins.GetTwin(twins_pb2.GetTwinRequest(), metadata=md), INVALID),
        "malformed name": (
            lambda: twins.GetTwin(
                twins_pb2.GetTwinRequest(name="tenants/alpha/things/x:y"), metadata=md
            ),
            INVALID,
        ),
        "bad thing id": (
            lambda: twins.GetTwin(
                twins_pb2.GetTwinRequest(name="tenants/alpha/twins/no-namespace-colon"), metadata=md
            ),
            INVALID,
        ),
        "bad parent": (
            lambda: twins.ListTwins(twins_pb2.ListTwinsRequest(parent="alpha"), metadata=md),
            INVALID,
        ),
        "bad filter": (
            lambda: twins.ListTwins(
                twins_pb2.ListTwinsRequest(parent=alpha.parent, filter="eq(attributes/co2"),
                metadata=md,
            ),
            INVALID,
        ),
        "unknown filter op": (
            lambda: twins.ListTwins(
                twins_pb2.ListTwinsRequest(parent=alpha.parent, filter="near(a,1)"), metadata=md
            ),
            INVALID,
        ),
        "bad order_by": (
            lambda: twins.ListTwins(
                twins_pb2.ListTwinsRequest(parent=alpha.parent, order_by="name sideways"),
                metadata=md,
            ),
            INVALID,
        ),
        "negative page size": (
            lambda: twins.ListTwins(
                twins_pb2.ListTwinsRequest(parent=alpha.parent, page_size=-1), metadata=md
            ),
            INVALID,
        ),
        "forged page token": (
            lambda: twins.ListTwins(
                twins_pb2.ListTwinsRequest(parent=alpha.parent, page_token="bm9wZQ"), metadata=md
            ),
            INVALID,
        ),
        "shape violation": (lambda: update({"co2": 99999}, ["attributes.co2"]), INVALID),
        "integer expected": (
            lambda: update({"motionCount": 1.5}, ["attributes.motionCount"]),
            INVALID,
        ),
        "NaN": (
            lambda: twins.UpdateTwin(twins_pb2.UpdateTwinRequest(twin=nan), metadata=md),
            INVALID,
        ),
        "stale etag": (
            lambda: update({"co2": 500}, ["attributes.co2"], etag="rev:99"),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
        "garbage etag": (
            lambda: update({"co2": 500}, ["attributes.co2"], etag='"x'),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
        "bad mask": (lambda: update({"co2": 500}, ["attributes..co2"]), INVALID),
        "mask on unknown field": (lambda: update({"co2": 500}, ["colour"]), INVALID),
        "bad definition": (
            lambda: twins.CreateTwin(
                twins_pb2.CreateTwinRequest(
                    parent=alpha.parent,
                    twin=twins_pb2.Twin(definition="nonsense"),
                    twin_id="org.v:x",
                ),
                metadata=md,
            ),
            INVALID,
        ),
        "bad namespace": (
            lambda: twins.CreateTwin(
                twins_pb2.CreateTwinRequest(
                    parent=alpha.parent, twin=twins_pb2.Twin(), namespace="1bad"
                ),
                metadata=md,
            ),
            INVALID,
        ),
        "bad request id": (
            lambda: twins.BatchUpsertTwins(
                twins_pb2.BatchUpsertTwinsRequest(parent=alpha.parent, request_id="not-a-uuid"),
                metadata=md,
            ),
            INVALID,
        ),
        "negative watch position": (
            lambda: _drain(
                twins.WatchTwins(
                    twins_pb2.WatchTwinsRequest(parent=alpha.parent, start_after=-1), metadata=md
                )
            ),
            INVALID,
        ),
        "bad relationship id": (
            lambda: rels.CreateRelationship(
                relationships_pb2.CreateRelationshipRequest(
                    parent=alpha.parent,
                    relationship_id="a/b",
                    relationship=relationships_pb2.Relationship(
                        source=name, target=name, type="near"
                    ),
                ),
                metadata=md,
            ),
            INVALID,
        ),
        "bad relationship type": (
            lambda: rels.CreateRelationship(
                relationships_pb2.CreateRelationshipRequest(
                    parent=alpha.parent,
                    relationship_id="r",
                    relationship=relationships_pb2.Relationship(
                        source=name, target=name, type="has space"
                    ),
                ),
                metadata=md,
            ),
            INVALID,
        ),
        "bad relationship filter": (
            lambda: rels.ListRelationships(
                relationships_pb2.ListRelationshipsRequest(
                    parent=alpha.parent, filter="source ~ 'x'"
                ),
                metadata=md,
            ),
            INVALID,
        ),
        "bad model name": (
            lambda: models.GetModel(models_pb2.GetModelRequest(name="model/x"), metadata=md),
            INVALID,
        ),
        "unknown model": (
            lambda: models.GetModel(models_pb2.GetModelRequest(name="models/nope"), metadata=md),
            grpc.StatusCode.NOT_FOUND,
        ),
        "model not JSON": (
            lambda: models.ValidateModel(
                models_pb2.ValidateModelRequest(model=models_pb2.ModelSource(content="{nope")),
                metadata=md,
            ),
            INVALID,
        ),
        "model missing": (
            lambda: models.ValidateModel(models_pb2.ValidateModelRequest(), metadata=md),
            INVALID,
        ),
        "bad model id": (
            lambda: models.RegisterModel(
                models_pb2.RegisterModelRequest(
                    model_id="Bad_Id", model=models_pb2.ModelSource(content="{}")
                ),
                metadata=md,
            ),
            INVALID,
        ),
        "bad SPARQL": (
            lambda: _drain(
                query_pb2_grpc.QueryServiceStub(channel).Query(
                    query_pb2.QueryRequest(parent=alpha.parent, query="SELEKT"), metadata=md
                )
            ),
            INVALID,
        ),
        "history range": (
            lambda: history_pb2_grpc.HistoryServiceStub(channel).QueryHistory(
                history_pb2.QueryHistoryRequest(name=name, bucket={"seconds": -5}), metadata=md
            ),
            INVALID,
        ),
    }
    for label, (call, expected) in cases.items():
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call()
        code = info.value.code()
        assert code not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), label
        assert code is expected, f"{label}: {code} {info.value.details()}"
    assert core.last_seq(caller) == position
    twin = await twins.GetTwin(twins_pb2.GetTwinRequest(name=name), metadata=md)
    assert twin.revision == 1 and twin.attributes["co2"] == 400
