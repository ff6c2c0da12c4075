"""Fan-out of the core's change stream to many async subscribers (SSE, WebSocket, ...).

The core's event log is per tenant with a gap-free ``seq``. One pump per tenant with
subscribers waits for new events in a worker thread (``Core.events`` with a timeout) and
copies them into each subscriber's bounded queue, so a thousand SSE clients cost one
waiting thread, not a thousand. A subscriber that resumes (``Last-Event-ID``) first reads
its backlog from the log, then the live queue, skipping what it has seen (by ``seq``).

Overflow policy: a subscriber whose queue is full is closed, not slowed down, so one slow
client never holds up the others; it reconnects with its last ``seq`` and loses nothing
that the log still retains.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field

import anyio
from anyio import CapacityLimiter

from server.core.context import Caller
from server.core.service import Core
from server.core.stores.records import ChangeEvent

__all__ = ["EventHub", "Subscription"]

log = logging.getLogger(__name__)

_BATCH = 500
_QUEUE = 10_000


class Subscription:
    """One subscriber's view of the stream: events in ``seq`` order via `get`."""

    def __init__(self, hub: EventHub, caller: Caller, after_seq: int) -> None:
        self._hub = hub
        self._caller = caller
        self.last_seq = after_seq
        self.queue: asyncio.Queue[ChangeEvent | None] = asyncio.Queue(_QUEUE)
        self.closed = False
        self.overflowed = False
        self._backlog_done = False
        self._pending: deque[ChangeEvent] = deque()

    async def get(self, timeout: float | None = None) -> ChangeEvent | None:
        """The next event, or None after ``timeout`` idle seconds or once `closed`."""
        if not self._backlog_done and not self._pending:
            batch = await self._hub.read(self._caller, self.last_seq)
            if len(batch) < _BATCH:
                self._backlog_done = True
            self._pending.extend(batch)
        while self._pending:
            event = self._pending.popleft()
            if event.seq > self.last_seq:
                self.last_seq = event.seq
                return event
        if not self._backlog_done:
            return await self.get(timeout)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self.closed:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                item = await asyncio.wait_for(self.queue.get(), left)
            except TimeoutError:
                return None
            if item is None:
                self.closed = True
                return None
            if item.seq > self.last_seq:
                self.last_seq = item.seq
                return item
        return None

    def close(self) -> None:
        """Leave the hub; further `get` calls return None."""
        self.closed = True
        self._hub.unsubscribe(self)

    @property
    def tenant(self) -> str:
        """The subscriber's tenant."""
        return self._caller.tenant


@dataclass
class _Pump:
    caller: Caller
    position: int
    subscribers: set[Subscription] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class EventHub:
    """Per-tenant pumps from the core's event log to subscribers' queues."""

    def __init__(self, core: Core, wait_s: float = 1.0, threads: int = 16) -> None:
        self._core = core
        self._wait_s = wait_s
        self._pumps: dict[str, _Pump] = {}
        # Waiting pumps must not starve request handlers of the default thread pool.
        self._limiter = CapacityLimiter(threads)
        self._closed = False

    async def last_seq(self, caller: Caller) -> int:
        """The ``seq`` of the caller's latest event."""
        return await anyio.to_thread.run_sync(self._core.last_seq, caller)

    async def read(self, caller: Caller, after_seq: int) -> list[ChangeEvent]:
        """One batch of the log after ``after_seq`` (no waiting)."""
        return await anyio.to_thread.run_sync(
            lambda: self._core.events(caller, after_seq, 0.0, _BATCH)
        )

    async def subscribe(self, caller: Caller, after_seq: int | None = None) -> Subscription:
        """Subscribe from ``after_seq`` (None: from now on); close it when done."""
        if after_seq is None:
            after_seq = await self.last_seq(caller)
        sub = Subscription(self, Caller(caller.tenant), after_seq)
        pump = self._pumps.get(caller.tenant)
        if pump is None:
            pump = _Pump(Caller(caller.tenant), after_seq)
            self._pumps[caller.tenant] = pump
            pump.task = asyncio.create_task(self._run(pump), name=f"events:{caller.tenant}")
        if after_seq >= pump.position:
            sub._backlog_done = True  # the pump delivers everything after after_seq
        pump.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Remove a subscriber; the tenant's pump stops with its last subscriber."""
        pump = self._pumps.get(sub.tenant)
        if pump is None:
            return
        pump.subscribers.discard(sub)
        if not pump.subscribers and pump.task is not None:
            pump.task.cancel()
            self._pumps.pop(sub.tenant, None)

    async def _run(self, pump: _Pump) -> None:
        while not self._closed:
            try:
                batch = await anyio.to_thread.run_sync(
                    lambda: self._core.events(pump.caller, pump.position, self._wait_s, _BATCH),
                    limiter=self._limiter,
                    abandon_on_cancel=True,
                )
            except asyncio.CancelledError:
                raise
            except Exception:  # a store hiccup must not kill the stream for good
                log.exception("event pump of tenant %s failed; retrying", pump.caller.tenant)
                await asyncio.sleep(self._wait_s)
                continue
            for event in batch:
                pump.position = event.seq
                for sub in list(pump.subscribers):
                    try:
                        sub.queue.put_nowait(event)
                    except asyncio.QueueFull:
                        sub.overflowed = True
                        pump.subscribers.discard(sub)
                        with contextlib.suppress(asyncio.QueueFull):
                            sub.queue.get_nowait()
                            sub.queue.put_nowait(None)

    async def close(self) -> None:
        """Stop every pump and end every subscription."""
        self._closed = True
        for pump in list(self._pumps.values()):
            for sub in pump.subscribers:
                with contextlib.suppress(asyncio.QueueFull):
                    sub.queue.put_nowait(None)
            if pump.task is not None:
                pump.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump.task
        self._pumps.clear()
