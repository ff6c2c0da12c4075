"""The embedded document store: one SQLite file in the data directory, WAL mode.

Concurrency: one writer connection guarded by a lock (SQLite has one writer anyway) and
one read connection per thread; WAL lets readers run beside the writer. Other processes
may open the same file: writes then serialise on SQLite's own lock (``BEGIN IMMEDIATE``
with a busy timeout).

Durability: the brief is "``kill -9`` loses no acknowledged write". In WAL mode a commit
appends the transaction to the ``-wal`` file with ``write()`` before `commit` returns;
``synchronous=NORMAL`` only skips the ``fsync``. A killed *process* leaves the data in
the kernel's page cache, which reaches the disk regardless, and the next open replays the
WAL - so NORMAL keeps every acknowledged transaction across ``kill -9`` (the SQLite
documentation on WAL: NORMAL is "durable across application crashes"; only an OS crash or
power loss can roll back the last transactions). ``synchronous=FULL`` (an ``fsync`` per
commit) also covers power loss and can be chosen with ``?synchronous=full`` in the URL.

Checkpoints: copying the WAL back into the database file costs an ``fsync``; run inside
a commit (SQLite's auto-checkpoint) it halves write throughput. A background thread
runs ``PASSIVE`` checkpoints instead, which never block the writer; the writer's own
auto-checkpoint stays as a safety valve at a larger WAL size.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from server.core.errors import (
    NdtError,
    RelationshipNotFound,
    RevisionMismatch,
    StoreUnavailable,
    TenantConflict,
    TenantNotFound,
    ThingNotFound,
)
from server.core.ids import TenantId, ThingId
from server.core.rql.ast import Node, SortKey, to_rql
from server.core.rql.sql import Params, SortAtom, keyset_condition, order_by
from server.core.rql.sqlite import sort_atoms, sqlite_params
from server.core.stores.base import AckedOutbox, TwinStore
from server.core.stores.cursor import decode_cursor, encode_cursor, fingerprint
from server.core.stores.encoding import (
    check_namespaces,
    check_size,
    check_tenant,
    dump_json,
    from_micros,
    history_number,
    load_json,
    parse_time,
    path_bounds,
    to_micros,
)
from server.core.stores.records import (
    ChangeEvent,
    HistoryBucket,
    HistoryPoint,
    OutboxEntry,
    SearchPage,
    TenantRecord,
    WriteBatch,
    format_time,
    utc_now,
)
from server.core.stores.sql_reads import SqlReads
from server.core.stores.sqlite_values import ensure_index, filter_source, rebuild, update_twin

__all__ = ["SqliteTwinStore"]

_SCHEMA_VERSION = 1
# One definition of the outbox's columns: the schema and the migration to monotonic ids.
_OUTBOX_COLUMNS = """
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    old_doc TEXT,
    new_doc TEXT
"""

# Page writes per commit bound throughput (each lands in the WAL), so the append-only
# tables are WITHOUT ROWID (one b-tree each) and only history keeps a time index for
# retention; events are pruned by a scan, which retention runs rarely.
_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS tenants (
    name TEXT PRIMARY KEY,
    api_key_hash TEXT NOT NULL,
    created TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS twins (
    tenant TEXT NOT NULL,
    thing_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (tenant, thing_id)
);
CREATE TABLE IF NOT EXISTS revisions (
    tenant TEXT NOT NULL,
    thing_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    doc TEXT,
    PRIMARY KEY (tenant, thing_id, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS relationships (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    type TEXT NOT NULL,
    properties TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS relationships_source ON relationships (tenant, source, id);
CREATE INDEX IF NOT EXISTS relationships_target ON relationships (tenant, target, id);
CREATE INDEX IF NOT EXISTS relationships_type ON relationships (tenant, type, id);
CREATE TABLE IF NOT EXISTS events (
    tenant TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    path TEXT NOT NULL,
    value TEXT NOT NULL,
    revision INTEGER NOT NULL,
    ts TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    tenant TEXT NOT NULL,
    thing_id TEXT NOT NULL,
    path TEXT NOT NULL,
    t INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    value TEXT NOT NULL,
    num REAL,
    PRIMARY KEY (tenant, thing_id, path, t, revision)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS history_t ON history (t);
CREATE TABLE IF NOT EXISTS outbox (
"""
    + _OUTBOX_COLUMNS
    + """);
"""
)

_TENANT_TABLES = (
    "twins",
    "twin_values",
    "revisions",
    "relationships",
    "events",
    "history",
    "outbox",
)
# Outbox ids must never be reused: acknowledged ids are remembered until their rows are
# deleted, and a plain rowid (MAX + 1) would hand a deleted id to the next entry, which
# the remembered id would then hide. AUTOINCREMENT keeps the high-water mark in
# sqlite_sequence, across deletes and reopens. Files made before it get the table rebuilt.
_OUTBOX_MONOTONIC = (
    """
CREATE TABLE outbox_new (
"""
    + _OUTBOX_COLUMNS
    + """);
INSERT INTO outbox_new SELECT id, tenant, kind, entity_id, old_doc, new_doc FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox
"""
)
#: Acknowledged outbox ids are deleted with the next commit; this many without one
#: (acks but no writes) are deleted in a transaction of their own.
_ACK_FLUSH = 1024
_CHECKPOINT_EVERY_S = 0.5
_OUTBOX_COLUMNS = "id, tenant, kind, entity_id, old_doc, new_doc"
_MMAP_BYTES = 256 * 1024 * 1024
_CACHE_KIB = 32 * 1024  # per connection
_AUTOCHECKPOINT_PAGES = 20_000
#: One twin's history rows in a time window (its arguments: `_window_args`).
_HISTORY_WINDOW = "tenant = ? AND thing_id = ? AND t >= ? AND t < ?"


def _window_args(tenant: str, thing_id: str, start: datetime, end: datetime) -> list[Any]:
    return [tenant, thing_id, to_micros(start), to_micros(end)]


def _lower(value: Any) -> Any:
    """``ndt_lower``: Unicode lower-casing for ``ilike`` (SQLite's lower() is ASCII-only)."""
    return value.lower() if isinstance(value, str) else value


@contextmanager
def _mapped() -> Iterator[None]:
    """Map sqlite3 errors to `StoreUnavailable` at the store's border (cause chained)."""
    try:
        yield
    except NdtError:
        raise
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"SQLite store error: {exc}") from exc


class SqliteTwinStore(SqlReads, TwinStore):
    """`TwinStore` on one SQLite file.

    Parameters
    ----------
    path:
        The database file; its directory is created if missing.
    synchronous:
        ``"NORMAL"`` (default, survives process kills) or ``"FULL"`` (also power loss).
    poll_interval:
        How often `wait_for_events` re-reads the file for writes of other processes.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "NORMAL",
        busy_timeout: float = 30.0,
        poll_interval: float = 0.05,
    ) -> None:
        if synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"unsupported synchronous mode {synchronous!r}")
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self.busy_timeout = busy_timeout
        self.poll_interval = poll_interval
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._changed = threading.Condition()
        self._generation = 0
        self._closed = True
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._acked = AckedOutbox(_ACK_FLUSH)

    local = True

    @staticmethod
    def _json(value: Any) -> Any:
        return load_json(value)  # JSON columns are text here

    def __repr__(self) -> str:
        return f"SqliteTwinStore({str(self.path)!r})"

    def writer_busy(self) -> bool:
        return self._write_lock.locked()

    # --- connections ------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        # Reads through a shared memory map instead of a pread per page, and a larger page
        # cache than SQLite's 2 MiB default: at 100k twins the interior pages of the
        # tables and indexes a write touches no longer fit the default and write latency
        # grew with the data.
        conn.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
        conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        conn.create_function("ndt_lower", 1, _lower, deterministic=True)
        return conn

    def open(self) -> None:
        """Create the file and schema if needed and switch to WAL mode."""
        with _mapped():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            writer = self._connect()
            mode = writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreUnavailable(f"SQLite refused WAL mode (got {mode!r})")
            version = writer.execute("PRAGMA user_version").fetchone()[0]
            if version < _SCHEMA_VERSION:
                writer.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        writer.execute(statement)
                writer.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                writer.execute("COMMIT")
            self._migrate_outbox(writer)
            writer.execute(f"PRAGMA wal_autocheckpoint = {_AUTOCHECKPOINT_PAGES}")
            writer.execute("PRAGMA journal_size_limit = 67108864")
            # Files made before the value index existed get it here (a migration).
            ensure_index(writer)
            self._writer = writer
            self._closed = False
            self._stop.clear()
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="ndtwin-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    @staticmethod
    def _migrate_outbox(writer: sqlite3.Connection) -> None:
        """Rebuild an outbox of an older file with AUTOINCREMENT ids (pending rows kept)."""
        row = writer.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'outbox'"
        ).fetchone()
        if row is None or "AUTOINCREMENT" in row[0].upper():
            return
        writer.execute("BEGIN IMMEDIATE")
        try:
            for statement in _OUTBOX_MONOTONIC.split(";"):
                writer.execute(statement)
        except BaseException:
            writer.execute("ROLLBACK")
            raise
        writer.execute("COMMIT")

    def _checkpoint_loop(self) -> None:
        """Checkpoint the WAL off the commit path until the store closes."""
        conn = self._connect()
        try:
            while not self._stop.wait(_CHECKPOINT_EVERY_S):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    # Busy or transient: the next round (or the writer's valve) catches up.
                    continue
        finally:
            conn.close()

    def close(self) -> None:
        """Close every connection and wake waiters."""
        self._closed = True
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=10)
            self._checkpointer = None
        with self._changed:
            self._generation += 1
            self._changed.notify_all()
        if self._writer is not None and self._acked:
            # On failure they stay pending in the file: start-up re-applies them, harmlessly.
            with suppress(StoreUnavailable):
                self._flush_acks()
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._local = threading.local()

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreUnavailable("The store is closed.")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _read(self, sql: str, params: Any = ()) -> list[Any]:
        with _mapped():
            return self._reader().execute(sql, params).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        """The writer inside ``BEGIN IMMEDIATE``; commits on success, else rolls back."""
        with self._write_lock, _mapped():
            if self._writer is None:
                raise StoreUnavailable("The store is closed.")
            cur = self._writer.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    # --- tenants ----------------------------------------------------------------------

    def create_tenant(self, tenant: TenantId, api_key_hash: str, created: datetime) -> TenantRecord:
        try:
            with self._transaction() as cur:
                cur.execute(
                    "INSERT INTO tenants (name, api_key_hash, created) VALUES (?, ?, ?)",
                    (tenant, api_key_hash, format_time(created)),
                )
        except StoreUnavailable as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise TenantConflict(tenant) from None
            raise
        return TenantRecord(tenant, api_key_hash, parse_time(format_time(created)))

    def delete_tenant(self, tenant: TenantId) -> None:
        with self._transaction() as cur:
            if cur.execute("DELETE FROM tenants WHERE name = ?", (tenant,)).rowcount == 0:
                raise TenantNotFound(tenant)
            for table in _TENANT_TABLES:
                cur.execute(f"DELETE FROM {table} WHERE tenant = ?", (tenant,))
            cur.execute(
                "INSERT INTO outbox (tenant, kind, entity_id) VALUES (?, 'tenant', ?)",
                (tenant, tenant),
            )
        self._notify()

    # --- twins ------------------------------------------------------------------------

    def _rows_by_ids(self, select: str, column: str, tenant: str, ids: Sequence[str]) -> list[Any]:
        # In chunks: SQLite caps the number of bound parameters of a statement.
        unique = list(dict.fromkeys(ids))
        rows: list[Any] = []
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += self._read(
                f"{select} WHERE tenant = ? AND {column} IN ({marks})", (tenant, *chunk)
            )
        return rows

    def _where(
        self,
        tenant: TenantId,
        filter: Node | None,
        namespaces: Sequence[str] | None,
        params: Params,
        sort: Sequence[SortKey] | None = None,
    ) -> tuple[str, list[str]]:
        """FROM clause and WHERE terms; the value index may drive the query.

        ``sort`` is the search's order, None for a count (`filter_source` explains why
        the order matters).
        """
        params.values["tenant"] = tenant
        where = ["t.tenant = :tenant"]
        checked = check_namespaces(namespaces)
        if checked is not None:
            marks = ", ".join(params.add(ns) for ns in checked) or "NULL"
            where.append(f"t.namespace IN ({marks})")
        source = "twins t"
        if filter is not None:
            with _mapped():
                reader = self._reader()
                source, condition = filter_source(reader, filter, params, utc_now(), sort)
            where.append(condition)
        return source, where

    def search(
        self,
        tenant: TenantId,
        filter: Node | None = None,
        sort: Sequence[SortKey] = (),
        size: int = 25,
        cursor: str | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> SearchPage:
        check_size(size)
        params = sqlite_params()
        source, where = self._where(tenant, filter, namespaces, params, sort)
        atoms = sort_atoms(sort, params)
        query = fingerprint(
            "sqlite",
            tenant,
            to_rql(filter) if filter is not None else "",
            ",".join(str(k) for k in sort),
            "*" if namespaces is None else ",".join(namespaces),
        )
        if cursor is not None:
            last = decode_cursor(cursor, query, len(atoms))
            where.append(keyset_condition(atoms, last, params, _bind))
        selected = ", ".join(f"{a.sql} AS s{i}" for i, a in enumerate(atoms))
        sql = (
            f"SELECT t.thing_id, t.revision, t.created, t.modified, t.doc, {selected} "
            f"FROM {source} WHERE {' AND '.join(where)} "
            f"ORDER BY {order_by(atoms)} LIMIT {size + 1}"
        )
        rows = self._read(sql, params.values)
        items = [self._twin_row(tenant, row) for row in rows[:size]]
        next_cursor = None
        if len(rows) > size:
            next_cursor = encode_cursor(query, list(rows[size - 1][5:]))
        return SearchPage(items, next_cursor)

    def count(
        self,
        tenant: TenantId,
        filter: Node | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> int:
        params = sqlite_params()
        source, where = self._where(tenant, filter, namespaces, params)
        rows = self._read(
            f"SELECT count(*) FROM {source} WHERE {' AND '.join(where)}", params.values
        )
        return int(rows[0][0])

    # --- relationships ----------------------------------------------------------------

    # --- writes -----------------------------------------------------------------------

    def commit(self, tenant: TenantId, batch: WriteBatch) -> list[ChangeEvent]:
        with self._transaction() as cur:
            # Reserving the events' seq numbers first also proves the tenant exists.
            if batch.events:
                row = cur.execute(
                    "UPDATE tenants SET last_seq = last_seq + ? WHERE name = ? RETURNING last_seq",
                    (len(batch.events), tenant),
                ).fetchone()
            else:
                row = cur.execute("SELECT 0 FROM tenants WHERE name = ?", (tenant,)).fetchone()
            if row is None:
                raise TenantNotFound(tenant)
            self._apply_twins(cur, tenant, batch)
            self._apply_relationships(cur, tenant, batch)
            events = self._append(cur, tenant, batch, row[0])
            # Acknowledged outbox rows go with this commit: no transaction of their own.
            acked = self._delete_acked(cur)
        self._acked.forget(acked)
        if events or batch.outbox:
            self._notify()
        return events

    @staticmethod
    def _apply_twins(cur: sqlite3.Cursor, tenant: TenantId, batch: WriteBatch) -> None:
        for put in batch.twin_puts:
            record = put.record
            check_tenant(tenant, record.tenant, "twin")
            row = cur.execute(
                "SELECT revision, doc FROM twins WHERE tenant = ? AND thing_id = ?",
                (tenant, record.thing_id),
            ).fetchone()
            current = row[0] if row else 0
            if put.expected_revision is not None and put.expected_revision != current:
                raise RevisionMismatch("thing", record.thing_id, put.expected_revision, current)
            # The value index, by diff against the stored document.
            update_twin(cur, tenant, record.thing_id, row[1] if row else None, record.doc)
            doc = dump_json(record.doc)
            created, modified = format_time(record.created), format_time(record.modified)
            if row is None:
                # A new life of this id: revisions of an earlier, deleted twin go.
                cur.execute(
                    "DELETE FROM revisions WHERE tenant = ? AND thing_id = ?",
                    (tenant, record.thing_id),
                )
                cur.execute(
                    "INSERT INTO twins (tenant, thing_id, namespace, revision, created, "
                    "modified, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        tenant,
                        record.thing_id,
                        record.thing_id.namespace,
                        record.revision,
                        created,
                        modified,
                        doc,
                    ),
                )
            else:
                cur.execute(
                    "UPDATE twins SET revision = ?, created = ?, modified = ?, doc = ? "
                    "WHERE tenant = ? AND thing_id = ?",
                    (record.revision, created, modified, doc, tenant, record.thing_id),
                )
            cur.execute(
                "INSERT OR REPLACE INTO revisions (tenant, thing_id, revision, created, "
                "modified, doc) VALUES (?, ?, ?, ?, ?, ?)",
                (tenant, record.thing_id, record.revision, created, modified, doc),
            )
        for delete in batch.twin_deletes:
            row = cur.execute(
                "SELECT revision, created, doc FROM twins WHERE tenant = ? AND thing_id = ?",
                (tenant, delete.thing_id),
            ).fetchone()
            if row is None:
                if delete.expected_revision is None:
                    raise ThingNotFound(delete.thing_id)
                raise RevisionMismatch("thing", delete.thing_id, delete.expected_revision, 0)
            if delete.expected_revision is not None and delete.expected_revision != row[0]:
                raise RevisionMismatch("thing", delete.thing_id, delete.expected_revision, row[0])
            update_twin(cur, tenant, delete.thing_id, row[2], None)
            cur.execute(
                "DELETE FROM twins WHERE tenant = ? AND thing_id = ?", (tenant, delete.thing_id)
            )
            if delete.at is not None:
                cur.execute(
                    "INSERT OR REPLACE INTO revisions (tenant, thing_id, revision, created, "
                    "modified, doc) VALUES (?, ?, ?, ?, ?, NULL)",
                    (tenant, delete.thing_id, row[0] + 1, row[1], format_time(delete.at)),
                )

    @staticmethod
    def _apply_relationships(cur: sqlite3.Cursor, tenant: TenantId, batch: WriteBatch) -> None:
        for put in batch.relationship_puts:
            record = put.record
            check_tenant(tenant, record.tenant, "relationship")
            row = cur.execute(
                "SELECT revision FROM relationships WHERE tenant = ? AND id = ?",
                (tenant, record.id),
            ).fetchone()
            current = row[0] if row else 0
            if put.expected_revision is not None and put.expected_revision != current:
                raise RevisionMismatch("relationship", record.id, put.expected_revision, current)
            cur.execute(
                "INSERT OR REPLACE INTO relationships (tenant, id, source, target, type, "
                "properties, revision, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    record.id,
                    record.source,
                    record.target,
                    record.type,
                    dump_json(record.properties),
                    record.revision,
                    format_time(record.created),
                    format_time(record.modified),
                ),
            )
        for delete in batch.relationship_deletes:
            row = cur.execute(
                "SELECT revision FROM relationships WHERE tenant = ? AND id = ?",
                (tenant, delete.relationship_id),
            ).fetchone()
            if row is None:
                if delete.expected_revision is None:
                    raise RelationshipNotFound(delete.relationship_id)
                raise RevisionMismatch(
                    "relationship", delete.relationship_id, delete.expected_revision, 0
                )
            if delete.expected_revision is not None and delete.expected_revision != row[0]:
                raise RevisionMismatch(
                    "relationship", delete.relationship_id, delete.expected_revision, row[0]
                )
            cur.execute(
                "DELETE FROM relationships WHERE tenant = ? AND id = ?",
                (tenant, delete.relationship_id),
            )

    @staticmethod
    def _append(
        cur: sqlite3.Cursor, tenant: TenantId, batch: WriteBatch, last: int
    ) -> list[ChangeEvent]:
        """Events (``last``: the seq reserved for the last one), history and outbox."""
        events: list[ChangeEvent] = []
        if batch.events:
            first = last - len(batch.events) + 1
            for offset, event in enumerate(batch.events):
                events.append(
                    ChangeEvent(
                        tenant=tenant,
                        kind=event.kind,
                        action=event.action,
                        entity_id=event.entity_id,
                        path=event.path,
                        value=event.value,
                        revision=event.revision,
                        timestamp=event.timestamp,
                        seq=first + offset,
                    )
                )
            cur.executemany(
                "INSERT INTO events (tenant, seq, kind, action, entity_id, path, value, "
                "revision, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        tenant,
                        e.seq,
                        e.kind,
                        e.action,
                        e.entity_id,
                        e.path,
                        dump_json(e.value),
                        e.revision,
                        format_time(e.timestamp),
                    )
                    for e in events
                ],
            )
        if batch.history:
            for point in batch.history:
                check_tenant(tenant, point.tenant, "history point")
            cur.executemany(
                "INSERT OR REPLACE INTO history (tenant, thing_id, path, t, value, num, revision) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        tenant,
                        p.thing_id,
                        p.path,
                        to_micros(p.time),
                        dump_json(p.value),
                        history_number(p.value),
                        p.revision,
                    )
                    for p in batch.history
                ],
            )
        if batch.outbox:
            for entry in batch.outbox:
                check_tenant(tenant, entry.tenant, "outbox entry")
            cur.executemany(
                "INSERT INTO outbox (tenant, kind, entity_id, old_doc, new_doc) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        tenant,
                        o.kind,
                        o.entity_id,
                        None if o.old_doc is None else dump_json(o.old_doc),
                        None if o.new_doc is None else dump_json(o.new_doc),
                    )
                    for o in batch.outbox
                ],
            )
        return events

    # --- events -----------------------------------------------------------------------

    def _notify(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait_for_events(
        self, tenant: TenantId, after_seq: int, timeout: float, limit: int = 1000
    ) -> list[ChangeEvent]:
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                generation = self._generation
            events = self.read_events(tenant, after_seq, limit)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0 or self._closed:
                return events
            with self._changed:
                if self._generation == generation:
                    # Woken at once by commits of this process; the poll interval bounds
                    # the delay for commits of other processes sharing the file.
                    self._changed.wait(min(remaining, self.poll_interval))

    # --- outbox -----------------------------------------------------------------------

    def pending_outbox(self, limit: int = 100) -> list[OutboxEntry]:
        hidden = self._acked.hidden()
        # Acknowledged rows not deleted yet are skipped in SQL, on their ids alone: reading
        # them (documents and all) and dropping them here cost the projector up to 1,024
        # rows per page.
        if hidden:
            rows = self._read(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox "
                "WHERE id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?",
                (orjson.dumps(list(hidden)).decode(), limit),
            )
        else:
            rows = self._read(f"SELECT {_OUTBOX_COLUMNS} FROM outbox ORDER BY id LIMIT ?", (limit,))
        return [
            OutboxEntry(
                row[0],
                TenantId.trusted(row[1]),
                row[2],
                row[3],
                load_json(row[4]),
                load_json(row[5]),
            )
            for row in rows
        ]

    def ack_outbox(self, ids: Sequence[int]) -> None:
        """Mark entries applied; their rows are deleted with the next commit (or on close).

        Until then they stay in the file but not in `pending_outbox`; a crash before the
        delete leaves them to the start-up replay, which re-applies them in order.
        """
        if ids and self._acked.add(ids):
            self._flush_acks()

    def _flush_acks(self) -> None:
        """Delete the acknowledged rows in a transaction of their own."""
        with self._transaction() as cur:
            acked = self._delete_acked(cur)
        self._acked.forget(acked)

    def _delete_acked(self, cur: sqlite3.Cursor) -> list[int]:
        """Inside a write transaction: delete the rows of acknowledged ids."""
        acked = self._acked.take()
        if acked:
            cur.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in acked])
        return acked

    # --- history ----------------------------------------------------------------------

    def history(
        self,
        tenant: TenantId,
        thing_id: ThingId,
        path: str | None,
        start: datetime,
        end: datetime,
        limit: int = 10_000,
    ) -> list[HistoryPoint]:
        source, args = self._history_source(
            tenant, thing_id, path, start, end, "path, t, value, revision"
        )
        rows = self._read(
            f"SELECT path, t, value, revision FROM {source} ORDER BY t, path LIMIT ?",
            (*args, limit),
        )
        return [
            HistoryPoint(TenantId.trusted(tenant), thing_id, p, from_micros(t), load_json(v), r)
            for p, t, v, r in rows
        ]

    @staticmethod
    def _history_source(
        tenant: str,
        thing_id: str,
        path: str | None,
        start: datetime,
        end: datetime,
        columns: str,
    ) -> tuple[str, list[Any]]:
        """A sub-select of history rows of one twin, a path (and below it) and a window.

        The exact path and its descendants are two index range scans joined by UNION ALL:
        an OR of the two would stop SQLite using the primary key past ``thing_id`` and read
        every row of the twin (0.7 s for a week of 1 Hz points, against 3 ms).
        """
        base, args = _HISTORY_WINDOW, _window_args(tenant, thing_id, start, end)
        if path is None or not path.strip("/"):
            return f"(SELECT {columns} FROM history WHERE {base})", args
        exact, lo, hi = path_bounds(path)
        return (
            f"(SELECT {columns} FROM history WHERE {base} AND path = ? UNION ALL "
            f"SELECT {columns} FROM history WHERE {base} AND path >= ? AND path < ?)",
            [*args, exact, *args, lo, hi],
        )

    def history_buckets(
        self,
        tenant: TenantId,
        thing_id: ThingId,
        path: str | None,
        start: datetime,
        end: datetime,
        bucket_seconds: float,
    ) -> list[HistoryBucket]:
        bucket = max(1, round(bucket_seconds * 1_000_000))
        origin = to_micros(start)
        # Each index range is aggregated on its own, then the two small results are
        # joined: grouping the UNION ALL of raw rows sorted every point again (2.3x slower
        # for a day of 1 Hz points). The exact path's rows need no grouping by path.
        base, window = _HISTORY_WINDOW, _window_args(tenant, thing_id, start, end)
        head = "(t - ?) / ? AS b, count(*), min(num), max(num), avg(num) FROM history"
        if path is None or not path.strip("/"):
            sql = f"SELECT path, {head} WHERE {base} GROUP BY path, b ORDER BY path, b"
            params: list[Any] = [origin, bucket, *window]
        else:
            exact, lo, hi = path_bounds(path)
            sql = (
                f"SELECT * FROM (SELECT ? AS path, {head} WHERE {base} AND path = ? GROUP BY b "
                f"UNION ALL SELECT path, {head} WHERE {base} AND path >= ? AND path < ? "
                f"GROUP BY path, b) ORDER BY path, b"
            )
            params = [exact, origin, bucket, *window, exact, origin, bucket, *window, lo, hi]
        rows = self._read(sql, params)
        return [
            HistoryBucket(p, from_micros(origin + b * bucket), n, lo, hi, mean)
            for p, b, n, lo, hi, mean in rows
        ]

    def rebuild_search_index(self) -> int:
        with self._transaction() as cur:
            return rebuild(cur)

    def prune(self, older_than: datetime) -> int:
        cutoff_text, cutoff_us = format_time(older_than), to_micros(older_than)
        with self._transaction() as cur:
            removed = cur.execute("DELETE FROM history WHERE t < ?", (cutoff_us,)).rowcount
            removed += cur.execute("DELETE FROM events WHERE ts < ?", (cutoff_text,)).rowcount
            removed += cur.execute(
                "DELETE FROM revisions WHERE modified < ? AND revision < COALESCE(("
                "SELECT w.revision FROM twins w WHERE w.tenant = revisions.tenant "
                "AND w.thing_id = revisions.thing_id), 9223372036854775807)",
                (cutoff_text,),
            ).rowcount
        return removed


def _bind(atom: SortAtom, value: Any, params: Params) -> str:
    return params.add(value)
