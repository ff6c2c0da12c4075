"""What a servicer method gets besides its request: the caller, the deadline, a runner.

Both faces build a `Call` (gRPC from metadata and the RPC deadline, ``/v1`` REST from
headers) and hand it to the same servicer method, so the two cannot drift apart. The core
is synchronous: `Call.run` moves each core operation to a worker thread of a dedicated
pool, so neither face's event loop ever blocks on a store. `Call.run_point` is for one
twin or relationship: it runs on the event loop when the core says that is cheap
(`Core.runs_inline`: an embedded store, a fast validator, an idle writer), since the hand-off
to a thread and back then costs more than the call.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from server.core import errors
from server.core.context import Caller
from server.core.service import Core

__all__ = ["Call", "DeadlineExceeded", "OperatorRequired", "Runner"]

_T = TypeVar("_T")


class DeadlineExceeded(errors.NdtError):
    """The client's deadline passed before the operation finished (gRPC deadlines)."""

    code = "gateway:command.timeout"
    status = 504
    grpc_code = "DEADLINE_EXCEEDED"
    default_message = "The request ran past its deadline."
    default_description = "Retry with a longer deadline; a write may or may not have happened."


class OperatorRequired(errors.NdtError):
    """Tenant management needs the operator key, not a tenant's key."""

    code = "gateway:operator.required"
    status = 403
    grpc_code = "PERMISSION_DENIED"
    default_message = "This method needs the operator key (NDTWIN_OPERATOR_KEY)."


class Runner:
    """A bounded thread pool for core calls; shared by every face of one core."""

    def __init__(self, threads: int = 8) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="ndtwin-core")

    async def run(
        self, deadline: float | None, fn: Callable[..., _T], *args: Any, **kwargs: Any
    ) -> _T:
        """Run ``fn`` in the pool; raise `DeadlineExceeded` once ``deadline`` passes.

        A core call already started cannot be stopped: past the deadline the client gets
        DEADLINE_EXCEEDED (the outcome of a write is then unknown, as gRPC specifies), but
        nothing starts once the deadline has passed.
        """
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs) if args or kwargs else fn
        if deadline is None:
            return await loop.run_in_executor(self._pool, call)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, call), remaining)
        except TimeoutError as exc:
            raise DeadlineExceeded() from exc

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class Call:
    """One request: who calls (None for the operator), until when, and the runner."""

    caller: Caller | None
    runner: Runner
    deadline: float | None = None
    operator: bool = False

    @property
    def tenant_caller(self) -> Caller:
        """The calling tenant; the operator key alone reaches no tenant's data."""
        if self.caller is None:
            raise errors.AuthenticationFailed("This method needs a tenant's API key.")
        return self.caller

    def require_operator(self) -> None:
        if not self.operator:
            raise OperatorRequired()

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    async def run(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run a synchronous core operation under this call's deadline."""
        return await self.runner.run(self.deadline, fn, *args, **kwargs)

    async def run_point(
        self, core: Core, write: bool, fn: Callable[..., _T], *args: Any, **kwargs: Any
    ) -> _T:
        """Run a one-entity read or write: inline when ``core`` finds it cheap, else `run`."""
        if not core.runs_inline(write):
            return await self.run(fn, *args, **kwargs)
        if self.deadline is not None and self.deadline <= time.monotonic():
            raise DeadlineExceeded()
        return fn(*args, **kwargs)
