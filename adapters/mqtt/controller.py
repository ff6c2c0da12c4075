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

Records are committed in batches by a single writer thread. Inside one transaction a
device twin or relationship appears at most once, so every record leaves its own
history points: a record that touches something already in the batch starts the next
transaction. A batch the core refuses is retried record by record, so one bad record
cannot hold back the others; the refused one is reported to its callback (and from
there to the dead-letter topic). Relationships not heard for ``relationship_ttl_s`` are
deleted by a sweeper, and sources left without observers are deleted after
``orphan_grace_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.mqtt.config import MqttConfig
from adapters.mqtt.records import Curated, Reading
from server.core import errors
from server.core.batch import RelationshipUpsert, TwinUpsert
from server.core.context import Caller
from server.core.ids import TenantId, ThingId
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
class _RelState:
    first_seen: float
    last_seen: float
    samples: int


@dataclass(slots=True)
class _Item:
    work: Curated | DeviceUpdate
    done: Done


@dataclass(slots=True)
class _Plan:
    """One transaction being assembled, and the cache updates it implies if committed."""

    twins: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    relationships: list[RelationshipUpsert] = field(default_factory=list)
    exclusive: set[str] = field(default_factory=set)
    items: list[_Item] = field(default_factory=list)
    rel_states: dict[str, _RelState] = field(default_factory=dict)
    twin_states: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[str, tuple[str, str]] = field(default_factory=dict)

    def put_twin(self, thing_id: str, patch: dict[str, Any]) -> None:
        if thing_id in self.twins:
            _deep_merge(self.twins[thing_id], patch)
        else:
            self.twins[thing_id] = patch
            self.order.append(thing_id)

    def upserts(self) -> list[TwinUpsert]:
        return [TwinUpsert(tid, self.twins[tid]) for tid in self.order]


def _deep_merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


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
        self._lock = threading.Lock()
        # Caches, touched only by the writer thread (and the sweeper through it).
        self._tenants: dict[str, bool] = {}
        self._twins: dict[tuple[str, str], dict[str, Any]] = {}
        self._rels: dict[tuple[str, str], _RelState] = {}
        #: (tenant, relationship id) -> (device, source, monotonic-ish wall time heard).
        self._heard: dict[tuple[str, str], tuple[str, str, float]] = {}
        #: (tenant, source twin id) -> wall time it lost its last observer.
        self._orphans: dict[tuple[str, str], float] = {}
        self._last_rescan = 0.0
        #: Several adapter processes share the load: another one may have written since
        #: this one cached a state, so states are read fresh for every transaction.
        self._fresh_reads = config.share_group is not None and config.mqtt5

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self._queue = asyncio.Queue(maxsize=max(self.config.batch_max * 4, 1000))
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
        await self._queue.put(_Item(work, done))

    @property
    def backlog(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    # -- batching --------------------------------------------------------------------
    async def _batch_loop(self) -> None:
        assert self._queue is not None
        queue = self._queue
        loop = asyncio.get_running_loop()
        while True:
            first = await queue.get()
            items = [first]
            deadline = loop.time() + self.config.batch_wait_ms / 1000.0
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
        """Writer thread: commit items, tenant by tenant, in conflict-free transactions."""
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
            caller = Caller(TenantId(tenant))
            plan = _Plan()
            for item in group:
                if not self._fits(plan, item):
                    self._commit_plan(caller, plan, results, positions)
                    plan = _Plan()
                self._add(caller, plan, item)
            self._commit_plan(caller, plan, results, positions)
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
        # The cache may be stale (a twin deleted through another face, a relationship
        # changed by another adapter process): forget what the plan touched, then retry
        # record by record so that only the refused record is refused.
        self._invalidate(caller.tenant, plan)
        if len(plan.items) == 1 and retried:
            results[positions[id(plan.items[0])]] = error
            self.stats.refused_items += 1
            return
        self.stats.retries += 1
        for item in plan.items:
            single = _Plan()
            self._add(caller, single, item)
            self._commit_plan(caller, single, results, positions, retried=True)

    def _invalidate(self, tenant: str, plan: _Plan) -> None:
        for tid in plan.order:
            self._twins.pop((tenant, tid), None)
        for rid in plan.rel_states:
            self._rels.pop((tenant, rid), None)

    def _upsert(self, caller: Caller, plan: _Plan) -> str | None:
        started = time.perf_counter()
        delay = 0.05
        try:
            while True:
                try:
                    self.core.batch.upsert(caller, plan.upserts(), plan.relationships)
                    self.stats.transactions += 1
                    return None
                except errors.StoreUnavailable:
                    # The store is down: keep the records (unacknowledged), try again.
                    log.warning("mqtt controller: store unavailable; retry in %.1f s", delay)
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)
                except errors.NdtError as exc:
                    return f"refused by the twin core: {exc}{_details(exc)}"
        finally:
            self.stats.commit_seconds += time.perf_counter() - started

    # -- planning --------------------------------------------------------------------
    def _keys(self, item: _Item) -> set[str]:
        work = item.work
        device = device_thing(work.device_id)
        keys = {device}
        if isinstance(work, Curated):
            keys.update(relationship_id(device, r.source_id) for r in work.readings)
            if work.sensor is not None:
                keys.add(f"sensor:{work.sensor.sensor_id}")
        return keys

    def _fits(self, plan: _Plan, item: _Item) -> bool:
        return not (self._keys(item) & plan.exclusive)

    def _twin_state(
        self,
        tenant: str,
        plan: _Plan,
        thing_ids: Iterable[str],
    ) -> dict[str, dict[str, Any] | None]:
        """Known attributes of twins (plan, cache, then one bulk read of the store)."""
        out: dict[str, dict[str, Any] | None] = {}
        missing = []
        for tid in thing_ids:
            if tid in plan.twin_states:
                out[tid] = plan.twin_states[tid]
            elif (tenant, tid) in self._twins and not self._fresh_reads:
                out[tid] = self._twins[(tenant, tid)]
            else:
                missing.append(tid)
        if missing:
            found: dict[str, TwinRecord] = {
                r.thing_id: r
                for r in self.core.store.get_twins(TenantId(tenant), [ThingId(t) for t in missing])
            }
            for tid in missing:
                record = found.get(tid)
                state = dict(record.doc.get("attributes", {})) if record else None
                if state is not None:
                    self._twins[(tenant, tid)] = state
                out[tid] = state
        return out

    def _rel_state(self, tenant: str, plan: _Plan, rid: str) -> _RelState | None:
        if rid in plan.rel_states:
            return plan.rel_states[rid]
        state = None if self._fresh_reads else self._rels.get((tenant, rid))
        if state is None:
            record = self.core.store.get_relationship(TenantId(tenant), rid)  # type: ignore[arg-type]
            if record is not None:
                props = record.properties
                state = _RelState(
                    float(props.get("firstSeen", props.get("lastSeen", 0))),
                    float(props.get("lastSeen", 0)),
                    int(props.get("sampleCount", 1)),
                )
                self._rels[(tenant, rid)] = state
        return state

    def _add(self, caller: Caller, plan: _Plan, item: _Item) -> None:
        tenant = caller.tenant
        work = item.work
        plan.items.append(item)
        plan.exclusive |= self._keys(item)
        device = device_thing(work.device_id)
        sources: list[Reading] = work.readings if isinstance(work, Curated) else []
        sensor = work.sensor if isinstance(work, Curated) else None
        wanted = [device, *(r.source_id for r in sources)]
        if sensor is not None:
            wanted.append(f"sensor:{sensor.sensor_id}")
        states = self._twin_state(tenant, plan, dict.fromkeys(wanted))
        # The device twin.
        attributes = work.attributes if isinstance(work, DeviceUpdate) else dict(work.device)
        update = isinstance(work, DeviceUpdate)
        self._put(
            plan,
            device,
            "EndDevice",
            states[device],
            attributes,
            work.ts,
            touch_always=not update,
            force=update,
        )
        # Sources and relationships.
        for reading in sources:
            self._put(
                plan,
                reading.source_id,
                reading.model,
                states[reading.source_id],
                reading.identity,
                work.ts,
                touch_always=False,
            )
            rid = relationship_id(device, reading.source_id)
            self._observe(tenant, plan, rid, device, reading, work.ts)
        if sensor is not None:
            tid = f"sensor:{sensor.sensor_id}"
            self._put(
                plan,
                tid,
                "EnvironmentSensor",
                states[tid],
                sensor.attributes,
                work.ts,
                touch_always=True,
            )

    def _put(
        self,
        plan: _Plan,
        tid: str,
        model: str,
        state: dict[str, Any] | None,
        attributes: dict[str, Any],
        ts: float,
        touch_always: bool,
        force: bool = False,
    ) -> None:
        """Plan a twin change: create from the skeleton, or patch what differs.

        ``force`` applies the attributes whatever their time (status and meta messages
        are retained, last writer wins); they then do not move ``lastSeen``.
        """
        if state is None:
            body = {
                k: (dict(v) if isinstance(v, dict) else v)
                for k, v in self._skeletons[model].items()
            }
            attrs = dict(body.get("attributes", {}))
            if model == "EndDevice":
                attrs.update({"model": "unknown", "manufacturer": "unknown", "online": True})
            attrs.update(attributes)
            if not force:
                attrs["lastSeen"] = ts
            body["attributes"] = attrs
            plan.put_twin(tid, body)
            plan.twin_states[tid] = dict(attrs)
            return
        patch: dict[str, Any] = {}
        last = state.get("lastSeen")
        newer = last is None or ts >= last
        for key, value in attributes.items():
            # Late records (older than what the twin shows) do not roll values back.
            if state.get(key) != value and (newer or force or key not in state):
                patch[key] = value
        if (
            newer
            and not force
            and (touch_always or last is None or ts - float(last) >= self.config.source_touch_s)
            and last != ts
        ):
            patch["lastSeen"] = ts
        if not patch:
            return
        plan.put_twin(tid, {"attributes": patch})
        new_state = dict(state)
        new_state.update(patch)
        plan.twin_states[tid] = new_state

    def _observe(
        self, tenant: str, plan: _Plan, rid: str, device: str, reading: Reading, ts: float
    ) -> None:
        state = self._rel_state(tenant, plan, rid)
        props: dict[str, Any]
        if state is None:
            props = {
                "deviceId": device,
                "sourceId": reading.source_id,
                "sourceType": reading.source_type,
                "level": reading.level,
                "quality": reading.quality,
                "firstSeen": ts,
                "lastSeen": ts,
                "sampleCount": 1,
            }
            props.update({k: v for k, v in reading.metrics.items() if v is not None})
            if props["quality"] is None:
                del props["quality"]
            plan.relationships.append(
                RelationshipUpsert(rid, device, reading.source_id, "observes", props)
            )
            plan.rel_states[rid] = _RelState(ts, ts, 1)
            plan.edges[rid] = (device, reading.source_id)
            return
        if ts == state.last_seen:
            return  # the same (device, source, time): a duplicate, already recorded
        if ts > state.last_seen:
            props = {
                "lastSeen": ts,
                "sampleCount": state.samples + 1,
                "level": reading.level,
                "quality": reading.quality,
            }
            props.update(reading.metrics)
            new = _RelState(state.first_seen, ts, state.samples + 1)
        else:  # late, within the reorder window: count it, keep the newer metrics
            props = {"sampleCount": state.samples + 1}
            first = min(state.first_seen, ts)
            if first != state.first_seen:
                props["firstSeen"] = first
            new = _RelState(first, state.last_seen, state.samples + 1)
        plan.relationships.append(
            RelationshipUpsert(rid, device, reading.source_id, "observes", props)
        )
        plan.rel_states[rid] = new
        plan.edges[rid] = (device, reading.source_id)

    def _apply(self, tenant: str, plan: _Plan) -> None:
        """After a commit: the plan's states become the cache."""
        now = self.clock()
        for tid, state in plan.twin_states.items():
            self._twins[(tenant, tid)] = state
        for rid, rel in plan.rel_states.items():
            self._rels[(tenant, rid)] = rel
        for rid, (device, source) in plan.edges.items():
            self._heard[(tenant, rid)] = (device, source, now)
            self._orphans.pop((tenant, source), None)

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
            record = self.core.store.get_relationship(caller.tenant, rid)  # type: ignore[arg-type]
            if record is None:
                self._forget_rel(tenant, rid)
                self._orphan_check(caller, source, now)
                continue
            modified = record.modified.timestamp()
            if modified >= now - ttl:
                self._heard[(tenant, rid)] = (record.source, record.target, modified)
                continue
            if self._delete(caller, relationships=[RelationshipUpsert(rid, delete=True)]):
                removed_rels += 1
                self._forget_rel(tenant, rid)
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
                self._twins.pop((tenant, source), None)
        self.stats.relationships_expired += removed_rels
        self.stats.sources_removed += removed_sources
        return removed_rels, removed_sources

    def _forget_rel(self, tenant: str, rid: str) -> None:
        self._heard.pop((tenant, rid), None)
        self._rels.pop((tenant, rid), None)

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
            self._orphans[(tenant, record.thing_id)] = _ts(record.modified)


def _ts(value: datetime) -> float:
    return value.timestamp()


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
