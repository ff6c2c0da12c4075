"""The twin-instance controller: keeps the twin graph in step with curated records.

It plays Home Assistant's coordinator (style notes §2.7): it alone talks to the core,
through ``core.batch.upsert`` (atomic, validated, a no-op when nothing changed). From
each curated record it derives

- the device twin (EndDevice, created from the model's skeleton when new): ``lastSeen``,
  location, identity, ``online``;
- source twins: a cell by its global id, an AP by BSSID, a beacon by address, a sensor
  by id, created when first heard; their ``lastSeen`` refreshed at most every
  ``source_touch_s`` because many devices share them;
- one ``observes`` relationship per device and source (the Observation model) with the
  latest metrics, level and quality, first/last seen and the sample count. The core
  writes a history point for every property that changed.

Records are coalesced: what arrives within ``batch_wait_ms`` (or while the previous batch
commits), up to ``batch_max`` records, goes to the core as ONE batch upsert per tenant.
Twins are reduced: consecutive records touching a twin fold into one revision, unless a
record sets a value the fold already set differently (then the twin gets another
revision, so its history keeps every value); ``lastSeen`` alone never splits a fold. A
sensor's readings never fold: each record is a sample of its own in the history.
Every observation keeps its own relationship revision, so each record leaves its
history points (``lastSeen``, metrics). Each change is a function of the current state
that the core evaluates while planning the batch against fresh state and again when
another adapter process wrote first: counters (``sampleCount``) and ``firstSeen``/
``lastSeen`` stay exact under concurrency, and the controller keeps no state cache.
A batch the core refuses is retried record by record, so one bad record cannot hold
back the others; the refused one is reported to its callback (and from there to the
dead-letter topic). Relationships not heard for ``relationship_ttl_s`` are deleted by a
sweeper, and sources left without observers are deleted after ``orphan_grace_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from adapters.mqtt.config import MqttConfig
from adapters.mqtt.records import Curated, Reading
from server.core import errors
from server.core.batch import RelationshipUpsert, TwinUpsert
from server.core.context import Caller
from server.core.ids import RelationshipId, TenantId, ThingId
from server.core.service import Core
from server.core.stores.records import RelationshipRecord, TwinRecord

__all__ = ["ControllerStats", "DeviceUpdate", "TwinController", "device_thing", "relationship_id"]

log = logging.getLogger(__name__)

#: Callback of one submitted item: None once committed, else why the core refused it.
Done = Callable[[str | None], None]

_SOURCE_NAMESPACES = ("cell", "wifi", "ble")


def device_thing(device: str) -> str:
    """Thing id of a reporting device."""
    return f"device:{device}"


def relationship_id(device_tid: str, source_tid: str) -> str:
    """Id of the ``observes`` relationship from a device to a source."""
    return f"{device_tid}~{source_tid}"


@dataclass(slots=True)
class DeviceUpdate:
    """A change of a device twin that is not telemetry: status (online) or meta."""

    tenant: str
    device_id: str
    attributes: dict[str, Any]
    ts: float


@dataclass(slots=True)
class ControllerStats:
    """Counters of the controller (diagnostics)."""

    committed_items: int = 0
    transactions: int = 0
    refused_items: int = 0
    retries: int = 0
    relationships_expired: int = 0
    sources_removed: int = 0
    commit_seconds: float = 0.0


@dataclass(slots=True)
class _Item:
    work: Curated | DeviceUpdate
    done: Done


@dataclass(slots=True)
class _Touch:
    """One record's contribution to a twin: attributes as of ``ts``."""

    attributes: dict[str, Any]
    ts: float
    #: Move ``lastSeen`` only when it is this much older (0: with every record), unless
    #: the twin is written anyway: ``source_touch_s`` for sources that many devices
    #: share, ``device_touch_s`` for devices, 0 for sensors.
    touch_s: float
    #: Status and meta: applied whatever their time, and they do not move ``lastSeen``.
    force: bool
    #: A sensor's readings: every record is a sample its history must keep, even when it
    #: repeats the previous value, so two of them never share a revision.
    sample: bool = False


@dataclass(slots=True)
class _TwinStep:
    """Consecutive touches of one twin folded into one revision."""

    model: str
    touches: list[_Touch] = field(default_factory=list)
    #: Values this step sets (lastSeen aside): a touch setting one of them to another
    #: value starts a new step, so that the history keeps both values.
    values: dict[str, Any] = field(default_factory=dict)

    def accepts(self, touch: _Touch) -> bool:
        for key, value in touch.attributes.items():
            if key == "lastSeen" or key not in self.values:
                continue
            if touch.sample or self.values[key] != value:
                return False
        return True

    def add(self, touch: _Touch) -> None:
        self.touches.append(touch)
        self.values.update(touch.attributes)


@dataclass(slots=True)
class _Plan:
    """One tenant's share of a batch: reduced twin steps and per-record observations."""

    steps: list[tuple[str, _TwinStep]] = field(default_factory=list)
    last_step: dict[str, _TwinStep] = field(default_factory=dict)
    relationships: list[RelationshipUpsert] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)

    def touch(self, tid: str, model: str, touch: _Touch) -> None:
        step = self.last_step.get(tid)
        if step is None or not step.accepts(touch):
            step = self.last_step[tid] = _TwinStep(model)
            self.steps.append((tid, step))
        step.add(touch)


class TwinController:
    """Commits curated records to the core in batches; sweeps stale relationships."""

    def __init__(
        self, core: Core, config: MqttConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self.core = core
        self.config = config
        self.clock = clock
        self.stats = ControllerStats()
        catalog = core.catalog
        if catalog is None:
            raise ValueError("the MQTT adapter needs a core built with a model catalog")
        self._skeletons: dict[str, dict[str, Any]] = {}
        for name in (
            "EndDevice",
            "LteCell",
            "NrCell",
            "WcdmaCell",
            "GsmCell",
            "WifiAccessPoint",
            "BleBeacon",
            "EnvironmentSensor",
        ):
            entry = catalog.by_name(name)
            if entry is None:
                raise ValueError(f"the MQTT adapter needs the {name} model")
            self._skeletons[name] = entry.skeleton()
        self._queue: asyncio.Queue[_Item] | None = None
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ndtwin-mqtt-writer")
        self._tasks: list[asyncio.Task[None]] = []
        self._tenants: dict[str, bool] = {}
        #: (tenant, relationship id) -> (device, source, wall time written). Writer thread.
        self._heard: dict[tuple[str, str], tuple[str, str, float]] = {}
        #: (tenant, source twin id) -> wall time it lost its last observer.
        self._orphans: dict[tuple[str, str], float] = {}
        self._last_rescan = 0.0

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self._queue = asyncio.Queue(maxsize=max(self.config.batch_max * 2, 1000))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self._rescan)
        self._tasks = [
            asyncio.create_task(self._batch_loop(), name="mqtt-controller"),
            asyncio.create_task(self._sweep_loop(), name="mqtt-sweeper"),
        ]

    async def stop(self) -> None:
        """Commit what is queued, then stop; unacknowledged work stays with the broker."""
        if self._queue is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=10)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._writer.shutdown(wait=True)

    async def submit(self, work: Curated | DeviceUpdate, done: Done) -> None:
        """Queue ``work``; ``done`` runs on the event loop once it is committed or refused."""
        assert self._queue is not None, "start() the controller first"
        item = _Item(work, done)
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            await self._queue.put(item)

    @property
    def backlog(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    # -- batching --------------------------------------------------------------------
    async def _batch_loop(self) -> None:
        """Coalesce: what arrived while the previous batch was committing, plus what
        arrives within ``batch_wait_ms`` of the first record, up to ``batch_max``."""
        assert self._queue is not None
        queue = self._queue
        loop = asyncio.get_running_loop()
        wait = self.config.batch_wait_ms / 1000.0
        while True:
            items = [await queue.get()]
            deadline = loop.time() + wait
            while len(items) < self.config.batch_max:
                if queue.empty():
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        items.append(await asyncio.wait_for(queue.get(), remaining))
                    except TimeoutError:
                        break
                else:
                    items.append(queue.get_nowait())
            try:
                results = await loop.run_in_executor(self._writer, self._commit_all, items)
            except Exception:  # never lose the loop; the broker redelivers unacked work
                log.exception(
                    "mqtt controller: commit failed; %d records not acknowledged", len(items)
                )
                results = None
            for index, item in enumerate(items):
                queue.task_done()
                if results is not None:
                    try:
                        item.done(results[index])
                    except Exception:
                        log.exception("mqtt controller: completion callback failed")

    def _commit_all(self, items: list[_Item]) -> list[str | None]:
        """Writer thread: one transaction per tenant for the whole batch."""
        results: list[str | None] = [None] * len(items)
        positions = {id(item): i for i, item in enumerate(items)}
        by_tenant: dict[str, list[_Item]] = {}
        for item in items:
            by_tenant.setdefault(item.work.tenant, []).append(item)
        for tenant, group in by_tenant.items():
            if not self._tenant_known(tenant):
                for item in group:
                    results[positions[id(item)]] = f"unknown tenant {tenant!r}"
                continue
            plan = _Plan()
            for item in group:
                self._add(plan, item)
            self._commit_plan(Caller(TenantId(tenant)), plan, results, positions)
        return results

    def _tenant_known(self, tenant: str) -> bool:
        allowed = self.config.tenants
        if allowed is not None and tenant not in allowed:
            return False
        known = self._tenants.get(tenant)
        if not known:
            known = self.core.store.get_tenant(TenantId(tenant)) is not None
            self._tenants[tenant] = known
        return known

    def _commit_plan(
        self,
        caller: Caller,
        plan: _Plan,
        results: list[str | None],
        positions: dict[int, int],
        retried: bool = False,
    ) -> None:
        if not plan.items:
            return
        error = self._upsert(caller, plan)
        if error is None:
            self._apply(caller.tenant, plan)
            self.stats.committed_items += len(plan.items)
            return
        # The core refused the batch (validation): retry record by record so that only
        # the refused record is refused.
        if len(plan.items) == 1 and retried:
            results[positions[id(plan.items[0])]] = error
            self.stats.refused_items += 1
            return
        self.stats.retries += 1
        for item in plan.items:
            single = _Plan()
            self._add(single, item)
            self._commit_plan(caller, single, results, positions, retried=True)

    def _upsert(self, caller: Caller, plan: _Plan) -> str | None:
        started = time.perf_counter()
        delay = 0.05
        twins = [TwinUpsert(tid, update=partial(self._fold, step)) for tid, step in plan.steps]
        try:
            while True:
                try:
                    self.core.batch.upsert(caller, twins, plan.relationships, retries=20)
                    self.stats.transactions += 1
                    return None
                except (errors.StoreUnavailable, errors.RevisionMismatch) as exc:
                    # The store is down, or other adapter processes keep winning the
                    # race for the same twins: keep the records (unacknowledged) and
                    # try again; the update functions re-read fresh state each time.
                    log.warning("mqtt controller: %s; retry in %.2f s", exc, delay)
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)
                except errors.NdtError as exc:
                    return f"refused by the twin core: {exc}{_details(exc)}"
        finally:
            self.stats.commit_seconds += time.perf_counter() - started

    # -- planning --------------------------------------------------------------------
    def _add(self, plan: _Plan, item: _Item) -> None:
        work = item.work
        plan.items.append(item)
        device = device_thing(work.device_id)
        if isinstance(work, DeviceUpdate):
            plan.touch(device, "EndDevice", _Touch(work.attributes, work.ts, 0.0, True))
            return
        ts = work.ts
        plan.touch(
            device, "EndDevice", _Touch(dict(work.device), ts, self.config.device_touch_s, False)
        )
        for reading in work.readings:
            plan.touch(
                reading.source_id,
                reading.model,
                _Touch(reading.identity, ts, self.config.source_touch_s, False),
            )
            plan.relationships.append(
                RelationshipUpsert(
                    relationship_id(device, reading.source_id),
                    device,
                    reading.source_id,
                    "observes",
                    update=partial(_observe, device, reading, ts),
                )
            )
        if work.sensor is not None:
            plan.touch(
                f"sensor:{work.sensor.sensor_id}",
                "EnvironmentSensor",
                _Touch(work.sensor.attributes, ts, 0.0, False, sample=True),
            )

    def _fold(self, step: _TwinStep, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        """The patch of one twin step against the twin as stored now (None: no change).

        Runs inside the core's batch planning, again on each retry, so it must only
        read ``doc`` and the step.
        """
        body: dict[str, Any] | None = None
        state: dict[str, Any] | None = None
        if doc is not None:
            attrs = doc.get("attributes")
            state = dict(attrs) if isinstance(attrs, dict) else {}
        patch: dict[str, Any] = {}
        for touch in step.touches:
            if state is None:
                body = {
                    k: (dict(v) if isinstance(v, dict) else v)
                    for k, v in self._skeletons[step.model].items()
                }
                state = dict(body.get("attributes", {}))
                if step.model == "EndDevice":
                    state.update({"model": "unknown", "manufacturer": "unknown", "online": True})
                state.update(touch.attributes)
                if not touch.force:
                    state["lastSeen"] = touch.ts
                continue
            change = self._change(state, touch)
            state.update(change)
            patch.update(change)
        if body is not None:
            body["attributes"] = state
            return body
        return {"attributes": patch} if patch else None

    def _change(self, state: dict[str, Any], touch: _Touch) -> dict[str, Any]:
        """What of ``touch`` differs from ``state`` (late records roll nothing back)."""
        patch: dict[str, Any] = {}
        last = state.get("lastSeen")
        newer = last is None or touch.ts >= last
        for key, value in touch.attributes.items():
            if state.get(key) != value and (newer or touch.force or key not in state):
                patch[key] = value
        if (
            newer
            and not touch.force
            and last != touch.ts
            and (patch or last is None or touch.ts - float(last) >= touch.touch_s)
        ):
            patch["lastSeen"] = touch.ts
        return patch

    def _apply(self, tenant: str, plan: _Plan) -> None:
        """After a commit: the relationships written enter the expiry index."""
        now = self.clock()
        for rel in plan.relationships:
            self._heard[(tenant, rel.relationship_id)] = (rel.source, rel.target, now)
            self._orphans.pop((tenant, rel.target), None)

    # -- expiry ----------------------------------------------------------------------
    async def _sweep_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.config.sweep_interval_s)
            try:
                await loop.run_in_executor(self._writer, self.sweep)
            except Exception:
                log.exception("mqtt controller: sweep failed")

    def sweep(self) -> tuple[int, int]:
        """Writer thread: expire relationships, then remove orphaned sources.

        Returns (relationships removed, sources removed). The core has no query for
        "relationships older than", so the controller keeps its own index of when each
        relationship was last written (rebuilt from the store at start and every ten
        minutes) and checks the stored ``_modified`` time before deleting, in case
        another adapter process refreshed it.
        """
        now = self.clock()
        if now - self._last_rescan > 600:
            self._rescan()
        ttl = self.config.relationship_ttl_s
        expired = [(key, value) for key, value in self._heard.items() if value[2] < now - ttl]
        removed_rels = 0
        for (tenant, rid), (_device, source, _heard) in expired:
            caller = Caller(TenantId(tenant))
            record = self.core.store.get_relationship(caller.tenant, RelationshipId(rid))
            if record is None:
                self._heard.pop((tenant, rid), None)
                self._orphan_check(caller, source, now)
                continue
            modified = record.modified.timestamp()
            if modified >= now - ttl:
                self._heard[(tenant, rid)] = (record.source, record.target, modified)
                continue
            if self._delete(caller, relationships=[RelationshipUpsert(rid, delete=True)]):
                removed_rels += 1
                self._heard.pop((tenant, rid), None)
                self._orphan_check(caller, source, now)
        removed_sources = 0
        grace = self.config.orphan_grace_s
        for (tenant, source), since in list(self._orphans.items()):
            if since > now - grace:
                continue
            caller = Caller(TenantId(tenant))
            if self.core.store.relationships_touching(caller.tenant, ThingId(source)):
                self._orphans.pop((tenant, source), None)
                continue
            if self._delete(caller, twins=[TwinUpsert(source, delete=True)]):
                removed_sources += 1
                self._orphans.pop((tenant, source), None)
        self.stats.relationships_expired += removed_rels
        self.stats.sources_removed += removed_sources
        return removed_rels, removed_sources

    def _orphan_check(self, caller: Caller, source: str, now: float) -> None:
        if source.partition(":")[0] not in _SOURCE_NAMESPACES:
            return
        if not self.core.store.relationships_touching(caller.tenant, ThingId(source)):
            self._orphans.setdefault((caller.tenant, source), now)

    def _delete(
        self,
        caller: Caller,
        twins: list[TwinUpsert] | None = None,
        relationships: list[RelationshipUpsert] | None = None,
    ) -> bool:
        try:
            self.core.batch.upsert(caller, twins or [], relationships or [])
            return True
        except errors.NdtError as exc:
            log.warning("mqtt controller: expiry delete failed: %s", exc)
            return False

    def _rescan(self) -> None:
        """Rebuild the expiry index from the store (start-up and every ten minutes)."""
        self._last_rescan = self.clock()
        tenants = self.config.tenants or [t.tenant for t in self.core.store.list_tenants()]
        for tenant in tenants:
            tid = TenantId(tenant)
            if self.core.store.get_tenant(tid) is None:
                continue
            cursor: str | None = None
            while True:
                page, cursor = self.core.store.list_relationships(
                    tid, type="observes", size=200, cursor=cursor
                )
                for record in page:
                    self._index(tenant, record)
                if cursor is None:
                    break
            self._scan_orphans(tenant)

    def _index(self, tenant: str, record: RelationshipRecord) -> None:
        key = (tenant, record.id)
        heard = record.modified.timestamp()
        current = self._heard.get(key)
        if current is None or current[2] < heard:
            self._heard[key] = (record.source, record.target, heard)

    def _scan_orphans(self, tenant: str) -> None:
        tid = TenantId(tenant)
        cursor: str | None = None
        while True:
            page = self.core.store.search(
                tid, None, size=200, cursor=cursor, namespaces=list(_SOURCE_NAMESPACES)
            )
            for record in page.items:
                self._maybe_orphan(tenant, record)
            if page.cursor is None:
                break
            cursor = page.cursor

    def _maybe_orphan(self, tenant: str, record: TwinRecord) -> None:
        if (tenant, record.thing_id) in self._orphans:
            return
        if not self.core.store.relationships_touching(TenantId(tenant), record.thing_id):
            self._orphans[(tenant, record.thing_id)] = record.modified.timestamp()


def _observe(
    device: str, reading: Reading, ts: float, props: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The properties patch of one observation against the stored relationship.

    Runs inside the core's batch planning against fresh state (and again if another
    writer got there first), so ``sampleCount`` is exact with several adapter processes.
    """
    if props is None:
        new: dict[str, Any] = {
            "deviceId": device,
            "sourceId": reading.source_id,
            "sourceType": reading.source_type,
            "level": reading.level,
            "quality": reading.quality,
            "firstSeen": ts,
            "lastSeen": ts,
            "sampleCount": 1,
        }
        new.update({k: v for k, v in reading.metrics.items() if v is not None})
        if new["quality"] is None:
            del new["quality"]
        return new
    last = float(props.get("lastSeen", 0))
    first = float(props.get("firstSeen", last))
    samples = int(props.get("sampleCount", 1))
    if ts == last:
        return None  # the same (device, source, time): a duplicate, already recorded
    if ts > last:
        patch: dict[str, Any] = {
            "lastSeen": ts,
            "sampleCount": samples + 1,
            "level": reading.level,
            "quality": reading.quality,
        }
        patch.update(reading.metrics)
        return patch
    # Late, within the reorder window: count it, keep the newer metrics.
    patch = {"sampleCount": samples + 1}
    if ts < first:
        patch["firstSeen"] = ts
    return patch


def _details(exc: errors.NdtError) -> str:
    details = getattr(exc, "details", None) or getattr(exc, "violations", None)
    if not details:
        return ""
    parts = []
    for detail in list(details)[:5]:
        path = getattr(detail, "path", None)
        message = getattr(detail, "message", str(detail))
        parts.append(f"{path}: {message}" if path else str(message))
    return " (" + "; ".join(parts) + ")"
