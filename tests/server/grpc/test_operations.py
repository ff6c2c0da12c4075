"""The in-process operation registry: progress, waiting, cooperative cancel, isolation."""

from __future__ import annotations

import asyncio
import threading

import pytest
from google.protobuf import wrappers_pb2
from google.rpc import code_pb2

from server.grpc.call import Runner
from server.grpc.gen.ndtwin.v1 import graph_pb2
from server.grpc.operations import OperationNotFound, OperationRegistry, Progress

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _until(event: threading.Event) -> None:
    for _ in range(500):
        if event.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the job did not start")


def _stepping_job(steps: int, started: threading.Event, step: threading.Event):  # type: ignore[no-untyped-def]
    def job(progress: Progress) -> wrappers_pb2.Int64Value:
        started.set()
        for i in range(steps):
            step.wait(5)
            step.clear()
            progress.check()
            progress.report(100 * (i + 1) / steps, f"step {i + 1}")
        return wrappers_pb2.Int64Value(value=steps)

    return job


async def test_progress_then_result() -> None:
    runner = Runner(2)
    registry = OperationRegistry(runner)
    started, step = threading.Event(), threading.Event()
    op = registry.start("alpha", "count", "tenants/alpha/graph", _stepping_job(2, started, step))
    assert not op.done
    await _until(started)
    step.set()
    meta = graph_pb2.OperationMetadata()
    for _ in range(500):
        running = await registry.wait("alpha", op.name, 0.01)
        running.metadata.Unpack(meta)
        if meta.status_message == "step 1":
            break
    assert not running.done and meta.progress_percent == 50 and meta.status_message == "step 1"
    step.set()
    done = await registry.wait("alpha", op.name, 5)
    value = wrappers_pb2.Int64Value()
    assert done.done and done.response.Unpack(value) and value.value == 2
    await registry.close()
    runner.close()


async def test_cancel_is_cooperative_and_reported_as_cancelled() -> None:
    runner = Runner(2)
    registry = OperationRegistry(runner)
    started, step = threading.Event(), threading.Event()
    op = registry.start("alpha", "count", "t", _stepping_job(3, started, step))
    await _until(started)
    with pytest.raises(OperationNotFound):
        registry.cancel("beta", op.name)
    registry.cancel("alpha", op.name)
    step.set()
    done = await registry.wait("alpha", op.name, 5)
    assert done.done and done.error.code == code_pb2.CANCELLED
    meta = graph_pb2.OperationMetadata()
    done.metadata.Unpack(meta)
    assert meta.cancel_requested and meta.status_message == "cancelled"
    await registry.close()
    runner.close()


async def test_a_failing_job_ends_with_its_status_and_old_ones_are_dropped() -> None:
    runner = Runner(2)
    registry = OperationRegistry(runner, keep=2)

    def fail(progress: Progress) -> wrappers_pb2.Int64Value:
        raise ValueError("boom")

    names = []
    for _ in range(4):
        op = registry.start("alpha", "fail", "t", fail)
        names.append(op.name)
        done = await registry.wait("alpha", op.name, 5)
        assert done.error.code == code_pb2.INTERNAL and "boom" not in done.error.message
    listed = registry.list("alpha")
    assert len(listed.operations) <= 3  # the newest finished ones, plus the one just added
    assert names[-1] in [o.name for o in listed.operations]
    assert not registry.list("beta").operations
    await registry.close()
    runner.close()
