"""The reads that both SQL stores spell alike, written once.

SQLite and PostgreSQL differ here in two things only: placeholders (``?`` against
``%s``) and how a JSON column arrives (text to decode against an already decoded
``jsonb`` value). `SqlReads` takes both from the store (`SqlReads.PARAM`,
`SqlReads._json`) and holds the queries and row decoders that are otherwise the same.
Writes, searches and history stay in each store: their SQL differs in substance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

from server.core.errors import SearchOptionInvalid
from server.core.ids import RelationshipId, TenantId, ThingId
from server.core.stores.base import RelationshipPage
from server.core.stores.cursor import decode_cursor, encode_cursor, fingerprint
from server.core.stores.encoding import parse_time
from server.core.stores.records import (
    ChangeEvent,
    RelationshipRecord,
    TenantRecord,
    TwinRecord,
    format_time,
)

__all__ = ["EVENT_COLUMNS", "REL_COLUMNS", "TWIN_COLUMNS", "SqlReads"]

TWIN_COLUMNS = "thing_id, revision, created, modified, doc"
REL_COLUMNS = "id, source, target, type, properties, revision, created, modified"
EVENT_COLUMNS = "seq, kind, action, entity_id, path, value, revision, ts"


@lru_cache(maxsize=256)
def _placeholders(sql: str, param: str) -> str:
    # Only for the statements below, which hold no other question mark.
    return sql.replace("?", param)


class SqlReads:
    """Point reads, relationship lists and the event log of a SQL `TwinStore`."""

    #: The driver's placeholder: ``?`` (sqlite3) or ``%s`` (psycopg).
    PARAM: ClassVar[str] = "?"

    def _read(self, sql: str, params: Any = ()) -> list[Any]:
        raise NotImplementedError

    @staticmethod
    def _json(value: Any) -> Any:
        """A JSON column's value as Python data (the driver may have decoded it)."""
        return value

    def _rows_by_ids(self, select: str, column: str, tenant: str, ids: Sequence[str]) -> list[Any]:
        """The rows of ``select`` (no WHERE) of ``tenant`` whose ``column`` is one of the
        distinct ``ids``: how many ids one statement may bind differs per database."""
        raise NotImplementedError

    def _query(self, sql: str, params: Any = ()) -> list[Any]:
        """`_read` of a statement written with ``?`` placeholders."""
        if self.PARAM != "?":
            sql = _placeholders(sql, self.PARAM)
        return self._read(sql, params)

    # --- row decoders ------------------------------------------------------------------

    def _twin_row(self, tenant: str, row: Sequence[Any]) -> TwinRecord:
        """Decode `TWIN_COLUMNS`."""
        return TwinRecord(
            tenant=TenantId.trusted(tenant),
            thing_id=ThingId.trusted(row[0]),
            revision=row[1],
            created=parse_time(row[2]),
            modified=parse_time(row[3]),
            doc=self._json(row[4]),
        )

    def _relationship_row(self, tenant: str, row: Sequence[Any]) -> RelationshipRecord:
        """Decode `REL_COLUMNS`."""
        return RelationshipRecord(
            tenant=TenantId.trusted(tenant),
            id=RelationshipId.trusted(row[0]),
            source=ThingId.trusted(row[1]),
            target=ThingId.trusted(row[2]),
            type=row[3],
            properties=self._json(row[4]),
            revision=row[5],
            created=parse_time(row[6]),
            modified=parse_time(row[7]),
        )

    def _event_row(self, tenant: str, row: Sequence[Any]) -> ChangeEvent:
        """Decode `EVENT_COLUMNS`."""
        return ChangeEvent(
            tenant=TenantId.trusted(tenant),
            seq=row[0],
            kind=row[1],
            action=row[2],
            entity_id=row[3],
            path=row[4],
            value=self._json(row[5]),
            revision=row[6],
            timestamp=parse_time(row[7]),
        )

    # --- tenants -----------------------------------------------------------------------

    def get_tenant(self, tenant: TenantId) -> TenantRecord | None:
        rows = self._query(
            "SELECT name, api_key_hash, created FROM tenants WHERE name = ?", (tenant,)
        )
        if not rows:
            return None
        name, key_hash, created = rows[0]
        return TenantRecord(TenantId.trusted(name), key_hash, parse_time(created))

    def list_tenants(self) -> list[TenantRecord]:
        rows = self._query("SELECT name, api_key_hash, created FROM tenants ORDER BY name")
        return [TenantRecord(TenantId.trusted(n), h, parse_time(c)) for n, h, c in rows]

    # --- twins -------------------------------------------------------------------------

    def get_twin(self, tenant: TenantId, thing_id: ThingId) -> TwinRecord | None:
        rows = self._query(
            f"SELECT {TWIN_COLUMNS} FROM twins WHERE tenant = ? AND thing_id = ?",
            (tenant, thing_id),
        )
        return self._twin_row(tenant, rows[0]) if rows else None

    def get_twins(self, tenant: TenantId, thing_ids: Sequence[ThingId]) -> list[TwinRecord]:
        rows = self._rows_by_ids(f"SELECT {TWIN_COLUMNS} FROM twins", "thing_id", tenant, thing_ids)
        found = {row[0]: self._twin_row(tenant, row) for row in rows}
        return [found[i] for i in thing_ids if i in found]

    def get_twin_at_revision(
        self, tenant: TenantId, thing_id: ThingId, revision: int
    ) -> TwinRecord | None:
        rows = self._query(
            f"SELECT {TWIN_COLUMNS} FROM revisions "
            "WHERE tenant = ? AND thing_id = ? AND revision = ? AND doc IS NOT NULL",
            (tenant, thing_id, revision),
        )
        return self._twin_row(tenant, rows[0]) if rows else None

    def get_twin_as_of(
        self, tenant: TenantId, thing_id: ThingId, time: datetime
    ) -> TwinRecord | None:
        rows = self._query(
            f"SELECT {TWIN_COLUMNS} FROM revisions "
            "WHERE tenant = ? AND thing_id = ? AND modified <= ? "
            "ORDER BY revision DESC LIMIT 1",
            (tenant, thing_id, format_time(time)),
        )
        if not rows or rows[0][4] is None:
            return None
        return self._twin_row(tenant, rows[0])

    # --- relationships -----------------------------------------------------------------

    def get_relationship(
        self, tenant: TenantId, relationship_id: RelationshipId
    ) -> RelationshipRecord | None:
        rows = self._query(
            f"SELECT {REL_COLUMNS} FROM relationships WHERE tenant = ? AND id = ?",
            (tenant, relationship_id),
        )
        return self._relationship_row(tenant, rows[0]) if rows else None

    def get_relationships(
        self, tenant: TenantId, relationship_ids: Sequence[RelationshipId]
    ) -> list[RelationshipRecord]:
        rows = self._rows_by_ids(
            f"SELECT {REL_COLUMNS} FROM relationships", "id", tenant, relationship_ids
        )
        found = {row[0]: self._relationship_row(tenant, row) for row in rows}
        return [found[i] for i in relationship_ids if i in found]

    def list_relationships(
        self,
        tenant: TenantId,
        *,
        source: ThingId | None = None,
        target: ThingId | None = None,
        type: str | None = None,
        size: int = 25,
        cursor: str | None = None,
    ) -> RelationshipPage:
        if isinstance(size, bool) or not 1 <= size <= 1000:
            raise SearchOptionInvalid(f"size({size}) is not within 1..1000.")
        where = ["tenant = ?"]
        args: list[Any] = [tenant]
        for column, value in (("source", source), ("target", target), ("type", type)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        query = fingerprint("relationships", tenant, str(source), str(target), str(type))
        if cursor is not None:
            (last,) = decode_cursor(cursor, query, 1)
            where.append("id > ?")
            args.append(last)
        rows = self._query(
            f"SELECT {REL_COLUMNS} FROM relationships WHERE {' AND '.join(where)} "
            f"ORDER BY id LIMIT {size + 1}",
            args,
        )
        items = [self._relationship_row(tenant, row) for row in rows[:size]]
        next_cursor = encode_cursor(query, [rows[size - 1][0]]) if len(rows) > size else None
        return items, next_cursor

    def relationships_touching(
        self, tenant: TenantId, thing_id: ThingId
    ) -> list[RelationshipRecord]:
        rows = self._query(
            f"SELECT {REL_COLUMNS} FROM relationships WHERE tenant = ? AND source = ? "
            f"UNION SELECT {REL_COLUMNS} FROM relationships "
            "WHERE tenant = ? AND target = ? ORDER BY id",
            (tenant, thing_id, tenant, thing_id),
        )
        return [self._relationship_row(tenant, row) for row in rows]

    # --- change events -----------------------------------------------------------------

    def read_events(
        self, tenant: TenantId, after_seq: int = 0, limit: int = 1000
    ) -> list[ChangeEvent]:
        rows = self._query(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?",
            (tenant, after_seq, limit),
        )
        return [self._event_row(tenant, row) for row in rows]

    def last_seq(self, tenant: TenantId) -> int:
        rows = self._query("SELECT last_seq FROM tenants WHERE name = ?", (tenant,))
        return int(rows[0][0]) if rows else 0
