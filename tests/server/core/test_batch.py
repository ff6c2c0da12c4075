"""`BatchService`: how a batch plans its relationships against the stored ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from server.core import errors
from server.core.batch import BatchService, RelationshipUpsert, TwinUpsert
from server.core.context import Caller
from server.core.ids import RelationshipId, TenantId
from server.core.stores.records import RelationshipRecord
from server.core.stores.sqlite import SqliteTwinStore
from server.core.tenants import TenantService
from tests.server.core.conftest import RuleValidator


class CountingStore(SqliteTwinStore):
    """A real SQLite store that counts relationship reads."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.single_reads = 0
        self.bulk_reads: list[list[str]] = []

    def get_relationship(
        self, tenant: TenantId, relationship_id: RelationshipId
    ) -> RelationshipRecord | None:
        self.single_reads += 1
        return super().get_relationship(tenant, relationship_id)

    def get_relationships(
        self, tenant: TenantId, relationship_ids: Sequence[RelationshipId]
    ) -> list[RelationshipRecord]:
        self.bulk_reads.append([str(i) for i in relationship_ids])
        return super().get_relationships(tenant, relationship_ids)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    s = CountingStore(tmp_path / "twins.db")
    s.open()
    yield s  # type: ignore[misc]
    s.close()


@pytest.fixture
def callers(store: CountingStore) -> tuple[Caller, Caller]:
    tenants = TenantService(store)
    return (
        tenants.authenticate(tenants.create("alpha")[1]),
        tenants.authenticate(tenants.create("beta")[1]),
    )


@pytest.fixture
def batch(store: CountingStore) -> BatchService:
    return BatchService(store, RuleValidator())


def _count(props: dict[str, Any] | None) -> dict[str, Any]:
    """An update that counts how often the relationship was written."""
    return {"count": 1 if props is None else props["count"] + 1}


def _seed(batch: BatchService, caller: Caller, *rel_ids: str) -> None:
    batch.upsert(
        caller,
        [TwinUpsert("ns:a", {"attributes": {}}), TwinUpsert("ns:b", {"attributes": {}})],
        [RelationshipUpsert(r, "ns:a", "ns:b", "observes", update=_count) for r in rel_ids],
    )


def test_a_batch_reads_its_relationships_in_one_call(
    batch: BatchService, store: CountingStore, callers: tuple[Caller, Caller]
) -> None:
    alpha, _ = callers
    _seed(batch, alpha, "r1", "r2")
    store.bulk_reads.clear()

    result = batch.upsert(
        alpha,
        relationships=[
            RelationshipUpsert(r, "ns:a", "ns:b", "observes", update=_count)
            for r in ("r2", "r3", "r1", "r2")
        ],
    )

    assert store.single_reads == 0
    assert store.bulk_reads == [["r2", "r3", "r1"]]
    assert [(r.id, r.properties, r.revision) for r in result.relationships] == [
        ("r2", {"count": 3}, 3),
        ("r3", {"count": 1}, 1),
        ("r1", {"count": 2}, 2),
    ]


def test_updates_see_the_stored_properties_then_the_batchs_own_writes(
    batch: BatchService, store: CountingStore, callers: tuple[Caller, Caller]
) -> None:
    alpha, _ = callers
    _seed(batch, alpha, "r1")
    seen: list[dict[str, Any] | None] = []

    def record(props: dict[str, Any] | None) -> dict[str, Any]:
        seen.append(props)
        return _count(props)

    result = batch.upsert(
        alpha,
        relationships=[RelationshipUpsert("r1", "ns:a", "ns:b", "observes", update=record)] * 2,
    )

    assert seen == [{"count": 1}, {"count": 2}]
    assert [(e.kind, e.revision) for e in result.events] == [
        ("relationship", 2),
        ("relationship", 3),
    ]
    assert store.get_relationship(alpha.tenant, RelationshipId("r1")).properties == {"count": 3}  # type: ignore[union-attr]


def test_an_unchanged_relationship_writes_nothing(
    batch: BatchService, store: CountingStore, callers: tuple[Caller, Caller]
) -> None:
    alpha, _ = callers
    _seed(batch, alpha, "r1")

    result = batch.upsert(
        alpha, relationships=[RelationshipUpsert("r1", "ns:a", "ns:b", update=lambda p: None)]
    )

    assert result.events == []
    assert store.get_relationship(alpha.tenant, RelationshipId("r1")).revision == 1  # type: ignore[union-attr]


def test_a_relationship_cascaded_by_a_twin_delete_counts_as_absent(
    batch: BatchService, store: CountingStore, callers: tuple[Caller, Caller]
) -> None:
    alpha, _ = callers
    _seed(batch, alpha, "r1")

    result = batch.upsert(
        alpha,
        [TwinUpsert("ns:a", delete=True)],
        [RelationshipUpsert("r1", delete=True)],
    )

    # The cascade deletes r1 once; the explicit delete then finds nothing to delete.
    assert [(e.kind, e.action, e.entity_id) for e in result.events] == [
        ("twin", "deleted", "ns:a"),
        ("relationship", "deleted", "r1"),
    ]
    assert store.get_relationship(alpha.tenant, RelationshipId("r1")) is None


def test_another_tenants_relationship_is_not_seen(
    batch: BatchService, store: CountingStore, callers: tuple[Caller, Caller]
) -> None:
    alpha, beta = callers
    _seed(batch, beta, "r1")
    _seed(batch, beta, "r1")
    seen: list[dict[str, Any] | None] = []

    def record(props: dict[str, Any] | None) -> dict[str, Any]:
        seen.append(props)
        return _count(props)

    _seed(batch, alpha)
    batch.upsert(
        alpha, relationships=[RelationshipUpsert("r1", "ns:a", "ns:b", "observes", update=record)]
    )

    assert seen == [None]
    assert store.get_relationship(beta.tenant, RelationshipId("r1")).properties == {"count": 2}  # type: ignore[union-attr]


def test_an_invalid_relationship_id_fails_where_the_batch_reaches_it(
    batch: BatchService, store: CountingStore, callers: tuple[Caller, Caller]
) -> None:
    alpha, _ = callers
    _seed(batch, alpha, "r1")
    missing_end = RelationshipUpsert("r1", "ns:a", "ns:nobody", "observes", update=_count)
    invalid = RelationshipUpsert("bad/id", "ns:a", "ns:b", "observes")

    with pytest.raises(errors.ThingNotFound):
        batch.upsert(alpha, relationships=[missing_end, invalid])
    with pytest.raises(errors.RelationshipIdInvalid):
        batch.upsert(alpha, relationships=[invalid, missing_end])
    assert store.get_relationship(alpha.tenant, RelationshipId("r1")).revision == 1  # type: ignore[union-attr]
