"""TwinService: Ditto write semantics, preconditions, validation, history and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.core import errors
from server.core.context import Caller
from server.core.preconditions import Preconditions, parse_etags
from server.core.rql.parser import parse_filter
from server.core.stores.sqlite import SqliteTwinStore
from server.core.twins.service import TwinService
from tests.server.core.conftest import RuleValidator

TID = "campus:phone-1"


@pytest.fixture
def twins(twin_store: SqliteTwinStore) -> TwinService:
    return TwinService(twin_store, RuleValidator())


def test_put_creates_then_modifies(twins: TwinService, callers: tuple[Caller, Caller]) -> None:
    a, _ = callers
    first = twins.put(a, TID, "/", {"attributes": {"level": 1}})
    assert first.created and first.etag == '"rev:1"'
    assert first.value == {"thingId": TID, "policyId": TID, "attributes": {"level": 1}}
    second = twins.put(a, TID, "/attributes/level", 2)
    assert not second.created and second.etag == '"rev:2"' and second.value == 2
    third = twins.put(a, TID, "/attributes/zone", "A")
    assert third.created  # the attribute did not exist before


def test_sub_resource_put_on_missing_thing_creates_it(
    twins: TwinService, callers: tuple[Caller, Caller]
) -> None:
    a, _ = callers
    result = twins.put(a, TID, "/features/lte/properties/rsrp", -95)
    assert result.created
    value, _ = twins.retrieve(a, TID)
    assert value["features"] == {"lte": {"properties": {"rsrp": -95}}}


def test_merge_and_null_deletes(twins: TwinService, callers: tuple[Caller, Caller]) -> None:
    a, _ = callers
    twins.put(a, TID, "/", {"attributes": {"level": 1, "zone": "A"}})
    result = twins.merge(a, TID, "/", {"attributes": {"zone": None, "floor": 2}})
    assert result.value["attributes"] == {"level": 1, "floor": 2}
    assert result.event is not None and result.event.action == "merged"


def test_no_op_write_creates_no_revision(
    twins: TwinService, twin_store: SqliteTwinStore, callers: tuple[Caller, Caller]
) -> None:
    a, _ = callers
    twins.put(a, TID, "/", {"attributes": {"level": 1}})
    again = twins.put(a, TID, "/attributes/level", 1)
    assert again.event is None and again.record is not None and again.record.revision == 1
    assert [e.seq for e in twin_store.read_events(a.tenant)] == [1]


def test_validation_rejects_and_changes_nothing(
    twins: TwinService, twin_store: SqliteTwinStore, callers: tuple[Caller, Caller]
) -> None:
    a, _ = callers
    twins.put(a, TID, "/", {"attributes": {"level": 1}})
    with pytest.raises(errors.PayloadValidationError) as caught:
        twins.put(a, TID, "/attributes/level", 9)
    assert caught.value.details[0].path == "/attributes/level"
    assert caught.value.details[0].value == 9
    value, _ = twins.retrieve(a, TID, "/attributes/level")
    assert value == 1 and twin_store.last_seq(a.tenant) == 1


def test_not_found_errors_name_the_part(twins: TwinService, callers: tuple[Caller, Caller]) -> None:
    a, _ = callers
    with pytest.raises(errors.ThingNotFound):
        twins.retrieve(a, TID)
    twins.put(a, TID, "/", {"attributes": {"level": 1}, "features": {"f": {}}})
    with pytest.raises(errors.AttributeNotFound):
        twins.retrieve(a, TID, "/attributes/nothing")
    with pytest.raises(errors.FeatureNotFound):
        twins.retrieve(a, TID, "/features/g")
    with pytest.raises(errors.FeaturePropertiesNotFound):
        twins.retrieve(a, TID, "/features/f/properties")
    with pytest.raises(errors.AttributeNotFound):
        twins.delete(a, TID, "/attributes/nothing")


def test_bad_input_is_typed(twins: TwinService, callers: tuple[Caller, Caller]) -> None:
    a, _ = callers
    with pytest.raises(errors.ThingIdInvalid):
        twins.put(a, "no-colon-here/", "/", {})
    with pytest.raises(errors.JsonPointerInvalid):
        twins.put(a, TID, "/attributes//x", 1)
    with pytest.raises(errors.JsonFormatInvalid):
        twins.put(a, TID, "/", {"attributes": []})
    with pytest.raises(errors.IdNotSettable):
        twins.put(a, TID, "/", {"thingId": "other:id"})
    with pytest.raises(errors.ThingTooLarge):
        twins.put(a, TID, "/", {"attributes": {"blob": "x" * 200_000}})
    with pytest.raises(errors.ThingNotFound):
        twins.retrieve(a, TID)  # nothing partial was stored


def test_if_match_and_if_none_match(twins: TwinService, callers: tuple[Caller, Caller]) -> None:
    a, _ = callers
    created = twins.put(a, TID, "/", {}, Preconditions(if_none_match=("*",)))
    assert created.created
    with pytest.raises(errors.PreconditionFailed):
        twins.put(a, TID, "/", {}, Preconditions(if_none_match=("*",)))
    with pytest.raises(errors.PreconditionFailed):
        twins.put(a, TID, "/attributes/level", 2, Preconditions(if_match=parse_etags('"rev:7"')))
    twins.put(a, TID, "/attributes/level", 1)
    ok = twins.put(a, TID, "/attributes/level", 2, Preconditions(if_match=parse_etags('"rev:2"')))
    assert ok.etag == '"rev:3"'
    with pytest.raises(errors.PreconditionNotModified):
        twins.retrieve(a, TID, pre=Preconditions(if_none_match=parse_etags('"rev:3"')))
    with pytest.raises(errors.PreconditionFailed):  # If-Match: * needs an existing thing
        twins.put(a, "campus:new", "/", {}, Preconditions(if_match=("*",)))


def test_rql_condition(twins: TwinService, callers: tuple[Caller, Caller]) -> None:
    a, _ = callers
    twins.put(a, TID, "/", {"attributes": {"level": 1}})
    with pytest.raises(errors.ConditionFailed):
        twins.put(
            a,
            TID,
            "/attributes/level",
            3,
            Preconditions(condition=parse_filter("eq(attributes/level,2)")),
        )
    result = twins.put(
        a,
        TID,
        "/attributes/level",
        3,
        Preconditions(condition=parse_filter("eq(attributes/level,1)")),
    )
    assert result.value == 3


def test_history_points_and_as_of_reads(
    twins: TwinService, twin_store: SqliteTwinStore, callers: tuple[Caller, Caller]
) -> None:
    a, _ = callers
    twins.put(a, TID, "/", {"attributes": {"level": 1, "zone": "A"}})
    twins.merge(a, TID, "/attributes", {"level": 2, "zone": None})
    start = datetime(2000, 1, 1, tzinfo=UTC)
    end = datetime.now(UTC) + timedelta(seconds=5)
    points = twin_store.history(a.tenant, TID, None, start, end)
    assert [(p.path, p.value, p.revision) for p in points] == [
        ("/attributes/level", 1, 1),
        ("/attributes/zone", "A", 1),
        ("/attributes/level", 2, 2),
        ("/attributes/zone", None, 2),
    ]
    old, _ = twins.retrieve(a, TID, at_revision=1)
    assert old["attributes"] == {"level": 1, "zone": "A"}


def test_events_in_commit_order(
    twins: TwinService, twin_store: SqliteTwinStore, callers: tuple[Caller, Caller]
) -> None:
    a, _ = callers
    twins.put(a, TID, "/", {})
    twins.put(a, TID, "/attributes/level", 1)
    twins.merge(a, TID, "/attributes", {"level": 2})
    twins.delete(a, TID)
    events = twin_store.read_events(a.tenant)
    assert [(e.seq, e.action, e.path, e.revision) for e in events] == [
        (1, "created", "/", 1),
        (2, "created", "/attributes/level", 2),
        (3, "merged", "/attributes", 3),
        (4, "deleted", "/", 4),
    ]


def test_tenants_are_isolated(twins: TwinService, callers: tuple[Caller, Caller]) -> None:
    a, b = callers
    twins.put(a, TID, "/", {"attributes": {"level": 1}})
    with pytest.raises(errors.ThingNotFound):
        twins.retrieve(b, TID)
    assert twins.get_many(b, [TID]) == []
    assert twins.search(b, "eq(attributes/level,1)")[0] == []
    assert twins.count(b) == 0
    # The same id in another tenant is another twin.
    twins.put(b, TID, "/", {"attributes": {"level": 4}})
    assert twins.retrieve(a, TID, "/attributes/level")[0] == 1


def test_create_generates_id_in_namespace(
    twins: TwinService, callers: tuple[Caller, Caller]
) -> None:
    a, _ = callers
    result = twins.create(a, {"attributes": {"level": 0}}, namespace="campus")
    assert result.created and result.record is not None
    assert result.record.thing_id.startswith("campus:")
    with pytest.raises(errors.IdNotSettable):
        twins.create(a, {"thingId": "campus:x"})


def test_fields_and_get_many(twins: TwinService, callers: tuple[Caller, Caller]) -> None:
    a, _ = callers
    twins.put(a, "campus:b", "/", {"attributes": {"level": 2, "zone": "B"}})
    twins.put(a, "campus:a", "/", {"attributes": {"level": 1}})
    many = twins.get_many(a, ["campus:b", "campus:missing", "campus:a"], fields="thingId,_revision")
    assert many == [
        {"thingId": "campus:b", "_revision": 1},
        {"thingId": "campus:a", "_revision": 1},
    ]
    with pytest.raises(errors.FieldSelectionInvalid):
        twins.retrieve(a, "campus:a", fields="nonsense")


def test_fields_select_inside_a_sub_resource(
    twins: TwinService, callers: tuple[Caller, Caller]
) -> None:
    a, _ = callers
    twins.put(a, TID, "/", {"attributes": {"level": 1, "room": {"floor": 2, "name": "lab"}}})
    value, _ = twins.retrieve(a, TID, "/attributes", fields="room(floor)")
    assert value == {"room": {"floor": 2}}


def test_malformed_body_beats_a_failing_precondition(
    twins: TwinService, callers: tuple[Caller, Caller]
) -> None:
    a, _ = callers
    twins.put(a, TID, "/", {"attributes": {"level": 1}})
    with pytest.raises(errors.JsonFormatInvalid):
        twins.put(a, TID, "/attributes", [1, 2], Preconditions(if_match=('"rev:9"',)))
    with pytest.raises(errors.PreconditionFailed):
        twins.put(a, TID, "/attributes", {"level": 2}, Preconditions(if_match=('"rev:9"',)))
