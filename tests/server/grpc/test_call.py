"""`Call.run_point`: one-entity calls on the event loop when the core finds them cheap,
in the runner's pool otherwise, and never started once the deadline has passed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from server.core.service import Core
from server.grpc.call import Call, DeadlineExceeded, Runner
from tests.server.writer import writer_held

pytestmark = pytest.mark.anyio


@pytest.fixture
def runner() -> Iterator[Runner]:
    runner = Runner(2)
    yield runner
    runner.close()


def _thread_name() -> str:
    return threading.current_thread().name


async def test_point_calls_run_on_the_loop_with_an_idle_embedded_store(
    core: Core, runner: Runner
) -> None:
    call = Call(caller=None, runner=runner)
    loop_thread = threading.current_thread().name
    assert await call.run_point(core, False, _thread_name) == loop_thread
    assert await call.run_point(core, True, _thread_name) == loop_thread


async def test_a_write_goes_to_the_pool_while_the_writer_is_held(
    core: Core, runner: Runner
) -> None:
    call = Call(caller=None, runner=runner)
    with writer_held(core.store):
        assert (await call.run_point(core, True, _thread_name)).startswith("ndtwin-core")
        # A read does not wait for the writer.
        assert await call.run_point(core, False, _thread_name) == threading.current_thread().name


async def test_nothing_starts_after_the_deadline(core: Core, runner: Runner) -> None:
    ran = []
    call = Call(caller=None, runner=runner, deadline=time.monotonic() - 0.001)
    with pytest.raises(DeadlineExceeded):
        await call.run_point(core, True, lambda: ran.append(1))
    assert ran == []
