"""The scale-out document store: PostgreSQL through psycopg 3 and a connection pool.

Documents are ``jsonb`` with a GIN ``jsonb_path_ops`` index that serves the compiled RQL
(`server.core.rql.postgres`); ``(tenant, thing_id)`` is the primary key, which keyset
pagination walks. The schema is created on open under an advisory lock and recorded in
``ndtwin_schema`` (idempotent migrations).

Change events: `commit` takes the tenant's sequence row last, so transactions of one
tenant commit in ``seq`` order, and sends ``NOTIFY ndtwin_events`` inside the transaction
(delivered at commit). `wait_for_events` listens on a dedicated connection, so a writer in
any other process sharing the database wakes it.

Durability: PostgreSQL acknowledges a commit after its WAL record is flushed
(``synchronous_commit = on``, the default), so a killed client or server loses nothing
acknowledged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import psycopg
import psycopg_pool
from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads

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
from server.core.rql.postgres import compile_filter, postgres_params, sort_atoms
from server.core.rql.sql import Params, SortAtom, keyset_condition, order_by
from server.core.stores.base import AckedOutbox, TwinStore
from server.core.stores.cursor import decode_cursor, encode_cursor, fingerprint
from server.core.stores.encoding import (
    check_namespaces,
    check_size,
    check_tenant,
    from_micros,
    history_number,
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

__all__ = ["CHANNEL", "PostgresTwinStore"]

CHANNEL = "ndtwin_events"
"""The LISTEN/NOTIFY channel; the payload is the tenant name."""

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tenants (
        name text COLLATE "C" PRIMARY KEY,
        api_key_hash text NOT NULL,
        created text COLLATE "C" NOT NULL,
        last_seq bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE twins (
        tenant text COLLATE "C" NOT NULL,
        thing_id text COLLATE "C" NOT NULL,
        namespace text COLLATE "C" NOT NULL,
        revision bigint NOT NULL,
        created text COLLATE "C" NOT NULL,
        modified text COLLATE "C" NOT NULL,
        doc jsonb NOT NULL,
        PRIMARY KEY (tenant, thing_id)
    );
    CREATE INDEX twins_doc ON twins USING gin (doc jsonb_path_ops);
    CREATE TABLE revisions (
        tenant text COLLATE "C" NOT NULL,
        thing_id text COLLATE "C" NOT NULL,
        revision bigint NOT NULL,
        created text COLLATE "C" NOT NULL,
        modified text COLLATE "C" NOT NULL,
        doc jsonb,
        PRIMARY KEY (tenant, thing_id, revision)
    );
    CREATE TABLE relationships (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        type text COLLATE "C" NOT NULL,
        properties jsonb NOT NULL,
        revision bigint NOT NULL,
        created text COLLATE "C" NOT NULL,
        modified text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, id)
    );
    CREATE INDEX relationships_source ON relationships (tenant, source, id);
    CREATE INDEX relationships_target ON relationships (tenant, target, id);
    CREATE INDEX relationships_type ON relationships (tenant, type, id);
    CREATE TABLE events (
        tenant text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        kind text NOT NULL,
        action text NOT NULL,
        entity_id text COLLATE "C" NOT NULL,
        path text COLLATE "C" NOT NULL,
        value jsonb NOT NULL,
        revision bigint NOT NULL,
        ts text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, seq)
    );
    CREATE INDEX events_ts ON events (ts);
    CREATE TABLE history (
        tenant text COLLATE "C" NOT NULL,
        thing_id text COLLATE "C" NOT NULL,
        path text COLLATE "C" NOT NULL,
        t bigint NOT NULL,
        value jsonb NOT NULL,
        num double precision,
        revision bigint NOT NULL
    );
    CREATE INDEX history_lookup ON history (tenant, thing_id, path, t);
    CREATE INDEX history_t ON history (t);
    CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL,
        kind text NOT NULL,
        entity_id text COLLATE "C" NOT NULL,
        old_doc jsonb,
        new_doc jsonb
    );
    """,
)

_TENANT_TABLES = ("twins", "revisions", "relationships", "events", "history", "outbox")
#: Acknowledged outbox ids are deleted with the next commit; this many without one are
#: deleted in a transaction of their own.
_ACK_FLUSH = 1024
#: Every write deletes an outbox row, and the projector's ``ORDER BY id`` scan walks the
#: dead index entries from the left until a vacuum removes them; autovacuum may wait a
#: minute, so the store vacuums the (small) table itself after this many deletes.
_VACUUM_EVERY = 2000


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Per-connection setup: orjson for json/jsonb both ways."""
    set_json_loads(orjson.loads, conn)
    set_json_dumps(_dumps, conn)


def _bind(atom: SortAtom, value: Any, params: Params) -> str:
    """Bind a cursor value with the type its atom has in SQL."""
    if atom.kind == "num":
        return f"{params.add(str(value))}::numeric"
    if atom.kind == "int":
        return f"{params.add(int(value))}::bigint"
    return f'({params.add(str(value))}::text COLLATE "C")'


def _cursor_value(value: Any) -> Any:
    """Make a sort value JSON-safe for the cursor (numeric arrives as Decimal)."""
    return str(value) if isinstance(value, Decimal) else value


@contextmanager
def _mapped() -> Iterator[None]:
    """Map psycopg errors to `StoreUnavailable` at the store's border (cause chained)."""
    try:
        yield
    except NdtError:
        raise
    except psycopg.Error as exc:
        raise StoreUnavailable(f"PostgreSQL store error: {exc}") from exc


class PostgresTwinStore(SqlReads, TwinStore):
    """`TwinStore` on PostgreSQL.

    Parameters
    ----------
    conninfo:
        A libpq URL or keyword string, e.g. ``postgresql://postgres@127.0.0.1/ndtwin``.
    min_size, max_size:
        Connection pool bounds.
    poll_interval:
        Safety re-read period of `wait_for_events` should a notification be missed (the
        listener reconnecting); notifications normally wake waiters at once.
    """

    PARAM = "%s"

    def __init__(
        self,
        conninfo: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        poll_interval: float = 1.0,
    ) -> None:
        self.conninfo = conninfo
        self.poll_interval = poll_interval
        self._pool = psycopg_pool.ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True},
            configure=_configure,
            open=False,
        )
        self._changed = threading.Condition()
        self._generation = 0
        self._closed = True
        self._listener: threading.Thread | None = None
        self._listener_lock = threading.Lock()
        self._listening = threading.Event()
        self._acked = AckedOutbox(_ACK_FLUSH)
        self._deleted = 0
        self._vacuum_lock = threading.Lock()
        self._vacuum: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"PostgresTwinStore({self.conninfo!r})"

    # --- lifecycle --------------------------------------------------------------------

    def open(self) -> None:
        """Open the pool and apply pending migrations."""
        with _mapped():
            self._pool.open(wait=True, timeout=30)
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('ndtwin_schema'))")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS ndtwin_schema (version int PRIMARY KEY, "
                    "applied timestamptz NOT NULL DEFAULT now())"
                )
                row = conn.execute("SELECT coalesce(max(version), 0) FROM ndtwin_schema")
                version = row.fetchone()[0]  # type: ignore[index]
                for number, script in enumerate(_MIGRATIONS, start=1):
                    if number > version:
                        conn.execute(script)
                        conn.execute("INSERT INTO ndtwin_schema (version) VALUES (%s)", (number,))
            self._closed = False

    def close(self) -> None:
        """Stop the listener, wake waiters and close the pool."""
        if not self._closed and self._acked:
            # On failure they stay pending: start-up re-applies them, harmlessly.
            with suppress(StoreUnavailable):
                self._flush_acks()
        self._closed = True
        vacuum = self._vacuum
        if vacuum is not None:
            vacuum.join(timeout=30)
        with self._changed:
            self._generation += 1
            self._changed.notify_all()
        listener = self._listener
        if listener is not None:
            listener.join(timeout=5)
        self._pool.close()

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        if self._closed:
            raise StoreUnavailable("The store is closed.")
        with _mapped(), self._pool.connection() as conn:
            yield conn

    def _read(self, sql: str, params: Any = None) -> list[Any]:
        with self._conn() as conn:
            return conn.execute(sql, params).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        with self._conn() as conn, conn.transaction():
            yield conn

    # --- tenants ----------------------------------------------------------------------

    def create_tenant(self, tenant: TenantId, api_key_hash: str, created: datetime) -> TenantRecord:
        try:
            with self._transaction() as conn:
                conn.execute(
                    "INSERT INTO tenants (name, api_key_hash, created) VALUES (%s, %s, %s)",
                    (tenant, api_key_hash, format_time(created)),
                )
        except StoreUnavailable as exc:
            if isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
                raise TenantConflict(tenant) from None
            raise
        return TenantRecord(tenant, api_key_hash, parse_time(format_time(created)))

    def delete_tenant(self, tenant: TenantId) -> None:
        with self._transaction() as conn:
            if conn.execute("DELETE FROM tenants WHERE name = %s", (tenant,)).rowcount == 0:
                raise TenantNotFound(tenant)
            for table in _TENANT_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE tenant = %s", (tenant,))
            conn.execute(
                "INSERT INTO outbox (tenant, kind, entity_id) VALUES (%s, 'tenant', %s)",
                (tenant, tenant),
            )

    # --- twins ------------------------------------------------------------------------

    def _rows_by_ids(self, select: str, column: str, tenant: str, ids: Sequence[str]) -> list[Any]:
        if not ids:
            return []
        # One array parameter, so no chunking is needed (unlike SQLite's IN list).
        return self._read(
            f"{select} WHERE tenant = %s AND {column} = ANY(%s)",
            (tenant, [str(i) for i in dict.fromkeys(ids)]),
        )

    @staticmethod
    def _where(
        tenant: TenantId,
        filter: Node | None,
        namespaces: Sequence[str] | None,
        params: Params,
    ) -> list[str]:
        params.values["tenant"] = tenant
        where = ["t.tenant = %(tenant)s"]
        checked = check_namespaces(namespaces)
        if checked is not None:
            where.append(f"t.namespace = ANY({params.add(checked)}::text[])")
        if filter is not None:
            where.append(compile_filter(filter, params, utc_now()))
        return where

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
        params = postgres_params()
        where = self._where(tenant, filter, namespaces, params)
        atoms = sort_atoms(sort, params)
        query = fingerprint(
            "postgres",
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
            f"FROM twins t WHERE {' AND '.join(where)} "
            f"ORDER BY {order_by(atoms)} LIMIT {size + 1}"
        )
        rows = self._read(sql, params.values)
        items = [self._twin_row(tenant, row) for row in rows[:size]]
        next_cursor = None
        if len(rows) > size:
            last_values = [_cursor_value(v) for v in rows[size - 1][5:]]
            next_cursor = encode_cursor(query, last_values)
        return SearchPage(items, next_cursor)

    def count(
        self,
        tenant: TenantId,
        filter: Node | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> int:
        params = postgres_params()
        where = self._where(tenant, filter, namespaces, params)
        rows = self._read(
            f"SELECT count(*) FROM twins t WHERE {' AND '.join(where)}", params.values
        )
        return int(rows[0][0])

    # --- relationships ----------------------------------------------------------------

    # --- writes -----------------------------------------------------------------------

    def commit(self, tenant: TenantId, batch: WriteBatch) -> list[ChangeEvent]:
        with self._transaction() as conn:
            row = conn.execute("SELECT 1 FROM tenants WHERE name = %s", (tenant,)).fetchone()
            if row is None:
                raise TenantNotFound(tenant)
            cur = conn.cursor()
            self._apply_twins(cur, tenant, batch)
            self._apply_relationships(cur, tenant, batch)
            events = self._append(cur, tenant, batch)
            # Acknowledged outbox rows go with this commit: no transaction (and no WAL
            # flush) of their own.
            acked = self._delete_acked(cur)
        self._deleted_acked(acked)
        if events:
            self._notify()
        return events

    @staticmethod
    def _apply_twins(cur: psycopg.Cursor[Any], tenant: TenantId, batch: WriteBatch) -> None:
        for put in batch.twin_puts:
            record = put.record
            check_tenant(tenant, record.tenant, "twin")
            created, modified = format_time(record.created), format_time(record.modified)
            doc = Jsonb(record.doc)
            while True:
                row = cur.execute(
                    "SELECT revision FROM twins WHERE tenant = %s AND thing_id = %s FOR UPDATE",
                    (tenant, record.thing_id),
                ).fetchone()
                current = row[0] if row else 0
                if put.expected_revision is not None and put.expected_revision != current:
                    raise RevisionMismatch("thing", record.thing_id, put.expected_revision, current)
                if row is not None:
                    cur.execute(
                        "UPDATE twins SET revision = %s, created = %s, modified = %s, doc = %s "
                        "WHERE tenant = %s AND thing_id = %s",
                        (record.revision, created, modified, doc, tenant, record.thing_id),
                    )
                    break
                cur.execute(
                    "DELETE FROM revisions WHERE tenant = %s AND thing_id = %s",
                    (tenant, record.thing_id),
                )
                cur.execute(
                    "INSERT INTO twins (tenant, thing_id, namespace, revision, created, "
                    "modified, doc) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (tenant, thing_id) DO NOTHING",
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
                if cur.rowcount == 1:
                    break
                # A concurrent transaction created the twin after our SELECT and has
                # committed: re-check against its revision.
            cur.execute(
                "INSERT INTO revisions (tenant, thing_id, revision, created, modified, doc) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant, thing_id, revision) "
                "DO UPDATE SET created = EXCLUDED.created, modified = EXCLUDED.modified, "
                "doc = EXCLUDED.doc",
                (tenant, record.thing_id, record.revision, created, modified, doc),
            )
        for delete in batch.twin_deletes:
            row = cur.execute(
                "SELECT revision, created FROM twins WHERE tenant = %s AND thing_id = %s "
                "FOR UPDATE",
                (tenant, delete.thing_id),
            ).fetchone()
            if row is None:
                if delete.expected_revision is None:
                    raise ThingNotFound(delete.thing_id)
                raise RevisionMismatch("thing", delete.thing_id, delete.expected_revision, 0)
            if delete.expected_revision is not None and delete.expected_revision != row[0]:
                raise RevisionMismatch("thing", delete.thing_id, delete.expected_revision, row[0])
            cur.execute(
                "DELETE FROM twins WHERE tenant = %s AND thing_id = %s",
                (tenant, delete.thing_id),
            )
            if delete.at is not None:
                cur.execute(
                    "INSERT INTO revisions (tenant, thing_id, revision, created, modified, doc) "
                    "VALUES (%s, %s, %s, %s, %s, NULL) ON CONFLICT (tenant, thing_id, revision) "
                    "DO UPDATE SET modified = EXCLUDED.modified, doc = NULL",
                    (tenant, delete.thing_id, row[0] + 1, row[1], format_time(delete.at)),
                )

    @staticmethod
    def _apply_relationships(cur: psycopg.Cursor[Any], tenant: TenantId, batch: WriteBatch) -> None:
        for put in batch.relationship_puts:
            record = put.record
            check_tenant(tenant, record.tenant, "relationship")
            values = (
                record.source,
                record.target,
                record.type,
                Jsonb(record.properties),
                record.revision,
                format_time(record.created),
                format_time(record.modified),
            )
            while True:
                row = cur.execute(
                    "SELECT revision FROM relationships WHERE tenant = %s AND id = %s FOR UPDATE",
                    (tenant, record.id),
                ).fetchone()
                current = row[0] if row else 0
                if put.expected_revision is not None and put.expected_revision != current:
                    raise RevisionMismatch(
                        "relationship", record.id, put.expected_revision, current
                    )
                if row is not None:
                    cur.execute(
                        "UPDATE relationships SET source = %s, target = %s, type = %s, "
                        "properties = %s, revision = %s, created = %s, modified = %s "
                        "WHERE tenant = %s AND id = %s",
                        (*values, tenant, record.id),
                    )
                    break
                cur.execute(
                    "INSERT INTO relationships (tenant, id, source, target, type, properties, "
                    "revision, created, modified) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (tenant, id) DO NOTHING",
                    (tenant, record.id, *values),
                )
                if cur.rowcount == 1:
                    break
        for delete in batch.relationship_deletes:
            row = cur.execute(
                "SELECT revision FROM relationships WHERE tenant = %s AND id = %s FOR UPDATE",
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
                "DELETE FROM relationships WHERE tenant = %s AND id = %s",
                (tenant, delete.relationship_id),
            )

    @staticmethod
    def _append(cur: psycopg.Cursor[Any], tenant: TenantId, batch: WriteBatch) -> list[ChangeEvent]:
        if batch.history:
            for point in batch.history:
                check_tenant(tenant, point.tenant, "history point")
            cur.executemany(
                "INSERT INTO history (tenant, thing_id, path, t, value, num, revision) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        tenant,
                        p.thing_id,
                        p.path,
                        to_micros(p.time),
                        Jsonb(p.value),
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
                "VALUES (%s, %s, %s, %s, %s)",
                [
                    (
                        tenant,
                        o.kind,
                        o.entity_id,
                        None if o.old_doc is None else Jsonb(o.old_doc),
                        None if o.new_doc is None else Jsonb(o.new_doc),
                    )
                    for o in batch.outbox
                ],
            )
        if not batch.events:
            return []
        # Taken last: the row lock orders this tenant's commits by seq while held briefly.
        row = cur.execute(
            "UPDATE tenants SET last_seq = last_seq + %s WHERE name = %s RETURNING last_seq",
            (len(batch.events), tenant),
        ).fetchone()
        assert row is not None
        first = row[0] - len(batch.events) + 1
        events = [
            ChangeEvent(
                tenant=tenant,
                kind=e.kind,
                action=e.action,
                entity_id=e.entity_id,
                path=e.path,
                value=e.value,
                revision=e.revision,
                timestamp=e.timestamp,
                seq=first + offset,
            )
            for offset, e in enumerate(batch.events)
        ]
        cur.executemany(
            "INSERT INTO events (tenant, seq, kind, action, entity_id, path, value, revision, "
            "ts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    tenant,
                    e.seq,
                    e.kind,
                    e.action,
                    e.entity_id,
                    e.path,
                    Jsonb(e.value),
                    e.revision,
                    format_time(e.timestamp),
                )
                for e in events
            ],
        )
        cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, tenant))
        return events

    # --- events -----------------------------------------------------------------------

    def _notify(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def _ensure_listener(self) -> None:
        with self._listener_lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listening.clear()
            thread = threading.Thread(target=self._listen, name="ndtwin-pg-listen", daemon=True)
            self._listener = thread
            thread.start()
        # LISTEN must be active before the caller's first read, or a commit in between
        # would go unnoticed until the fallback poll.
        self._listening.wait(timeout=10)

    def _listen(self) -> None:
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                self._listening.set()
                while not self._closed:
                    for _ in conn.notifies(timeout=0.5):
                        self._notify()
        except psycopg.Error:
            # Waiters fall back to polling; the next wait restarts the listener.
            self._listening.set()
            self._notify()

    def wait_for_events(
        self, tenant: TenantId, after_seq: int, timeout: float, limit: int = 1000
    ) -> list[ChangeEvent]:
        deadline = time.monotonic() + timeout
        self._ensure_listener()
        while True:
            with self._changed:
                generation = self._generation
            events = self.read_events(tenant, after_seq, limit)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0 or self._closed:
                return events
            with self._changed:
                if self._generation == generation:
                    # A notification (any tenant) or the safety poll ends the wait.
                    self._changed.wait(min(remaining, self.poll_interval))

    # --- outbox -----------------------------------------------------------------------

    def pending_outbox(self, limit: int = 100) -> list[OutboxEntry]:
        hidden = self._acked.hidden()
        # Acknowledged rows not deleted yet are skipped by the server, not read and dropped.
        rows = self._read(
            "SELECT id, tenant, kind, entity_id, old_doc, new_doc FROM outbox "
            "WHERE id <> ALL(%s) ORDER BY id LIMIT %s",
            (list(hidden), limit),
        )
        return [
            OutboxEntry(row[0], TenantId.trusted(row[1]), row[2], row[3], row[4], row[5])
            for row in rows
        ]

    def ack_outbox(self, ids: Sequence[int]) -> None:
        """Mark entries applied; their rows are deleted with the next commit (or on close).

        Ids come from a sequence, so they are never reused. Ids grow in the order rows are
        inserted, which two writers can commit the other way round, so the projector
        cannot read "past the last id"; hiding acknowledged ids needs no such order.
        """
        if ids and self._acked.add(ids):
            self._flush_acks()

    def _flush_acks(self) -> None:
        with self._transaction() as conn:
            acked = self._delete_acked(conn.cursor())
        self._deleted_acked(acked)

    def _delete_acked(self, cur: psycopg.Cursor[Any]) -> list[int]:
        """Inside a write transaction: delete the rows of acknowledged ids."""
        acked = self._acked.take()
        if acked:
            cur.execute("DELETE FROM outbox WHERE id = ANY(%s)", (acked,))
        return acked

    def _deleted_acked(self, ids: list[int]) -> None:
        """After the deleting transaction committed: forget the ids, vacuum when due."""
        if not ids:
            return
        self._acked.forget(ids)
        with self._vacuum_lock:
            self._deleted += len(ids)
            if self._deleted < _VACUUM_EVERY or self._vacuum is not None or self._closed:
                return
            self._deleted = 0
            self._vacuum = threading.Thread(
                target=self._vacuum_outbox, name="ndtwin-outbox-vacuum", daemon=True
            )
            self._vacuum.start()

    def _vacuum_outbox(self) -> None:
        """Remove dead outbox rows off the write path (VACUUM needs autocommit)."""
        try:
            with self._conn() as conn:
                conn.execute("VACUUM outbox")
        except StoreUnavailable:
            pass  # autovacuum catches up; the next round retries
        finally:
            with self._vacuum_lock:
                self._vacuum = None

    # --- history ----------------------------------------------------------------------

    @staticmethod
    def _history_where(
        tenant: str, thing_id: str, path: str | None, start: datetime, end: datetime
    ) -> tuple[str, list[Any]]:
        where = "tenant = %s AND thing_id = %s AND t >= %s AND t < %s"
        args: list[Any] = [tenant, thing_id, to_micros(start), to_micros(end)]
        if path is not None and path.strip("/"):
            exact, lo, hi = path_bounds(path)
            where += " AND (path = %s OR (path >= %s AND path < %s))"
            args += [exact, lo, hi]
        return where, args

    def history(
        self,
        tenant: TenantId,
        thing_id: ThingId,
        path: str | None,
        start: datetime,
        end: datetime,
        limit: int = 10_000,
    ) -> list[HistoryPoint]:
        where, args = self._history_where(tenant, thing_id, path, start, end)
        rows = self._read(
            f"SELECT path, t, value, revision FROM history WHERE {where} ORDER BY t, path LIMIT %s",
            (*args, limit),
        )
        return [
            HistoryPoint(TenantId.trusted(tenant), thing_id, p, from_micros(t), v, r)
            for p, t, v, r in rows
        ]

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
        where, args = self._history_where(tenant, thing_id, path, start, end)
        origin = to_micros(start)
        rows = self._read(
            "SELECT path, (t - %s) / %s AS b, count(*), min(num), max(num), avg(num) "
            f"FROM history WHERE {where} GROUP BY path, b ORDER BY path, b",
            (origin, bucket, *args),
        )
        return [
            HistoryBucket(p, from_micros(origin + int(b) * bucket), int(n), lo, hi, mean)
            for p, b, n, lo, hi, mean in rows
        ]

    def prune(self, older_than: datetime) -> int:
        cutoff_text, cutoff_us = format_time(older_than), to_micros(older_than)
        with self._transaction() as conn:
            removed = conn.execute("DELETE FROM history WHERE t < %s", (cutoff_us,)).rowcount
            removed += conn.execute("DELETE FROM events WHERE ts < %s", (cutoff_text,)).rowcount
            removed += conn.execute(
                "DELETE FROM revisions r WHERE r.modified < %s AND r.revision < COALESCE(("
                "SELECT w.revision FROM twins w WHERE w.tenant = r.tenant "
                "AND w.thing_id = r.thing_id), 9223372036854775807)",
                (cutoff_text,),
            ).rowcount
        return removed
