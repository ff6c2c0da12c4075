"""A per-tenant change feed for WatchTwins: one waiting thread per tenant, not per watcher.

A pump per watched tenant waits for new events in the core's log (``Core.events`` with a
timeout, on a small pool of its own so waiting never starves request handlers) and copies
each batch into every watcher's bounded queue. A watcher registers with the pump first and
then reads its backlog from the log, so nothing committed in between is missed; from the
queue it skips what it has already seen (by ``seq``), so nothing is sent twice.

Overflow policy: when a watcher's queue is full the pump empties it and marks the watcher
lagging; the watcher then reads the log again from its last position before returning to
the queue. A slow watcher therefore never slows the pump or other watchers, and loses
nothing the log still retains.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from server.core.context import Caller
from server.core.service import Core
from server.core.stores.records import ChangeEvent

__all__ = ["ChangeFeed", "Watcher"]

log = logging.getLogger(__name__)

_BATCH = 500


class Watcher:
    """One watcher's events in ``seq`` order; iterate it, then `close` it."""

    def __init__(self, feed: ChangeFeed, caller: Caller, after_seq: int, queue_size: int) -> None:
        self._feed = feed
        self.caller = caller
        self.last_seq = after_seq
        self.queue: asyncio.Queue[list[ChangeEvent]] = asyncio.Queue(queue_size)
        self.lagging = True  # the backlog comes from the log first
        self.closed = False

    def __aiter__(self) -> AsyncIterator[ChangeEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[ChangeEvent]:
        while not self.closed:
            if self.lagging:
                self.lagging = False
                while True:
                    batch = await self._feed.read(self.caller, self.last_seq)
                    for event in batch:
                        if event.seq > self.last_seq:
                            self.last_seq = event.seq
                            yield event
                    if len(batch) < _BATCH:
                        break
                continue
            batch = await self.queue.get()
            for event in batch:
                if self.lagging:
                    break  # the queue was emptied under us: the log has the rest
                if event.seq > self.last_seq:
                    self.last_seq = event.seq
                    yield event

    def offer(self, batch: list[ChangeEvent]) -> None:
        """Called by the pump: queue a batch, or fall back to the log when full."""
        try:
            self.queue.put_nowait(batch)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.lagging = True
            self.queue.put_nowait([])  # wake the watcher up

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._feed._unsubscribe(self)
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait([])


@dataclass
class _Pump:
    caller: Caller
    position: int
    watchers: set[Watcher] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class ChangeFeed:
    """Per-tenant pumps from the core's event log to watchers."""

    def __init__(
        self, core: Core, wait_s: float = 1.0, threads: int = 16, queue_size: int = 1000
    ) -> None:
        self._core = core
        self._wait_s = wait_s
        self._queue_size = queue_size
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="ndtwin-watch")
        self._pumps: dict[str, _Pump] = {}

    async def _in_pool(self, fn: object, *args: object) -> list[ChangeEvent] | int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, *args)  # type: ignore[arg-type]

    async def read(self, caller: Caller, after_seq: int) -> list[ChangeEvent]:
        """Up to one batch of logged events after ``after_seq`` (no waiting)."""
        events = await self._in_pool(self._core.events, caller, after_seq, 0.0, _BATCH)
        assert isinstance(events, list)
        return events

    async def subscribe(self, caller: Caller, after_seq: int | None = None) -> Watcher:
        """A watcher of events after ``after_seq`` (None: only events from now on)."""
        tenant_caller = Caller(caller.tenant)
        if after_seq is None:
            last = await self._in_pool(self._core.last_seq, tenant_caller)
            assert isinstance(last, int)
            after_seq = last
        pump = self._pumps.get(caller.tenant)
        if pump is None:
            position = await self._in_pool(self._core.last_seq, tenant_caller)
            assert isinstance(position, int)
            pump = self._pumps.get(caller.tenant)
            if pump is None:
                pump = _Pump(tenant_caller, position)
                self._pumps[caller.tenant] = pump
                pump.task = asyncio.get_running_loop().create_task(
                    self._run(pump), name=f"watch:{caller.tenant}"
                )
        watcher = Watcher(self, tenant_caller, after_seq, self._queue_size)
        pump.watchers.add(watcher)
        return watcher

    def _unsubscribe(self, watcher: Watcher) -> None:
        pump = self._pumps.get(watcher.caller.tenant)
        if pump is None:
            return
        pump.watchers.discard(watcher)
        if not pump.watchers:
            self._pumps.pop(watcher.caller.tenant, None)
            if pump.task is not None:
                pump.task.cancel()

    async def _run(self, pump: _Pump) -> None:
        while True:
            try:
                batch = await self._in_pool(
                    self._core.events, pump.caller, pump.position, self._wait_s, _BATCH
                )
            except asyncio.CancelledError:
                raise
            except Exception:  # a store hiccup must not end every watch of the tenant
                log.exception("change feed of tenant %s failed; retrying", pump.caller.tenant)
                await asyncio.sleep(self._wait_s)
                continue
            assert isinstance(batch, list)
            if not batch:
                continue
            pump.position = batch[-1].seq
            for watcher in list(pump.watchers):
                watcher.offer(batch)

    async def close(self) -> None:
        """End every watch and stop the pumps."""
        for pump in list(self._pumps.values()):
            for watcher in list(pump.watchers):
                watcher.close()
            if pump.task is not None:
                pump.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump.task
        self._pumps.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
