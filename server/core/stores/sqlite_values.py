"""Keeping the SQLite store's value index (``twin_values``) in step with ``twins``.

What the index holds and how searches use it is `server.core.rql.sqlite_index`. Every
twin write calls `update_twin` inside the write's own transaction, with the document it
read for its revision check, *before* it changes the ``twins`` row, so the index is never
behind the documents a reader can see (WAL readers see both tables at one snapshot).
Only rows that differ between the stored and the new document are deleted or inserted: a
one-leaf modify costs one delete and one insert, not a rewrite of the twin's rows.

`ensure_index` is the migration: a database written before the index existed gets the
table, filled from ``twins``, the first time a store opens it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from server.core.rql.ast import Node, SortKey
from server.core.rql.sql import Params
from server.core.rql.sqlite import compile_filter
from server.core.rql.sqlite_index import (
    TABLE,
    TABLE_SQL,
    IndexRow,
    diff_rows,
    doc_rows,
    split_filter,
)

__all__ = ["PROBE_LIMIT", "ensure_index", "filter_source", "rebuild", "update_twin"]

PROBE_LIMIT = 1000
"""Index rows of a term above which it counts as broad (see `filter_source`)."""

_INSERT = f"INSERT OR IGNORE INTO {TABLE} (tenant, path, kind, value, fid, thing_id) VALUES "
_DELETE = (
    f"DELETE FROM {TABLE} WHERE tenant = ? AND path = ? AND kind = ? AND value = ? "
    "AND fid = ? AND thing_id = ?"
)


_CHUNK = 64
"""Rows per multi-row INSERT: one statement per twin on create (executemany steps once per
row), and few distinct statement texts for sqlite3's statement cache."""


def _insert(cur: sqlite3.Cursor, tenant: str, thing_id: str, rows: Iterable[IndexRow]) -> None:
    values = [(tenant, path, kind, value, fid, thing_id) for path, kind, value, fid in rows]
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        cur.execute(
            _INSERT + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk)),
            [field for row in chunk for field in row],
        )


def update_twin(
    cur: sqlite3.Cursor,
    tenant: str,
    thing_id: str,
    stored: str | None,
    doc: dict[str, Any] | None,
) -> None:
    """Make the index rows of one twin those of ``doc`` (None: the twin is deleted).

    ``stored`` is the document text the ``twins`` row holds now (None: no row), which the
    write has just read with its revision check; its rows are the ones to replace.
    """
    gone, added = diff_rows(orjson.loads(stored) if stored is not None else None, doc)
    # A modify usually changes one leaf: a plain execute per row beats executemany's
    # set-up; a delete of a whole twin is rare enough not to matter.
    for path, kind, value, fid in gone:
        cur.execute(_DELETE, (tenant, path, kind, value, fid, thing_id))
    if added:
        _insert(cur, tenant, thing_id, added)


def rebuild(conn: sqlite3.Connection | sqlite3.Cursor, batch: int = 2000) -> int:
    """Refill the whole index from ``twins`` (inside the caller's transaction).

    Returns the number of rows written. Rows are inserted in key order, which keeps
    the b-tree appends sequential on large databases.
    """
    conn.execute(f"DELETE FROM {TABLE}")
    written = 0
    pending: list[tuple[Any, ...]] = []
    reader = conn.execute("SELECT tenant, thing_id, doc FROM twins")
    while chunk := reader.fetchmany(batch):
        for tenant, thing_id, text in chunk:
            pending.extend(
                (tenant, path, kind, value, fid, thing_id)
                for path, kind, value, fid in doc_rows(orjson.loads(text))
            )
        if len(pending) >= 50_000:
            written += _flush(conn, pending)
    return written + _flush(conn, pending)


def _flush(conn: sqlite3.Connection | sqlite3.Cursor, pending: list[tuple[Any, ...]]) -> int:
    # Tuples order like the primary key; values only meet values of their own kind.
    pending.sort()
    conn.executemany(_INSERT + "(?, ?, ?, ?, ?, ?)", pending)
    count = len(pending)
    pending.clear()
    return count


def _has_table(conn: sqlite3.Connection) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
    ).fetchone()
    return found is not None


def ensure_index(conn: sqlite3.Connection) -> bool:
    """Create and fill the index if the database has none; True if it did.

    ``conn`` is in autocommit mode (the store's writer); the check is repeated under
    ``BEGIN IMMEDIATE`` so two processes opening one file build it once.
    """
    if _has_table(conn):
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _has_table(conn):
            conn.execute("COMMIT")
            return False
        conn.execute(TABLE_SQL)
        rebuild(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def filter_source(
    conn: sqlite3.Connection,
    node: Node,
    params: Params,
    now: datetime,
    sort: Sequence[SortKey] | None,
) -> tuple[str, str]:
    """The FROM clause (alias ``t`` for twins) and WHERE condition of a filtered search.

    ``params`` must bind ``tenant``. When the index serves part of the filter, its
    candidates drive the query (``CROSS JOIN`` keeps them the outer loop) and only the
    rest of the filter is evaluated on their documents. A bounded count per served
    term (at most `PROBE_LIMIT` index rows each) picks the terms that narrow: a broad
    term is cheaper to check on the few candidates of a narrow one than to intersect.
    When every term is broad and the order is thing id (``sort`` empty or on
    ``thingId`` only; None for a count), SQLite walks the twins in index order and
    stops after one page instead, which beats joining many candidates.
    """
    terms = split_filter(node, params, now, ":tenant")
    if terms is None:
        return "twins t", compile_filter(node, params, now)
    id_order = sort is not None and all(k.prop.root == "thingId" for k in sort)
    use: list[int] | None = None
    if len(terms.served) > 1 or id_order:
        narrow = [i for i in range(len(terms.served)) if _few(conn, terms.term_sql(i), params)]
        if narrow:
            use = narrow
        elif id_order:
            return "twins t", compile_filter(node, params, now)
    plan = terms.plan(use)
    return (
        f"({plan.candidates}) AS m CROSS JOIN twins t "
        "ON t.tenant = :tenant AND t.thing_id = m.thing_id",
        plan.condition,
    )


def _few(conn: sqlite3.Connection, term: str, params: Params) -> bool:
    """Whether a served term has at most `PROBE_LIMIT` index rows."""
    found = conn.execute(
        f"SELECT count(*) FROM (SELECT thing_id FROM ({term}) LIMIT {PROBE_LIMIT + 1})",
        params.values,
    ).fetchone()[0]
    return bool(found <= PROBE_LIMIT)
