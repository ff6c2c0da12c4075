"""Idempotent retries by ``request_id`` (AIP-155) for batch upserts.

The first request with a given ``(tenant, request_id)`` runs; a retry with the same id and
the same request gets the first answer without writing again, also while the first is
still running (it waits for it). The same id with a different request is
INVALID_ARGUMENT. Only successful answers are kept: a failed request may be retried.

The cache lives in memory and is bounded: the newest `RequestCache.size` answers are kept
for at most `RequestCache.ttl` seconds, per server process. A retry after a restart or
after eviction runs again, which the batch's own semantics make harmless (merge patches
that change nothing write nothing).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.protobuf.message import Message

from server.core import errors

__all__ = ["RequestCache", "RequestIdInvalid", "RequestIdReused"]

_M = TypeVar("_M", bound=Message)


class RequestIdInvalid(errors.BadRequest):
    """A ``request_id`` is not a UUID (AIP-155)."""

    code = "request.id.invalid"
    default_message = "The request_id must be a UUID."


class RequestIdReused(errors.BadRequest):
    """A ``request_id`` was already used for a different request."""

    code = "request.id.reused"
    default_message = "The request_id was already used for a different request."
    default_description = "Use a fresh UUID for every distinct request."


class RequestCache:
    """Answers by ``(tenant, request_id)``, with the fingerprint of their request."""

    def __init__(self, size: int = 10_000, ttl: float = 3600.0) -> None:
        self.size = size
        self.ttl = ttl
        self._done: OrderedDict[tuple[str, str], tuple[bytes, Message, float]] = OrderedDict()
        self._running: dict[tuple[str, str], tuple[bytes, asyncio.Future[Message]]] = {}

    @staticmethod
    def check_id(request_id: str) -> str:
        try:
            return str(uuid.UUID(request_id))
        except ValueError as exc:
            raise RequestIdInvalid(f"The request_id '{request_id}' is not a UUID.") from exc

    async def run(
        self, tenant: str, request_id: str, request: Message, produce: Callable[[], Awaitable[_M]]
    ) -> _M:
        """The answer to ``request``: cached, awaited from a running twin, or produced."""
        if not request_id:
            return await produce()
        key = (tenant, self.check_id(request_id))
        fingerprint = hashlib.sha256(request.SerializeToString(deterministic=True)).digest()
        now = time.monotonic()
        hit = self._done.get(key)
        if hit is not None and hit[2] < now:
            self._done.pop(key, None)
            hit = None
        if hit is not None:
            if hit[0] != fingerprint:
                raise RequestIdReused()
            self._done.move_to_end(key)
            return hit[1]
        running = self._running.get(key)
        if running is not None:
            if running[0] != fingerprint:
                raise RequestIdReused()
            return await asyncio.shield(running[1])
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._running[key] = (fingerprint, future)
        try:
            answer = await produce()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            self._running.pop(key, None)
        future.set_result(answer)
        self._done[key] = (fingerprint, answer, now + self.ttl)
        while len(self._done) > self.size:
            self._done.popitem(last=False)
        return answer
