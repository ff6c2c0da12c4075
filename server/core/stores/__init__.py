"""Document stores: the `TwinStore` contract, its records, and the SQLite/PostgreSQL stores."""

from server.core.stores.base import RelationshipPage, TwinStore
from server.core.stores.records import (
    ChangeEvent,
    EntityKind,
    EventAction,
    HistoryBucket,
    HistoryPoint,
    OutboxEntry,
    RelationshipDelete,
    RelationshipPut,
    RelationshipRecord,
    SearchPage,
    TenantRecord,
    TwinDelete,
    TwinPut,
    TwinRecord,
    WriteBatch,
    format_time,
    utc_now,
)

__all__ = [
    "ChangeEvent",
    "EntityKind",
    "EventAction",
    "HistoryBucket",
    "HistoryPoint",
    "OutboxEntry",
    "RelationshipDelete",
    "RelationshipPage",
    "RelationshipPut",
    "RelationshipRecord",
    "SearchPage",
    "TenantRecord",
    "TwinDelete",
    "TwinPut",
    "TwinRecord",
    "TwinStore",
    "WriteBatch",
    "format_time",
    "utc_now",
]
