"""The in-memory RQL evaluator (used for write conditions) and the shared literal rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from server.core.errors import RqlExpressionInvalid
from server.core.ids import TenantId, ThingId
from server.core.rql import Placeholder, parse_filter
from server.core.rql.evaluate import matches, matches_record
from server.core.rql.literals import like_to_glob, like_to_regex, like_tokens, resolve
from server.core.rql.sqlite import compile_filter, sqlite_params
from server.core.stores import TwinRecord

THING = {
    "thingId": "org.acme:lamp-1",
    "policyId": "org.acme:lamp-1",
    "attributes": {
        "level": 3,
        "ratio": 0.5,
        "name": "Hall Lamp",
        "tags": ["indoor", "dimmable"],
        "rooms": [{"id": 1, "floor": 0}, {"id": 2}],
        "nothing": None,
        "blank": "",
        "nested": [[1, 2]],
    },
    "features": {"power": {"properties": {"on": True, "watts": 7.5}}},
}


@pytest.mark.parametrize(
    ("rql", "expected"),
    [
        ("eq(attributes/level,3)", True),
        ("eq(attributes/level,3.0)", True),
        ('eq(attributes/level,"3")', False),
        ("ne(attributes/level,3)", False),
        ("ne(attributes/level,4)", True),
        ("ne(attributes/missing,4)", False),
        ("gt(attributes/missing,0)", False),
        ("lt(attributes/ratio,1)", True),
        ('gt(attributes/name,"Hall")', True),
        ("gt(attributes/name,1)", False),
        ('eq(attributes/tags,"indoor")', True),
        ('ne(attributes/tags,"indoor")', True),
        ("eq(attributes/rooms/id,2)", True),
        ("eq(attributes/rooms/floor,0)", True),
        ("exists(attributes/rooms/floor)", True),
        ("eq(attributes/nested,1)", False),
        ("exists(attributes/nothing)", True),
        ("eq(attributes/nothing,null)", True),
        ("empty(attributes/nothing)", True),
        ("empty(attributes/blank)", True),
        ("empty(attributes/tags)", False),
        ("empty(attributes/missing)", True),
        ("eq(features/power/properties/on,true)", True),
        ("eq(features/power/properties/on,1)", False),
        ("gt(features/*/properties/watts,7)", True),
        ('like(attributes/name,"Hall*")', True),
        ('like(attributes/name,"hall*")', False),
        ('ilike(attributes/name,"hall*")', True),
        ('like(attributes/name,"Hall?Lamp")', True),
        ('eq(_namespace,"org.acme")', True),
        ('like(thingId,"org.acme:*")', True),
        ("eq(_revision,4)", True),
        ('gt(_modified,"2025-01-01")', True),
        ('lt(_modified,"2025-01-01T00:00:10.000001Z")', True),
        ("lt(_modified,time:now)", True),
        ("and(eq(attributes/level,3),not(exists(attributes/missing)))", True),
        ("or(eq(attributes/level,1),eq(attributes/level,2))", False),
    ],
)
def test_matches_a_stored_twin(rql: str, expected: bool) -> None:
    record = TwinRecord(
        TenantId("acme"),
        ThingId(THING["thingId"]),
        4,
        datetime(2024, 6, 1, tzinfo=UTC),
        datetime(2025, 1, 1, 0, 0, 10, tzinfo=UTC),
        THING,
    )
    assert matches_record(parse_filter(rql), record) is expected


def test_matches_accepts_datetime_special_fields() -> None:
    view = {**THING, "_modified": datetime(2025, 1, 1, tzinfo=UTC)}
    assert matches(parse_filter('ge(_modified,"2025-01-01T00:00:00Z")'), view)
    assert not matches(parse_filter('gt(_modified,"2025-01-01T00:00:00Z")'), view)


def test_like_tokens_and_translations() -> None:
    assert [t.kind for t in like_tokens("a*\\*?\\?\\\\x")] == [
        "char",
        "any",
        "char",
        "one",
        "char",
        "char",
        "char",
    ]
    assert like_to_glob("a*[\\*?") == "a*[[][*]?"
    regex = like_to_regex("1+1=*?.")
    assert re.fullmatch(regex, "1+1=xy.") and not re.fullmatch(regex, "111=xy.")
    assert like_to_regex("Ä*", lower=True) == "^ä.*$"


def test_resolve_normalises_time_literals_and_placeholders() -> None:
    now = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    assert resolve("2025-01-01", "_modified", now) == "2025-01-01T00:00:00.000000Z"
    assert resolve("2025-01-01T01:00:00+01:00", "_created", now) == "2025-01-01T00:00:00.000000Z"
    assert resolve("not a date", "_modified", now) == "not a date"
    assert resolve("2025-01-01", "attributes", now) == "2025-01-01"
    assert resolve(Placeholder.NOW, "_modified", now) == "2025-03-04T05:06:07.890000Z"
    assert resolve(Placeholder.NOW_EPOCH_MILLIS, "attributes", now) == 1741064767890


def test_sqlite_refuses_keys_its_json_paths_cannot_address() -> None:
    with pytest.raises(RqlExpressionInvalid):
        compile_filter(
            parse_filter("eq(attributes/back\\slash,1)"), sqlite_params(), datetime.now(UTC)
        )
