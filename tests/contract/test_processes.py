"""Cross-process contract: change events reach a waiter in another process, and
``kill -9`` during a write burst loses no acknowledged write and no outbox entry that was
not yet applied - on both stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from server.core.ids import TenantId, ThingId
from server.core.stores import OutboxEntry, TwinStore, WriteBatch, utc_now
from server.core.stores.factory import create_store
from server.core.stores.postgres import PostgresTwinStore

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("store_writer.py")


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _store(url: str) -> TwinStore:
    store = create_store(url)
    if isinstance(store, PostgresTwinStore):
        # No safety polling: only LISTEN/NOTIFY can wake the waiter within the test's time.
        store.poll_interval = 60.0
    store.open()
    return store


def test_events_committed_by_another_process_wake_a_waiter(store_url: str) -> None:
    tenant = TenantId("acme")
    count = 6
    with _store(store_url) as store:
        store.create_tenant(tenant, "h", utc_now())
        writer = _spawn(store_url, tenant, "events", str(count), "0.25")
        received = []
        latencies = []
        try:
            deadline = time.monotonic() + 60
            while len(received) < count and time.monotonic() < deadline:
                after = received[-1].seq if received else 0
                batch = store.wait_for_events(tenant, after, timeout=5)
                arrived = utc_now()
                latencies += [(arrived - e.timestamp).total_seconds() for e in batch]
                received += batch
        finally:
            _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err

    assert [e.seq for e in received] == list(range(1, count + 1))
    assert [e.entity_id for e in received] == [f"ev:t{i}" for i in range(count)]
    # Woken by the commit itself, not by a timeout or a slow poll.
    assert max(latencies) < 2.5, latencies


def test_kill_9_during_a_burst_loses_no_acknowledged_write(store_url: str) -> None:
    tenant = TenantId("acme")
    with _store(store_url) as store:
        store.create_tenant(tenant, "h", utc_now())

    writer = _spawn(store_url, tenant, "burst", "1000000")
    assert writer.stdout is not None
    acked: list[tuple[str, int, int]] = []
    outbox_ids: list[int] = []
    applied: set[int] = set()

    def read(line: str) -> None:
        if line.startswith("ack ") and line.endswith("\n"):
            _, thing, revision, seq, outbox_id = line.split()
            acked.append((thing, int(revision), int(seq)))
            outbox_ids.append(int(outbox_id))
        elif line.startswith("applied ") and line.endswith("\n"):
            applied.update(int(i) for i in line.split()[1:])

    try:
        for line in writer.stdout:
            read(line)
            if len(acked) >= 400:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
    # Lines the writer flushed before it died are still in the pipe, or already read
    # ahead into this side's buffer: finish reading through the same reader (reading the
    # pipe's descriptor directly, as communicate() does, would skip the buffered ones).
    for line in writer.stdout:
        read(line)
    err = writer.stderr.read() if writer.stderr is not None else ""
    writer.wait(30)
    assert writer.returncode == -signal.SIGKILL
    assert len(acked) >= 400, err
    # Outbox ids follow commit order.
    assert outbox_ids == sorted(set(outbox_ids))

    with _store(store_url) as store:
        events = {e.seq: e for e in store.read_events(tenant, 0, limit=1_000_000)}
        for thing, revision, seq in acked:
            kept = store.get_twin_at_revision(tenant, ThingId(thing), revision)
            assert kept is not None, (thing, revision)
            assert kept.doc["attributes"]["rev"] == revision
            assert store.get_twin(tenant, ThingId(thing)).revision >= revision
            assert events[seq].entity_id == thing and events[seq].value == revision
        assert store.last_seq(tenant) >= max(seq for _, _, seq in acked)
        # Every committed event is contiguous: no gap a crash could have torn.
        assert sorted(events) == list(range(1, len(events) + 1))

        # Every committed entry that was not applied is still pending (the graph's crash
        # repair); applied ones may be too (their deletion rides on a later commit), and
        # the start-up replay re-applies those in order.
        pending = [entry.id for entry in store.pending_outbox(1_000_000)]
        assert set(outbox_ids) - applied <= set(pending)
        assert pending == sorted(pending)
        # Ids are not reused after the crash and reopen either.
        store.commit(tenant, WriteBatch(outbox=[OutboxEntry(0, tenant, "twin", "x:y", None, {})]))
        assert store.pending_outbox(1_000_000)[-1].id > max(outbox_ids + pending)
