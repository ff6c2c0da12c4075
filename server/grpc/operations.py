"""An in-process registry of long-running operations (AIP-151, ``google.longrunning``).

A job is a synchronous function ``job(progress) -> message`` run on the core's worker
pool; it reports progress with `Progress.report` and checks `Progress.check` between
steps, which raises `OperationCancelled` once a client asked to cancel (cancellation is
cooperative and best effort, as AIP-151 allows). Operations belong to the tenant that
started them: another tenant's operation reads as absent.

The registry lives in memory: operations do not survive a restart, and only the newest
`OperationRegistry.keep` finished operations are kept (running ones are never dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from google.longrunning import operations_proto_pb2 as lro
from google.protobuf import any_pb2
from google.protobuf.message import Message

from server.core import errors
from server.core.stores.records import utc_now
from server.grpc.call import Runner
from server.grpc.gen.ndtwin.v1 import graph_pb2
from server.grpc.serde import time_to_proto
from server.grpc.status import status_of

__all__ = [
    "OperationCancelled",
    "OperationNotFound",
    "OperationRegistry",
    "Progress",
]


class OperationNotFound(errors.NotFound):
    """No such operation, or it belongs to another tenant."""

    code = "operations:operation.notfound"

    def __init__(self, name: str) -> None:
        self.value = name
        super().__init__(
            f"The operation '{name}' could not be found or requester had "
            "insufficient permissions to access it."
        )


class OperationCancelled(errors.NdtError):
    """The operation stopped because a client cancelled it (AIP-151)."""

    code = "operations:operation.cancelled"
    status = 499
    grpc_code = "CANCELLED"
    default_message = "The operation was cancelled."


@dataclass
class _Operation:
    name: str
    tenant: str
    verb: str
    target: str
    created: datetime
    ended: datetime | None = None
    percent: float = 0.0
    message: str = "queued"
    response: Message | None = None
    error: BaseException | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def done(self) -> bool:
        return self.ended is not None


class Progress:
    """What a running job sees of its operation."""

    def __init__(self, op: _Operation, lock: threading.Lock) -> None:
        self._op = op
        self._lock = lock

    def report(self, percent: float, message: str = "") -> None:
        """Record progress (0..100) and what the job is doing."""
        with self._lock:
            self._op.percent = min(max(float(percent), 0.0), 100.0)
            if message:
                self._op.message = message

    @property
    def cancelled(self) -> bool:
        return self._op.cancel.is_set()

    def check(self) -> None:
        """Raise `OperationCancelled` when a client asked to cancel."""
        if self._op.cancel.is_set():
            raise OperationCancelled()


class OperationRegistry:
    """Operations by name, per tenant, with polling, waiting, cancelling and deleting."""

    def __init__(self, runner: Runner, keep: int = 1000) -> None:
        self._runner = runner
        self.keep = keep
        self._ops: dict[str, _Operation] = {}
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- starting ---------------------------------------------------------------------
    def start(
        self, tenant: str, verb: str, target: str, job: Callable[[Progress], Message]
    ) -> lro.Operation:
        """Start ``job`` now (on the running event loop); returns the new operation."""
        op = _Operation(f"operations/{uuid.uuid4()}", tenant, verb, target, utc_now())
        with self._lock:
            self._ops[op.name] = op
            self._trim()
        task = asyncio.get_running_loop().create_task(self._run(op, job), name=op.name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return self._proto(op)

    async def _run(self, op: _Operation, job: Callable[[Progress], Message]) -> None:
        progress = Progress(op, self._lock)
        try:
            progress.check()
            progress.report(0.0, "running")
            response = await self._runner.run(None, job, progress)
            with self._lock:
                op.response, op.percent, op.message = response, 100.0, "done"
        except asyncio.CancelledError:
            with self._lock:
                op.error, op.message = OperationCancelled("The server stopped."), "stopped"
            raise
        except BaseException as exc:  # every failure ends the operation with its status
            with self._lock:
                op.error = exc
                op.message = "cancelled" if isinstance(exc, OperationCancelled) else "failed"
        finally:
            with self._lock:
                op.ended = utc_now()
            op.finished.set()

    def _trim(self) -> None:
        finished = [o for o in self._ops.values() if o.done]
        for old in sorted(finished, key=lambda o: o.created)[: max(0, len(finished) - self.keep)]:
            self._ops.pop(old.name, None)

    # -- reading ----------------------------------------------------------------------
    def _find(self, tenant: str, name: str) -> _Operation:
        op = self._ops.get(name)
        if op is None or op.tenant != tenant:
            raise OperationNotFound(name)
        return op

    def _proto(self, op: _Operation) -> lro.Operation:
        with self._lock:
            meta = graph_pb2.OperationMetadata(
                target=op.target,
                verb=op.verb,
                progress_percent=op.percent,
                status_message=op.message,
                cancel_requested=op.cancel.is_set(),
            )
            time_to_proto(op.created, meta.create_time)
            if op.ended is not None:
                time_to_proto(op.ended, meta.end_time)
            out = lro.Operation(name=op.name, done=op.done)
            packed = any_pb2.Any()
            packed.Pack(meta)
            out.metadata.CopyFrom(packed)
            if op.done and op.error is not None:
                out.error.CopyFrom(status_of(op.error))
            elif op.done and op.response is not None:
                out.response.Pack(op.response)
            return out

    def get(self, tenant: str, name: str) -> lro.Operation:
        return self._proto(self._find(tenant, name))

    def list(
        self,
        tenant: str,
        page_size: int = 0,
        page_token: str = "",
    ) -> lro.ListOperationsResponse:
        """The tenant's operations, newest first; the page token is an offset."""
        size = 100 if page_size <= 0 else min(page_size, 1000)
        try:
            offset = int(page_token or "0")
        except ValueError as exc:
            raise errors.JsonFormatInvalid("The page_token is not one this server gave.") from exc
        with self._lock:
            mine = sorted(
                (o for o in self._ops.values() if o.tenant == tenant),
                key=lambda o: o.created,
                reverse=True,
            )
        page = mine[offset : offset + size]
        out = lro.ListOperationsResponse(operations=[self._proto(o) for o in page])
        if offset + size < len(mine):
            out.next_page_token = str(offset + size)
        return out

    def cancel(self, tenant: str, name: str) -> None:
        """Ask the job to stop; a finished operation is left as it is."""
        op = self._find(tenant, name)
        if not op.done:
            op.cancel.set()

    def delete(self, tenant: str, name: str) -> None:
        """Forget the operation (AIP-151: the client is no longer interested); a running
        job is cancelled as well."""
        op = self._find(tenant, name)
        op.cancel.set()
        with self._lock:
            self._ops.pop(name, None)

    async def wait(self, tenant: str, name: str, timeout: float | None) -> lro.Operation:
        """The operation once done, or as it is after ``timeout`` seconds."""
        op = self._find(tenant, name)
        if not op.done:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(op.finished.wait(), timeout)
        return self._proto(op)

    async def close(self) -> None:
        """Cancel every running job's task (server shutdown)."""
        for op in list(self._ops.values()):
            op.cancel.set()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
