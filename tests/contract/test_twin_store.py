"""`TwinStore` contract: twins, revisions, conditional writes, tenants, relationships,
outbox, history and retention - on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from server.core.errors import (
    RelationshipNotFound,
    RevisionMismatch,
    SearchOptionInvalid,
    StoreUnavailable,
    TenantConflict,
    TenantNotFound,
    ThingNotFound,
)
from server.core.ids import RelationshipId, TenantId, ThingId
from server.core.rql import parse_filter
from server.core.stores import (
    ChangeEvent,
    HistoryPoint,
    OutboxEntry,
    RelationshipDelete,
    RelationshipPut,
    TwinDelete,
    TwinPut,
    TwinStore,
    WriteBatch,
)
from tests.contract.twin_records import (
    T0,
    at,
    created_event,
    put_relationships,
    put_twins,
    relationship,
    twin,
)

# --- twins and revisions ---------------------------------------------------------------


def test_put_then_get_returns_the_same_record(store: TwinStore, tenant: TenantId) -> None:
    record = twin(
        tenant,
        "ns:lamp",
        {"attributes": {"room": "hall", "h": 1.5, "€": [1, None]}},
        created=at(0.000001),
        modified=at(2.5),
    )
    put_twins(store, tenant, record, expected=0)

    got = store.get_twin(tenant, ThingId("ns:lamp"))

    assert got == record
    assert isinstance(got.thing_id, ThingId)
    assert got.modified == at(2.5) and got.created.microsecond == 1


def test_get_of_an_unknown_twin_is_none(store: TwinStore, tenant: TenantId) -> None:
    assert store.get_twin(tenant, ThingId("ns:nothing")) is None


def test_every_revision_can_be_read_back(store: TwinStore, tenant: TenantId) -> None:
    first = twin(tenant, "ns:a", {"attributes": {"v": 1}}, modified=at(1))
    second = twin(tenant, "ns:a", {"attributes": {"v": 2}}, revision=2, modified=at(2))
    put_twins(store, tenant, first, expected=0)
    put_twins(store, tenant, second, expected=1)

    assert store.get_twin(tenant, ThingId("ns:a")) == second
    assert store.get_twin_at_revision(tenant, ThingId("ns:a"), 1) == first
    assert store.get_twin_at_revision(tenant, ThingId("ns:a"), 2) == second
    assert store.get_twin_at_revision(tenant, ThingId("ns:a"), 3) is None


def test_as_of_time_reads_the_revision_then_current(store: TwinStore, tenant: TenantId) -> None:
    tid = ThingId("ns:a")
    put_twins(store, tenant, twin(tenant, "ns:a", {"attributes": {"v": 1}}, modified=at(10)))
    put_twins(
        store,
        tenant,
        twin(tenant, "ns:a", {"attributes": {"v": 2}}, revision=2, modified=at(20)),
        expected=1,
    )
    store.commit(tenant, WriteBatch(twin_deletes=[TwinDelete(tid, 2, at=at(30))]))

    assert store.get_twin_as_of(tenant, tid, at(5)) is None
    assert store.get_twin_as_of(tenant, tid, at(10)).doc["attributes"] == {"v": 1}
    assert store.get_twin_as_of(tenant, tid, at(29)).doc["attributes"] == {"v": 2}
    assert store.get_twin_as_of(tenant, tid, at(31)) is None
    assert store.get_twin_at_revision(tenant, tid, 3) is None  # the tombstone


def test_create_only_write_fails_on_an_existing_twin(store: TwinStore, tenant: TenantId) -> None:
    put_twins(store, tenant, twin(tenant, "ns:a", {"attributes": {"v": 1}}))

    with pytest.raises(RevisionMismatch) as caught:
        put_twins(store, tenant, twin(tenant, "ns:a", {"attributes": {"v": 9}}), expected=0)

    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert caught.value.code == "things:precondition.failed" and caught.value.status == 412
    assert store.get_twin(tenant, ThingId("ns:a")).doc["attributes"] == {"v": 1}


def test_update_with_a_stale_revision_fails(store: TwinStore, tenant: TenantId) -> None:
    put_twins(store, tenant, twin(tenant, "ns:a"))
    put_twins(store, tenant, twin(tenant, "ns:a", revision=2), expected=1)

    with pytest.raises(RevisionMismatch) as caught:
        put_twins(store, tenant, twin(tenant, "ns:a", revision=3), expected=1)

    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert store.get_twin(tenant, ThingId("ns:a")).revision == 2


def test_update_expecting_an_existing_twin_fails_when_absent(
    store: TwinStore, tenant: TenantId
) -> None:
    with pytest.raises(RevisionMismatch) as caught:
        put_twins(store, tenant, twin(tenant, "ns:a", revision=4), expected=3)
    assert caught.value.actual == 0
    assert store.get_twin(tenant, ThingId("ns:a")) is None


def test_a_failing_batch_writes_nothing(store: TwinStore, tenant: TenantId) -> None:
    put_twins(store, tenant, twin(tenant, "ns:old"))
    good = twin(tenant, "ns:new", {"attributes": {"v": 1}})
    stale = twin(tenant, "ns:old", revision=3)
    batch = WriteBatch(
        twin_puts=[TwinPut(good, 0), TwinPut(stale, 2)],
        relationship_puts=[RelationshipPut(relationship(tenant, "r1", "ns:new", "ns:old"))],
        events=[created_event(good)],
        history=[HistoryPoint(tenant, good.thing_id, "/attributes/v", at(1), 1, 1)],
        outbox=[OutboxEntry(0, tenant, "twin", "ns:new", None, good.doc)],
    )
    before = store.last_seq(tenant)

    with pytest.raises(RevisionMismatch):
        store.commit(tenant, batch)

    assert store.get_twin(tenant, ThingId("ns:new")) is None
    assert store.get_twin(tenant, ThingId("ns:old")).revision == 1
    assert store.get_relationship(tenant, RelationshipId("r1")) is None
    assert store.last_seq(tenant) == before
    assert [e.entity_id for e in store.read_events(tenant)] == ["ns:old"]
    assert store.history(tenant, good.thing_id, None, T0, at(100)) == []
    assert store.pending_outbox() == []


def test_a_batch_commits_everything_together(store: TwinStore, tenant: TenantId) -> None:
    a, b = twin(tenant, "ns:a"), twin(tenant, "ns:b")
    rel = relationship(tenant, "a-b", "ns:a", "ns:b", properties={"rssi": -70})
    events = store.commit(
        tenant,
        WriteBatch(
            twin_puts=[TwinPut(a, 0), TwinPut(b, 0)],
            relationship_puts=[RelationshipPut(rel, 0)],
            events=[created_event(a), created_event(b)],
            outbox=[OutboxEntry(0, tenant, "relationship", "a-b", None, {"rssi": -70})],
        ),
    )

    assert [e.seq for e in events] == [1, 2]
    assert [t.thing_id for t in store.get_twins(tenant, [a.thing_id, b.thing_id])] == [
        "ns:a",
        "ns:b",
    ]
    assert store.get_relationship(tenant, rel.id) == rel
    assert [o.entity_id for o in store.pending_outbox()] == ["a-b"]


def test_delete_removes_the_twin(store: TwinStore, tenant: TenantId) -> None:
    put_twins(store, tenant, twin(tenant, "ns:a"))
    store.commit(tenant, WriteBatch(twin_deletes=[TwinDelete(ThingId("ns:a"), 1)]))
    assert store.get_twin(tenant, ThingId("ns:a")) is None
    assert store.count(tenant) == 0


def test_delete_of_a_missing_twin_raises_not_found(store: TwinStore, tenant: TenantId) -> None:
    with pytest.raises(ThingNotFound) as caught:
        store.commit(tenant, WriteBatch(twin_deletes=[TwinDelete(ThingId("ns:none"))]))
    assert caught.value.code == "things:thing.notfound"


def test_delete_with_a_stale_revision_keeps_the_twin(store: TwinStore, tenant: TenantId) -> None:
    put_twins(store, tenant, twin(tenant, "ns:a"))
    with pytest.raises(RevisionMismatch):
        store.commit(tenant, WriteBatch(twin_deletes=[TwinDelete(ThingId("ns:a"), 7)]))
    assert store.get_twin(tenant, ThingId("ns:a")) is not None


def test_recreating_a_deleted_twin_starts_a_new_history(store: TwinStore, tenant: TenantId) -> None:
    tid = ThingId("ns:a")
    put_twins(store, tenant, twin(tenant, "ns:a", {"attributes": {"life": 1}}))
    put_twins(store, tenant, twin(tenant, "ns:a", {"attributes": {"life": 1}}, revision=2))
    store.commit(tenant, WriteBatch(twin_deletes=[TwinDelete(tid)]))
    put_twins(store, tenant, twin(tenant, "ns:a", {"attributes": {"life": 2}}), expected=0)

    assert store.get_twin_at_revision(tenant, tid, 1).doc["attributes"] == {"life": 2}
    assert store.get_twin_at_revision(tenant, tid, 2) is None


def test_get_twins_keeps_the_requested_order(store: TwinStore, tenant: TenantId) -> None:
    put_twins(store, tenant, *(twin(tenant, f"ns:{n}") for n in "abc"))

    got = store.get_twins(
        tenant, [ThingId("ns:c"), ThingId("ns:zz"), ThingId("ns:a"), ThingId("ns:c")]
    )

    assert [t.thing_id for t in got] == ["ns:c", "ns:a", "ns:c"]
    assert store.get_twins(tenant, []) == []


def test_commit_for_an_unknown_tenant_fails(store: TwinStore) -> None:
    ghost = TenantId("ghost")
    with pytest.raises(TenantNotFound):
        put_twins(store, ghost, twin(ghost, "ns:a"))


# --- tenants ---------------------------------------------------------------------------


def test_tenants_are_created_listed_and_unique(store: TwinStore) -> None:
    created = store.create_tenant(TenantId("zeta"), "h1", at(1))
    store.create_tenant(TenantId("alpha"), "h2", at(2))

    assert created.created == at(1)
    assert store.get_tenant(TenantId("zeta")) == created
    assert [t.tenant for t in store.list_tenants()] == ["alpha", "zeta"]
    assert store.get_tenant(TenantId("nobody")) is None
    with pytest.raises(TenantConflict):
        store.create_tenant(TenantId("zeta"), "other", at(3))
    with pytest.raises(TenantNotFound):
        store.delete_tenant(TenantId("nobody"))


def test_a_tenant_never_sees_another_tenants_data(
    store: TwinStore, tenant: TenantId, other_tenant: TenantId
) -> None:
    tid = ThingId("ns:shared-name")
    put_twins(
        store,
        tenant,
        twin(tenant, "ns:shared-name", {"attributes": {"owner": "acme"}}),
        twin(tenant, "ns:only-acme", {"attributes": {"owner": "acme"}}),
    )
    put_twins(
        store,
        other_tenant,
        twin(other_tenant, "ns:shared-name", {"attributes": {"owner": "globex"}}),
    )
    put_relationships(store, tenant, relationship(tenant, "r", "ns:only-acme", "ns:shared-name"))
    store.commit(
        tenant, WriteBatch(history=[HistoryPoint(tenant, tid, "/attributes/x", at(1), 5, 1)])
    )

    assert store.get_twin(other_tenant, tid).doc["attributes"]["owner"] == "globex"
    assert store.get_twin(other_tenant, ThingId("ns:only-acme")) is None
    assert (
        store.get_twins(other_tenant, [ThingId("ns:only-acme"), tid])[0].doc["attributes"]["owner"]
        == "globex"
    )
    everything = parse_filter('eq(attributes/owner,"acme")')
    assert store.search(other_tenant, everything).items == []
    assert store.count(other_tenant, everything) == 0
    assert store.count(other_tenant) == 1
    assert store.get_relationship(other_tenant, RelationshipId("r")) is None
    assert store.list_relationships(other_tenant) == ([], None)
    assert store.relationships_touching(other_tenant, tid) == []
    assert [e.entity_id for e in store.read_events(other_tenant)] == ["ns:shared-name"]
    assert store.last_seq(tenant) == 2 and store.last_seq(other_tenant) == 1
    assert store.history(other_tenant, tid, None, T0, at(10)) == []
    assert store.get_twin_at_revision(other_tenant, ThingId("ns:only-acme"), 1) is None


def test_a_cursor_of_one_tenant_is_refused_for_another(
    store: TwinStore, tenant: TenantId, other_tenant: TenantId
) -> None:
    put_twins(store, tenant, *(twin(tenant, f"ns:t{i}") for i in range(3)))
    put_twins(store, other_tenant, *(twin(other_tenant, f"ns:t{i}") for i in range(3)))
    page = store.search(tenant, None, size=1)
    assert page.cursor is not None

    with pytest.raises(SearchOptionInvalid):
        store.search(other_tenant, None, size=1, cursor=page.cursor)


def test_deleting_a_tenant_removes_all_of_its_data(
    store: TwinStore, tenant: TenantId, other_tenant: TenantId
) -> None:
    tid = ThingId("ns:a")
    for owner in (tenant, other_tenant):
        record = twin(owner, "ns:a", {"attributes": {"v": 1}})
        store.commit(
            owner,
            WriteBatch(
                twin_puts=[TwinPut(record)],
                relationship_puts=[RelationshipPut(relationship(owner, "r", "ns:a", "ns:a"))],
                events=[created_event(record)],
                history=[HistoryPoint(owner, tid, "/attributes/v", at(1), 1, 1)],
                outbox=[OutboxEntry(0, owner, "twin", "ns:a", None, record.doc)],
            ),
        )

    store.delete_tenant(tenant)

    assert store.get_tenant(tenant) is None
    assert store.get_twin(tenant, tid) is None
    assert store.get_twin_at_revision(tenant, tid, 1) is None
    assert store.count(tenant) == 0
    assert store.get_relationship(tenant, RelationshipId("r")) is None
    assert store.read_events(tenant) == []
    assert store.history(tenant, tid, None, T0, at(10)) == []
    outbox = store.pending_outbox()
    assert [(o.tenant, o.kind) for o in outbox] == [("globex", "twin"), ("acme", "tenant")]
    # The other tenant is untouched, and the name can be reused from scratch.
    assert store.get_twin(other_tenant, tid) is not None
    assert len(store.read_events(other_tenant)) == 1
    store.create_tenant(tenant, "new", T0)
    assert store.last_seq(tenant) == 0 and store.get_twin(tenant, tid) is None


# --- relationships ---------------------------------------------------------------------


def test_relationships_are_listed_by_source_target_and_type(
    store: TwinStore, tenant: TenantId
) -> None:
    put_relationships(
        store,
        tenant,
        relationship(tenant, "r1", "ns:phone", "ns:cell1", "observes", {"rsrp": -90}),
        relationship(tenant, "r2", "ns:phone", "ns:cell2", "observes"),
        relationship(tenant, "r3", "ns:phone", "ns:ap", "associatedWith"),
        relationship(tenant, "r4", "ns:other", "ns:cell1", "observes"),
    )

    def ids(page: tuple[list, str | None]) -> list[str]:
        return [r.id for r in page[0]]

    assert ids(store.list_relationships(tenant, source=ThingId("ns:phone"))) == ["r1", "r2", "r3"]
    assert ids(store.list_relationships(tenant, target=ThingId("ns:cell1"))) == ["r1", "r4"]
    assert ids(store.list_relationships(tenant, type="observes")) == ["r1", "r2", "r4"]
    assert ids(store.list_relationships(tenant, source=ThingId("ns:phone"), type="observes")) == [
        "r1",
        "r2",
    ]
    assert [r.id for r in store.relationships_touching(tenant, ThingId("ns:cell1"))] == ["r1", "r4"]
    assert store.get_relationship(tenant, RelationshipId("r1")).properties == {"rsrp": -90}


def test_get_relationships_returns_found_ones_in_the_requested_order(
    store: TwinStore, tenant: TenantId
) -> None:
    put_relationships(
        store,
        tenant,
        relationship(tenant, "r1", "ns:phone", "ns:cell1", "observes", {"rsrp": -90}),
        relationship(tenant, "r2", "ns:phone", "ns:ap", "associatedWith", {"rssi": -60}),
    )

    got = store.get_relationships(
        tenant, [RelationshipId("r2"), RelationshipId("zz"), RelationshipId("r1")]
    )

    assert got == [
        store.get_relationship(tenant, RelationshipId("r2")),
        store.get_relationship(tenant, RelationshipId("r1")),
    ]
    assert [(r.id, r.type, r.properties) for r in got] == [
        ("r2", "associatedWith", {"rssi": -60}),
        ("r1", "observes", {"rsrp": -90}),
    ]


def test_get_relationships_repeats_duplicates_and_accepts_an_empty_list(
    store: TwinStore, tenant: TenantId
) -> None:
    put_relationships(store, tenant, relationship(tenant, "r1", "ns:a", "ns:b"))
    r1 = RelationshipId("r1")

    assert [r.id for r in store.get_relationships(tenant, [r1, RelationshipId("x"), r1])] == [
        "r1",
        "r1",
    ]
    assert store.get_relationships(tenant, []) == []
    assert store.get_relationships(tenant, [RelationshipId("x"), RelationshipId("y")]) == []


def test_get_relationships_never_returns_another_tenants(
    store: TwinStore, tenant: TenantId, other_tenant: TenantId
) -> None:
    put_relationships(
        store,
        tenant,
        relationship(tenant, "shared", "ns:a", "ns:b", "observes", {"owner": "acme"}),
        relationship(tenant, "only-acme", "ns:a", "ns:b"),
    )
    put_relationships(
        store,
        other_tenant,
        relationship(other_tenant, "shared", "ns:c", "ns:d", "observes", {"owner": "globex"}),
    )

    got = store.get_relationships(
        other_tenant, [RelationshipId("only-acme"), RelationshipId("shared")]
    )

    assert [(r.tenant, r.id, r.source, r.properties) for r in got] == [
        ("globex", "shared", "ns:c", {"owner": "globex"})
    ]


def test_get_relationships_reads_a_long_list(store: TwinStore, tenant: TenantId) -> None:
    # More ids than one SQLite IN list takes, asked in reverse with gaps.
    put_relationships(
        store,
        tenant,
        *(relationship(tenant, f"r{i:04}", "ns:a", "ns:b") for i in range(0, 1300, 2)),
    )
    asked = [RelationshipId(f"r{i:04}") for i in reversed(range(1300))]

    got = store.get_relationships(tenant, asked)

    assert [r.id for r in got] == [f"r{i:04}" for i in reversed(range(0, 1300, 2))]


def test_relationship_pages_visit_each_once(store: TwinStore, tenant: TenantId) -> None:
    put_relationships(
        store, tenant, *(relationship(tenant, f"r{i:02}", "ns:a", "ns:b") for i in range(7))
    )
    seen: list[str] = []
    cursor = None
    while True:
        items, cursor = store.list_relationships(tenant, size=3, cursor=cursor)
        seen += [r.id for r in items]
        if cursor is None:
            break
    assert seen == [f"r{i:02}" for i in range(7)]
    with pytest.raises(SearchOptionInvalid):
        store.list_relationships(
            tenant, type="other", size=3, cursor=store.list_relationships(tenant, size=3)[1]
        )


def test_relationship_writes_are_conditional(store: TwinStore, tenant: TenantId) -> None:
    rel = relationship(tenant, "r", "ns:a", "ns:b")
    store.commit(tenant, WriteBatch(relationship_puts=[RelationshipPut(rel, 0)]))
    with pytest.raises(RevisionMismatch):
        store.commit(tenant, WriteBatch(relationship_puts=[RelationshipPut(rel, 0)]))
    with pytest.raises(RevisionMismatch):
        store.commit(
            tenant, WriteBatch(relationship_deletes=[RelationshipDelete(RelationshipId("r"), 2)])
        )
    with pytest.raises(RelationshipNotFound):
        store.commit(
            tenant, WriteBatch(relationship_deletes=[RelationshipDelete(RelationshipId("zz"))])
        )
    store.commit(tenant, WriteBatch(relationship_deletes=[RelationshipDelete(rel.id, 1)]))
    assert store.get_relationship(tenant, rel.id) is None


# --- change events ---------------------------------------------------------------------


def test_events_get_increasing_seqs_and_can_be_resumed(
    store: TwinStore, tenant: TenantId, other_tenant: TenantId
) -> None:
    for i in range(5):
        put_twins(store, tenant, twin(tenant, f"ns:t{i}", {"attributes": {"i": i}}))
    put_twins(store, other_tenant, twin(other_tenant, "ns:x"))
    batch = [twin(tenant, "ns:b1"), twin(tenant, "ns:b2")]
    appended = put_twins(store, tenant, *batch)

    assert [e.seq for e in appended] == [6, 7]
    events = store.read_events(tenant)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.entity_id for e in events][:5] == [f"ns:t{i}" for i in range(5)]
    assert events[2].value["attributes"] == {"i": 2} and events[2].action == "created"
    assert events[2].timestamp == T0 and events[2].kind == "twin"
    assert [e.seq for e in store.read_events(tenant, after_seq=4)] == [5, 6, 7]
    assert [e.seq for e in store.read_events(tenant, after_seq=2, limit=2)] == [3, 4]
    assert store.read_events(tenant, after_seq=7) == []
    assert [e.seq for e in store.read_events(other_tenant)] == [1]


def test_wait_for_events_wakes_on_a_commit(store: TwinStore, tenant: TenantId) -> None:
    import threading
    import time

    put_twins(store, tenant, twin(tenant, "ns:first"))
    started = time.monotonic()
    assert store.wait_for_events(tenant, 1, timeout=0.3) == []
    assert time.monotonic() - started >= 0.29

    timer = threading.Timer(0.2, put_twins, (store, tenant, twin(tenant, "ns:second")))
    timer.start()
    try:
        started = time.monotonic()
        events = store.wait_for_events(tenant, 1, timeout=10)
        waited = time.monotonic() - started
    finally:
        timer.join()

    assert [(e.seq, e.entity_id) for e in events] == [(2, "ns:second")]
    assert waited < 2


# --- outbox ----------------------------------------------------------------------------


def test_outbox_entries_stay_pending_until_acked(store: TwinStore, tenant: TenantId) -> None:
    entries = [
        OutboxEntry(0, tenant, "twin", "ns:a", None, {"v": 1}),
        OutboxEntry(0, tenant, "twin", "ns:a", {"v": 1}, {"v": 2}),
        OutboxEntry(0, tenant, "relationship", "r", {"p": 1}, None),
    ]
    store.commit(tenant, WriteBatch(outbox=entries[:2]))
    store.commit(tenant, WriteBatch(outbox=entries[2:]))

    pending = store.pending_outbox()
    assert [(o.entity_id, o.old_doc, o.new_doc) for o in pending] == [
        ("ns:a", None, {"v": 1}),
        ("ns:a", {"v": 1}, {"v": 2}),
        ("r", {"p": 1}, None),
    ]
    assert pending[0].id < pending[1].id < pending[2].id
    assert [o.id for o in store.pending_outbox(limit=2)] == [pending[0].id, pending[1].id]

    store.ack_outbox([pending[0].id, pending[2].id, 999_999])
    assert [o.id for o in store.pending_outbox()] == [pending[1].id]
    store.ack_outbox([])
    store.ack_outbox([pending[1].id])
    assert store.pending_outbox() == []


# --- history ---------------------------------------------------------------------------


def _record_history(store: TwinStore, tenant: TenantId) -> ThingId:
    tid = ThingId("ns:sensor")
    temp, temperature = "/features/env/properties/temp", "/features/env/properties/temperature"
    points = [
        HistoryPoint(tenant, tid, temp, at(s), v, r)
        for r, (s, v) in enumerate(
            [(0, 10), (5, 20), (9.999999, 30), (10, 1.5), (25, -4), (26, "n/a")], start=1
        )
    ]
    points.append(HistoryPoint(tenant, tid, temperature, at(1), 99, 7))
    points.append(HistoryPoint(tenant, tid, temp + "/unit", at(2), "C", 8))
    store.commit(tenant, WriteBatch(history=points))
    return tid


def test_history_selects_a_path_range_and_subtree(store: TwinStore, tenant: TenantId) -> None:
    tid = _record_history(store, tenant)
    temp = "/features/env/properties/temp"

    points = store.history(tenant, tid, temp, at(0), at(25))

    assert [(p.path, p.time, p.value) for p in points] == [
        (temp, at(0), 10),
        (temp + "/unit", at(2), "C"),
        (temp, at(5), 20),
        (temp, at(9.999999), 30),
        (temp, at(10), 1.5),
    ]
    assert len(store.history(tenant, tid, None, T0, at(100))) == 8
    assert len(store.history(tenant, tid, "/features/env/properties/temperature", T0, at(100))) == 1
    assert len(store.history(tenant, tid, temp, T0, at(100), limit=2)) == 2


def test_history_buckets_aggregate_in_sql(store: TwinStore, tenant: TenantId) -> None:
    tid = _record_history(store, tenant)
    temp = "/features/env/properties/temp"

    buckets = store.history_buckets(tenant, tid, temp, at(0), at(30), 10)

    rows = [(b.path, b.start, b.count, b.minimum, b.maximum, b.mean) for b in buckets]
    assert rows == [
        (temp, at(0), 3, 10.0, 30.0, 20.0),
        (temp, at(10), 1, 1.5, 1.5, 1.5),
        (temp, at(20), 2, -4.0, -4.0, -4.0),
        (temp + "/unit", at(0), 1, None, None, None),
    ]


# --- retention -------------------------------------------------------------------------


def test_prune_drops_old_history_events_and_superseded_revisions(
    store: TwinStore, tenant: TenantId
) -> None:
    tid = ThingId("ns:a")
    for revision in (1, 2, 3):
        record = twin(
            tenant,
            "ns:a",
            {"attributes": {"r": revision}},
            revision=revision,
            modified=at(revision * 10),
        )
        store.commit(
            tenant,
            WriteBatch(
                twin_puts=[TwinPut(record)],
                events=[
                    ChangeEvent(
                        tenant,
                        "twin",
                        "modified",
                        "ns:a",
                        "/attributes/r",
                        revision,
                        revision,
                        at(revision * 10),
                    )
                ],
                history=[
                    HistoryPoint(
                        tenant, tid, "/attributes/r", at(revision * 10), revision, revision
                    )
                ],
            ),
        )
    old = twin(tenant, "ns:old", modified=at(1))
    put_twins(store, tenant, old)

    removed = store.prune(at(35))

    # history 3, events 3 + 1 ("ns:old" created at T0), revisions 1 and 2 of ns:a.
    assert removed == 9
    assert store.get_twin_at_revision(tenant, tid, 1) is None
    assert store.get_twin_at_revision(tenant, tid, 3).doc["attributes"] == {"r": 3}
    assert store.get_twin_at_revision(tenant, ThingId("ns:old"), 1) == old
    assert store.get_twin(tenant, tid).revision == 3
    assert store.read_events(tenant) == []
    assert store.history(tenant, tid, None, T0, at(100)) == []


# --- lifecycle -------------------------------------------------------------------------


def test_a_closed_store_refuses_work(store: TwinStore, tenant: TenantId) -> None:
    store.close()
    with pytest.raises(StoreUnavailable) as caught:
        store.get_twin(tenant, ThingId("ns:a"))
    assert caught.value.status == 503 and caught.value.grpc_code == "UNAVAILABLE"
