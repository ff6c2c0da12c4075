"""Outbox contract on both stores: ids grow with commit order and are never reused (after
deletes and after a reopen), and acknowledged entries leave the pending list at once while
their rows are deleted with the next write transaction (or on close)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from server.core.errors import TenantNotFound
from server.core.ids import TenantId
from server.core.stores import OutboxEntry, TwinStore, WriteBatch
from server.core.stores.factory import open_store
from server.core.stores.postgres import PostgresTwinStore
from server.core.stores.sqlite import SqliteTwinStore
from tests.contract.twin_records import T0


def _entry(tenant: TenantId, n: int) -> OutboxEntry:
    return OutboxEntry(0, tenant, "twin", f"ns:t{n}", None, {"n": n})


def _rows(store: TwinStore) -> list[int]:
    """Ids of the rows in the outbox table itself, acknowledged or not."""
    sql = "SELECT id FROM outbox ORDER BY id"
    if isinstance(store, SqliteTwinStore):
        with sqlite3.connect(store.path) as conn:
            return [row[0] for row in conn.execute(sql)]
    assert isinstance(store, PostgresTwinStore)
    with psycopg.connect(store.conninfo) as conn:
        return [row[0] for row in conn.execute(sql)]


def test_acked_entries_leave_pending_at_once_and_go_with_the_next_commit(
    store: TwinStore, tenant: TenantId
) -> None:
    store.commit(tenant, WriteBatch(outbox=[_entry(tenant, 1), _entry(tenant, 2)]))
    first, second = store.pending_outbox()
    store.ack_outbox([first.id])
    assert [e.id for e in store.pending_outbox()] == [second.id]
    assert [e.id for e in store.pending_outbox(limit=1)] == [second.id]
    # Not deleted by the acknowledgement itself: no transaction of its own.
    assert _rows(store) == [first.id, second.id]

    store.commit(tenant, WriteBatch(outbox=[_entry(tenant, 3)]))
    third = store.pending_outbox()[-1]
    assert _rows(store) == [second.id, third.id]
    assert [e.id for e in store.pending_outbox()] == [second.id, third.id]

    # A failed commit keeps the acknowledged rows for the next one.
    store.ack_outbox([second.id])
    with pytest.raises(TenantNotFound):
        store.commit(TenantId("nobody"), WriteBatch(outbox=[_entry(tenant, 4)]))
    assert _rows(store) == [second.id, third.id]
    assert [e.id for e in store.pending_outbox()] == [third.id]


def test_acked_entries_in_the_middle_are_skipped_and_limits_count_the_rest(
    store: TwinStore, tenant: TenantId
) -> None:
    # PostgreSQL may commit ids out of order, so what is acknowledged need not be a prefix.
    store.commit(tenant, WriteBatch(outbox=[_entry(tenant, n) for n in range(5)]))
    ids = [e.id for e in store.pending_outbox()]
    store.ack_outbox([ids[1], ids[2]])
    assert [e.id for e in store.pending_outbox()] == [ids[0], ids[3], ids[4]]
    assert [e.id for e in store.pending_outbox(limit=2)] == [ids[0], ids[3]]
    assert [e.new_doc for e in store.pending_outbox(limit=2)] == [{"n": 0}, {"n": 3}]


def test_outbox_ids_are_never_reused_after_deletes(store: TwinStore, tenant: TenantId) -> None:
    seen: list[int] = []
    for n in range(5):
        store.commit(tenant, WriteBatch(outbox=[_entry(tenant, n)]))
        pending = store.pending_outbox()
        assert len(pending) == 1 and pending[0].entity_id == f"ns:t{n}"
        seen.append(pending[0].id)
        # Acknowledge the newest entry: its row (the highest id) goes with the next commit.
        store.ack_outbox([pending[0].id])
        assert store.pending_outbox() == []
    assert seen == sorted(set(seen))


def test_an_entry_after_deleted_acked_rows_is_pending(store: TwinStore, tenant: TenantId) -> None:
    """Deleting a tenant removes its rows, acknowledged ones included, and appends one
    entry: with ids reused (MAX + 1) that entry would take an acknowledged id and hide."""
    store.commit(tenant, WriteBatch(outbox=[_entry(tenant, 1), _entry(tenant, 2)]))
    ids = [e.id for e in store.pending_outbox()]
    store.ack_outbox(ids)
    store.delete_tenant(tenant)
    (entry,) = store.pending_outbox()
    assert (entry.kind, entry.tenant) == ("tenant", tenant)
    assert entry.id > max(ids)


def test_outbox_ids_are_never_reused_after_a_reopen(store_url: str) -> None:
    tenant = TenantId("acme")
    with open_store(store_url) as store:
        store.create_tenant(tenant, "h", T0)
        store.commit(tenant, WriteBatch(outbox=[_entry(tenant, 1), _entry(tenant, 2)]))
        ids = [e.id for e in store.pending_outbox()]
        store.ack_outbox(ids)
    # Closing deleted the acknowledged rows: the table is empty.
    with open_store(store_url) as store:
        assert _rows(store) == []
        assert store.pending_outbox() == []
        store.commit(tenant, WriteBatch(outbox=[_entry(tenant, 3)]))
        (entry,) = store.pending_outbox()
        assert entry.entity_id == "ns:t3" and entry.id > max(ids)


def test_acked_but_undeleted_entries_are_pending_for_a_new_opener(store_url: str) -> None:
    """What a crash leaves: acknowledged in memory only, so the next start replays them."""
    tenant = TenantId("acme")
    with open_store(store_url) as writer, open_store(store_url) as restarted:
        writer.create_tenant(tenant, "h", T0)
        writer.commit(tenant, WriteBatch(outbox=[_entry(tenant, 1), _entry(tenant, 2)]))
        ids = [e.id for e in writer.pending_outbox()]
        writer.ack_outbox(ids)
        assert writer.pending_outbox() == []
        assert [e.id for e in restarted.pending_outbox()] == ids


def test_an_older_sqlite_outbox_is_rebuilt_with_its_pending_entries(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    tenant = TenantId("acme")
    with SqliteTwinStore(path) as store:
        store.create_tenant(tenant, "h", T0)
    # The table as files made before monotonic ids have it, holding one pending entry.
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "DROP TABLE outbox; CREATE TABLE outbox (id INTEGER PRIMARY KEY, tenant TEXT "
            "NOT NULL, kind TEXT NOT NULL, entity_id TEXT NOT NULL, old_doc TEXT, new_doc TEXT);"
            "INSERT INTO outbox VALUES (7, 'acme', 'twin', 'ns:old', NULL, '{\"n\": 7}');"
        )
    with SqliteTwinStore(path) as store:
        (old,) = store.pending_outbox()
        assert (old.id, old.entity_id, old.new_doc) == (7, "ns:old", {"n": 7})
        store.ack_outbox([old.id])
        store.commit(tenant, WriteBatch(outbox=[_entry(tenant, 8)]))
        (new,) = store.pending_outbox()
        assert new.id > 7
    with sqlite3.connect(path) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'outbox'").fetchone()
    assert "AUTOINCREMENT" in sql.upper()
