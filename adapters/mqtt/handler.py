"""The signal handler: routes messages to one independent processor per signal type.

A processor is started when its signal type first arrives; each has its own bounded
queue, workers and metrics (issue 6, "Signal handler"). A worker checks the envelope,
lets the processor map the payload, drops duplicates (same device, signal and time, or
the same source twice in one record) and records later than the reorder window, then
publishes the curated record and hands it to the twin controller. Anything refused goes
to the dead-letter topic with its reasons; nothing on the input can stop a worker.
The handler needs no broker: in library mode a device-side program calls
:meth:`SignalHandler.curate` directly.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from adapters.mqtt.config import MqttConfig
from adapters.mqtt.controller import DeviceUpdate, TwinController
from adapters.mqtt.levels import Grader
from adapters.mqtt.processors import REGISTRY, Processor
from adapters.mqtt.processors.base import device_fields, extract
from adapters.mqtt.records import Curated, Issue, Rejected, parse_envelope
from adapters.mqtt.schema import SCHEMA_VERSION
from adapters.mqtt.topics import SignalType, TopicError, TopicScheme, TopicTarget
from server.core.catalog import ModelCatalog

__all__ = ["Outcome", "ProcessorMetrics", "ProcessorRuntime", "SignalHandler"]

log = logging.getLogger(__name__)

#: Publish function: (topic, payload, qos, retain).
Publish = Callable[[str, bytes, int, bool], None]
#: Called once a message is finished (committed, dead-lettered or dropped): acks it.
Finish = Callable[[], None]

_DLQ_PAYLOAD_LIMIT = 64 * 1024
_RECENT_PER_DEVICE = 64


@dataclass(slots=True)
class ProcessorMetrics:
    """Counters and latencies of one processor (diagnostics)."""

    received: int = 0
    curated: int = 0
    committed: int = 0
    rejected: int = 0
    refused: int = 0
    duplicates: int = 0
    late: int = 0
    nulled: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=4096))

    def snapshot(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(q: float) -> float | None:
            return (
                round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)
                if ordered
                else None
            )

        return {
            "received": self.received,
            "curated": self.curated,
            "committed": self.committed,
            "rejected": self.rejected,
            "refused": self.refused,
            "duplicates": self.duplicates,
            "late": self.late,
            "nulledValues": self.nulled,
            "latencyMsP50": pct(0.5),
            "latencyMsP99": pct(0.99),
        }


@dataclass(slots=True)
class Outcome:
    """What became of one message (for library mode and tests)."""

    curated: Curated | None = None
    reasons: list[str] = field(default_factory=list)
    duplicate: bool = False
    late: bool = False


class ProcessorRuntime:
    """One processor's bounded queue, workers and metrics."""

    def __init__(
        self, processor: Processor, handler: SignalHandler, queue_size: int, workers: int
    ) -> None:
        self.processor = processor
        self.handler = handler
        self.metrics = ProcessorMetrics()
        self.queue: asyncio.Queue[tuple[TopicTarget, bytes, str, float, Finish]] = asyncio.Queue(
            maxsize=queue_size
        )
        self._tasks = [
            asyncio.create_task(self._work(), name=f"mqtt-{processor.signal}-{i}")
            for i in range(workers)
        ]

    async def _work(self) -> None:
        while True:
            target, payload, topic, received, finish = await self.queue.get()
            try:
                await self.handler._process(self, target, payload, topic, received, finish)
            except Exception:  # the adapter never crashes on input
                log.exception("mqtt: processing %s failed", topic)
                self.metrics.rejected += 1
                self.handler.dead_letter(topic, payload, ["internal error while processing"])
                finish()
            finally:
                self.queue.task_done()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class SignalHandler:
    """Routes telemetry, status and meta messages; owns the processors."""

    def __init__(
        self,
        catalog: ModelCatalog,
        config: MqttConfig,
        controller: TwinController | None,
        publish: Publish | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.config = config
        self.topics: TopicScheme = config.topics
        self.controller = controller
        self.publish = publish
        self.clock = clock
        self.grader = Grader.with_overrides(config.levels, config.quality)
        self.processors: dict[SignalType, ProcessorRuntime] = {}
        self._mappers: dict[SignalType, Processor] = {}
        self._device_table = device_fields(catalog)
        #: (tenant, device, signal) -> newest time stamp taken.
        self._newest: dict[tuple[str, str, str], float] = {}
        #: (tenant, device, signal) -> recent time stamps (duplicate detection).
        self._recent: OrderedDict[tuple[str, str, str], deque[float]] = OrderedDict()
        #: Parsed topics: a device publishes on the same few topics all the time.
        self._targets: dict[str, TopicTarget] = {}
        self.dead_letters = 0
        self.ignored = 0

    # -- library mode ------------------------------------------------------------------
    def mapper(self, signal: SignalType) -> Processor:
        if signal not in self._mappers:
            self._mappers[signal] = REGISTRY[signal](self.catalog, self.grader)
        return self._mappers[signal]

    def curate(self, topic: str, payload: bytes) -> Outcome:
        """Check and map one telemetry message without committing it (library mode)."""
        try:
            target = self.topics.parse(topic)
        except TopicError as exc:
            return Outcome(reasons=[str(exc)])
        if target.signal is None:
            return Outcome(reasons=["not a telemetry topic"])
        return self._curate(target, payload)

    def _curate(self, target: TopicTarget, payload: bytes) -> Outcome:
        assert target.signal is not None
        try:
            envelope = parse_envelope(target, payload, self.clock(), self.config.max_clock_skew_s)
            curated = self.mapper(target.signal).process(envelope)
        except Rejected as exc:
            return Outcome(reasons=exc.reasons)
        key = (target.tenant, target.device, str(target.signal))
        newest = self._newest.get(key)
        if newest is not None and envelope.ts < newest - self.config.reorder_window_s:
            return Outcome(
                curated,
                [
                    f"late: {newest - envelope.ts:.3f} s older than the "
                    f"newest record, beyond the reorder window of "
                    f"{self.config.reorder_window_s:g} s"
                ],
                late=True,
            )
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = deque(maxlen=_RECENT_PER_DEVICE)
            if len(self._recent) > 100_000:
                self._recent.popitem(last=False)
        if envelope.ts in recent:
            return Outcome(curated, duplicate=True)
        recent.append(envelope.ts)
        self._newest[key] = max(newest or envelope.ts, envelope.ts)
        seen: set[str] = set()
        unique = []
        for index, reading in enumerate(curated.readings):
            if reading.source_id in seen:
                curated.issues.append(
                    Issue(
                        f"/{self.mapper(target.signal).member}",
                        reading.source_id,
                        f"source listed twice (reading {index}); later one dropped",
                    )
                )
                continue
            seen.add(reading.source_id)
            unique.append(reading)
        curated.readings = unique
        return Outcome(curated)

    # -- broker mode -------------------------------------------------------------------
    async def handle(self, topic: str, payload: bytes, received: float, finish: Finish) -> None:
        """Route one message; ``finish`` is called exactly once when it is done with."""
        target = self._targets.get(topic)
        if target is None:
            try:
                target = self.topics.parse(topic)
            except TopicError as exc:
                self.dead_letter(topic, payload, [str(exc)])
                finish()
                return
            if len(self._targets) >= 100_000:
                self._targets.clear()
            self._targets[topic] = target
        if target.kind == "tele":
            assert target.signal is not None
            runtime = self.processors.get(target.signal)
            if runtime is None:
                runtime = self.processors[target.signal] = ProcessorRuntime(
                    self.mapper(target.signal), self, self.config.queue_size, self.config.workers
                )
                log.info("mqtt: started the %s processor", target.signal)
            runtime.metrics.received += 1
            await runtime.queue.put((target, payload, topic, received, finish))
        elif target.kind == "status":
            await self._status(target, topic, payload, finish)
        else:
            await self._meta(target, topic, payload, finish)

    async def _process(
        self,
        runtime: ProcessorRuntime,
        target: TopicTarget,
        payload: bytes,
        topic: str,
        received: float,
        finish: Finish,
    ) -> None:
        metrics = runtime.metrics
        outcome = self._curate(target, payload)
        if outcome.duplicate:
            metrics.duplicates += 1
            finish()
            return
        if outcome.reasons:
            if outcome.late:
                metrics.late += 1
            metrics.rejected += 1
            self.dead_letter(topic, payload, outcome.reasons)
            finish()
            return
        curated = outcome.curated
        assert curated is not None
        metrics.curated += 1
        metrics.nulled += len(curated.issues)
        if self.publish is not None and self.config.publish_curated:
            self.publish(
                self.topics.curated(target.tenant, target.device, str(target.signal)),
                orjson.dumps(curated.to_json()),
                self.config.curated_qos,
                False,
            )
        if self.controller is None:
            finish()
            return

        def committed(error: str | None) -> None:
            if error is None:
                metrics.committed += 1
                metrics.latencies.append(self.clock() - received)
            else:
                metrics.refused += 1
                self.dead_letter(topic, payload, [error])
            finish()

        await self.controller.submit(curated, committed)

    async def _status(
        self, target: TopicTarget, topic: str, payload: bytes, finish: Finish
    ) -> None:
        if not payload:  # a cleared retained status
            self.ignored += 1
            finish()
            return
        try:
            body = orjson.loads(payload)
            state = body["state"] if isinstance(body, dict) else body
        except (orjson.JSONDecodeError, KeyError, TypeError):
            state = payload.decode("utf-8", "replace").strip()
            body = {}
        if state not in ("online", "offline"):
            self.dead_letter(
                topic, payload, ['status must be {"state": "online"} or {"state": "offline"}']
            )
            finish()
            return
        ts = body.get("ts") if isinstance(body, dict) else None
        when = ts / 1000.0 if isinstance(ts, int | float) and ts > 0 else self.clock()
        await self._update(
            DeviceUpdate(target.tenant, target.device, {"online": state == "online"}, when),
            topic,
            payload,
            finish,
        )

    async def _meta(self, target: TopicTarget, topic: str, payload: bytes, finish: Finish) -> None:
        if not payload:
            self.ignored += 1
            finish()
            return
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            self.dead_letter(topic, payload, [f"malformed JSON: {exc}"])
            finish()
            return
        if not isinstance(body, dict):
            self.dead_letter(topic, payload, ["meta must be a JSON object"])
            finish()
            return
        issues: list[Issue] = []
        values = extract(body, self._device_table, "", issues)
        attributes = {k: v for k, v in values.items() if v is not None}
        if not attributes:
            self.dead_letter(
                topic,
                payload,
                [f"{i.path}: {i.reason}" for i in issues] or ["meta holds no device property"],
            )
            finish()
            return
        await self._update(
            DeviceUpdate(target.tenant, target.device, attributes, self.clock()),
            topic,
            payload,
            finish,
        )

    async def _update(
        self, update: DeviceUpdate, topic: str, payload: bytes, finish: Finish
    ) -> None:
        if self.controller is None:
            finish()
            return

        def committed(error: str | None) -> None:
            if error is not None:
                self.dead_letter(topic, payload, [error])
            finish()

        await self.controller.submit(update, committed)

    # -- dead letters ------------------------------------------------------------------
    def dead_letter(self, topic: str, payload: bytes, reasons: list[str]) -> None:
        """Publish a reject with its reasons on ``{prefix}/{tenant}/{device}/dlq/{kind}``."""
        self.dead_letters += 1
        tenant, device = self.topics.raw_levels(topic)
        kind = topic.rsplit("/", 1)[-1] if topic.count("/") else "unknown"
        if not kind or "+" in kind or "#" in kind:
            kind = "unknown"
        log.debug("mqtt: dead letter for %s: %s", topic, "; ".join(reasons))
        if self.publish is None:
            return
        body: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "topic": topic,
            "reasons": reasons,
            "receivedAt": round(self.clock() * 1000),
        }
        raw = payload[:_DLQ_PAYLOAD_LIMIT]
        try:
            body["payload"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            body["payloadBase64"] = base64.b64encode(raw).decode("ascii")
        if len(payload) > _DLQ_PAYLOAD_LIMIT:
            body["truncated"] = True
        self.publish(
            self.topics.dead_letter(tenant, device, kind),
            orjson.dumps(body),
            self.config.qos,
            False,
        )

    # -- lifecycle ---------------------------------------------------------------------
    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every processor queue is empty (or ``timeout``)."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(r.queue.join() for r in self.processors.values())), timeout
            )

    async def stop(self) -> None:
        for runtime in self.processors.values():
            await runtime.stop()
