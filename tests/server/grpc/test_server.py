"""The server itself: health, reflection, deadlines, message size, graceful stop."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from server.cli import main
from server.core.service import Core
from server.grpc.cli import list_services
from server.grpc.gen.ndtwin.v1 import query_pb2, query_pb2_grpc, twins_pb2, twins_pb2_grpc
from server.grpc.server import MAX_MESSAGE_BYTES, bound_port, stop_grpc_server
from server.grpc.services import SERVICES
from tests.server.grpc.conftest import Tenant

pytestmark = pytest.mark.anyio


async def test_health_reports_serving_per_service(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", "ndtwin.v1.TwinService", "google.longrunning.Operations"):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_every_service_and_method(
    server: grpc.aio.Server, capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"127.0.0.1:{bound_port(server)}"
    names = await asyncio.to_thread(list_services, target)
    assert set(names) == {s.full_name for s in SERVICES} | {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    lines = await asyncio.to_thread(list_services, target, True)
    assert "  WatchTwins(ndtwin.v1.WatchTwinsRequest) returns (stream ndtwin.v1.TwinEvent)" in lines
    # The command line: `ndtwin grpc list` against the same server.
    code = await asyncio.to_thread(main, ["grpc", "list", "--target", target])
    assert code == 0
    assert "ndtwin.v1.TwinService" in capsys.readouterr().out.splitlines()


def test_grpc_list_without_a_server_fails_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grpc", "list", "--target", "127.0.0.1:1", "--timeout", "0.5"]) == 1
    assert "no gRPC server answers at 127.0.0.1:1" in capsys.readouterr().err


async def test_expired_deadline_is_deadline_exceeded_and_writes_nothing(
    channel: grpc.aio.Channel, alpha: Tenant, core: Core
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    twin = twins_pb2.Twin()
    twin.attributes.update({"a": 1})
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateTwin(
            twins_pb2.CreateTwinRequest(parent=alpha.parent, twin=twin, twin_id="org.d:late"),
            metadata=alpha.md,
            timeout=0.000001,
        )
    assert info.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.sleep(0.2)
    assert core.last_seq(core.tenants.authenticate(alpha.key)) == 0


async def test_a_query_is_bounded_by_the_deadline(channel: grpc.aio.Channel, alpha: Tenant) -> None:
    stub = query_pb2_grpc.QueryServiceStub(channel)
    # A cross product that runs far longer than the deadline on any machine.
    text = (
        "SELECT (COUNT(*) AS ?n) WHERE { VALUES ?a { 1 2 3 4 5 6 7 8 9 10 } "
        + " ".join(f"VALUES ?x{i} {{ {' '.join(str(j) for j in range(40))} }}" for i in range(5))
        + " }"
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stub.Query(
            query_pb2.QueryRequest(parent=alpha.parent, query=text), metadata=alpha.md, timeout=0.5
        ):
            pass
    assert info.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert loop.time() - started < 5


async def test_oversized_message_is_resource_exhausted(
    channel: grpc.aio.Channel, alpha: Tenant, core: Core
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    twin = twins_pb2.Twin()
    twin.attributes.update({"blob": "x" * (MAX_MESSAGE_BYTES + 10)})
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateTwin(
            twins_pb2.CreateTwinRequest(parent=alpha.parent, twin=twin, twin_id="org.big:1"),
            metadata=alpha.md,
        )
    assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    # Under the transport limit but over Ditto's 100 kB thing limit: INVALID_ARGUMENT.
    twin.attributes.update({"blob": "x" * 200_000})
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateTwin(
            twins_pb2.CreateTwinRequest(parent=alpha.parent, twin=twin, twin_id="org.big:2"),
            metadata=alpha.md,
        )
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert core.last_seq(core.tenants.authenticate(alpha.key)) == 0


async def test_graceful_stop_ends_watches_and_health(
    server: grpc.aio.Server, channel: grpc.aio.Channel, alpha: Tenant
) -> None:
    stub = twins_pb2_grpc.TwinServiceStub(channel)
    watch = stub.WatchTwins(twins_pb2.WatchTwinsRequest(parent=alpha.parent), metadata=alpha.md)
    await asyncio.sleep(0.1)
    await stop_grpc_server(server, 0.2)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in watch:
            pass
    assert info.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
