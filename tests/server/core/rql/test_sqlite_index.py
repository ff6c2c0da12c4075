"""The SQLite value index: its rows, its maintenance by diff, and the sets it plans.

The index is checked against the in-memory evaluator (the reference of the RQL
semantics) on generated documents, in a real SQLite database holding a bare ``twins``
table and ``twin_values``; the store wiring itself is covered by the contract suite.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from server.core.errors import RqlExpressionInvalid
from server.core.ids import TenantId, ThingId
from server.core.rql import parse_filter, parse_options
from server.core.rql.ast import And, Comparison, Exists, In, Like, Node, Or, Property
from server.core.rql.evaluate import matches
from server.core.rql.sqlite import compile_filter, sqlite_params
from server.core.rql.sqlite_index import (
    KIND_BOOL,
    KIND_NODE,
    KIND_NULL,
    KIND_NUMBER,
    KIND_STRING,
    TABLE_SQL,
    diff_rows,
    doc_rows,
    plan_filter,
)
from server.core.stores import TwinPut, TwinRecord, WriteBatch, sqlite_values
from server.core.stores.sqlite import SqliteTwinStore
from server.core.stores.sqlite_values import (
    ensure_index,
    filter_source,
    rebuild,
    update_twin,
)
from tests.contract.generated_twins import KEYS, random_doc, random_scalar, random_value

NOW = datetime(2025, 6, 1, tzinfo=UTC)
TENANT = "acme"


def test_rows_follow_the_paths_the_evaluator_walks() -> None:
    doc = {
        "thingId": "ns:x",
        "policyId": "ns:x",
        "attributes": {
            "n": 1,
            "tags": ["a", ["b"], {"k": 2}, None, True],
            "list": [{"k": [3, 4]}, {"k": "s"}],
            "bad/key": 9,
        },
        "features": {"env": {"properties": {"t": 2.5}}},
    }
    rows = doc_rows(doc)
    assert ("attributes/n", KIND_NUMBER, 1, "") in rows
    assert {r for r in rows if r[0] == "attributes/tags"} == {
        ("attributes/tags", KIND_STRING, "a", ""),
        ("attributes/tags", KIND_NULL, "", ""),
        ("attributes/tags", KIND_BOOL, 1, ""),
    }
    assert ("attributes/tags/k", KIND_NUMBER, 2, "") in rows
    assert ("attributes/list/k", KIND_NUMBER, 3, "") in rows
    assert ("attributes/list/k", KIND_NUMBER, 4, "") in rows
    assert ("attributes/list/k", KIND_STRING, "s", "") in rows
    assert ("features/*/properties/t", KIND_NUMBER, 2.5, "env") in rows
    # Containers holding something indexed have no row of their own; empty ones do.
    assert not any(r[1] == KIND_NODE for r in rows)
    empty = doc_rows({"attributes": {"o": {}, "l": [], "n": [[1]], "e": [{}]}, "features": {}})
    assert {r for r in empty if r[1] == KIND_NODE} == {
        ("attributes/o", KIND_NODE, "", ""),
        ("attributes/l", KIND_NODE, "", ""),
        ("attributes/n", KIND_NODE, "", ""),
        ("attributes/e", KIND_NODE, "", ""),
        ("features", KIND_NODE, "", ""),
    }
    assert ("policyId", KIND_STRING, "ns:x", "") in rows
    assert not any(r[0].startswith("thingId") or "bad" in r[0] for r in rows)


# --- a bare database: twins (as the store reads it) and the index ----------------------


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.create_function("ndt_lower", 1, lambda v: v.lower() if isinstance(v, str) else v)
    conn.execute(
        "CREATE TABLE twins (tenant TEXT NOT NULL, thing_id TEXT NOT NULL, doc TEXT NOT NULL, "
        "UNIQUE (tenant, thing_id))"
    )
    conn.execute(TABLE_SQL)
    try:
        yield conn
    finally:
        conn.close()


def _write(conn: sqlite3.Connection, thing_id: str, doc: dict[str, Any] | None) -> None:
    cur = conn.cursor()
    stored = cur.execute(
        "SELECT doc FROM twins WHERE tenant = ? AND thing_id = ?", (TENANT, thing_id)
    ).fetchone()
    update_twin(cur, TENANT, thing_id, stored[0] if stored else None, doc)
    if doc is None:
        cur.execute("DELETE FROM twins WHERE tenant = ? AND thing_id = ?", (TENANT, thing_id))
    else:
        cur.execute(
            "INSERT OR REPLACE INTO twins (tenant, thing_id, doc) VALUES (?, ?, ?)",
            (TENANT, thing_id, orjson.dumps(doc).decode()),
        )


def _stored_rows(conn: sqlite3.Connection) -> set[tuple[Any, ...]]:
    return set(conn.execute("SELECT tenant, path, kind, value, fid, thing_id FROM twin_values"))


def _expected_rows(conn: sqlite3.Connection) -> set[tuple[Any, ...]]:
    out: set[tuple[Any, ...]] = set()
    for tenant, thing_id, text in conn.execute("SELECT tenant, thing_id, doc FROM twins"):
        out |= {(tenant, *row, thing_id) for row in doc_rows(orjson.loads(text))}
    return out


def _served(conn: sqlite3.Connection, node: Node) -> list[str] | None:
    """Ids the index alone returns for ``node``, or None if part of it is residual."""
    params = sqlite_params()
    params.values["tenant"] = TENANT
    plan = plan_filter(node, params, NOW, ":tenant")
    if plan is None or plan.condition != "1":
        return None
    rows = conn.execute(plan.candidates, params.values).fetchall()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "candidates must be distinct"
    return sorted(ids)


# --- generated documents and filters ----------------------------------------------------


def _doc(rng: random.Random, thing_id: str) -> dict[str, Any]:
    return {"thingId": thing_id, "policyId": thing_id, **random_doc(rng, min_features=1)}


_PATHS = [
    "attributes/a",
    "attributes/b",
    "attributes/a/k",
    "attributes/k",
    "attributes/b/k",
    "features/*/properties/a",
    "features/f/properties/a",
    "features/g/properties/k",
    "features/*/properties/b/k",
    "features/f",
    "features/*",
    "policyId",
]
_PATTERNS = ["a*", "*", "?", "A*", "a", "*b", "a?", "\\*", "1*"]


def _atom(rng: random.Random) -> Node:
    prop = Property(tuple(rng.choice(_PATHS).split("/")))
    roll = rng.random()
    if roll < 0.5:
        op = rng.choice(["eq", "gt", "ge", "lt", "le"])
        return Comparison(op, prop, random_scalar(rng))  # type: ignore[arg-type]
    if roll < 0.65:
        return In(prop, tuple(random_scalar(rng) for _ in range(rng.randint(1, 3))))
    if roll < 0.85:
        return Like(prop, rng.choice(_PATTERNS), rng.random() < 0.4)
    return Exists(prop)


def _filter(rng: random.Random, depth: int = 0) -> Node:
    if depth < 2 and rng.random() < 0.3:
        children = tuple(_filter(rng, depth + 1) for _ in range(rng.randint(2, 3)))
        return And(children) if rng.random() < 0.5 else Or(children)
    return _atom(rng)


def test_index_sets_agree_with_the_evaluator_on_generated_twins(db: sqlite3.Connection) -> None:
    rng = random.Random(4)
    docs = {f"ns:t{i}": _doc(rng, f"ns:t{i}") for i in range(60)}
    for thing_id, doc in docs.items():
        _write(db, thing_id, doc)
    for round_ in range(3):
        assert _stored_rows(db) == _expected_rows(db)
        for _ in range(300):
            node = _filter(rng)
            got = _served(db, node)
            assert got is not None
            expected = sorted(i for i, d in docs.items() if matches(node, d, now=NOW))
            assert got == expected, (round_, node)
        # Replace, change and delete twins: the diff must leave exactly the new rows.
        for thing_id in rng.sample(sorted(docs), 20):
            if rng.random() < 0.25:
                _write(db, thing_id, None)
                del docs[thing_id]
            else:
                docs[thing_id] = _doc(rng, thing_id)
                _write(db, thing_id, docs[thing_id])


def test_a_large_twin_is_written_in_several_statements(db: sqlite3.Connection) -> None:
    doc = {"attributes": {f"a{i}": i for i in range(150)}, "features": {"f": {"properties": {}}}}
    _write(db, "ns:big", doc)
    assert _stored_rows(db) == _expected_rows(db)
    assert len(_stored_rows(db)) == 151


def test_a_one_leaf_change_touches_one_row_each_way(db: sqlite3.Connection) -> None:
    doc = {"attributes": {"x": 1, "y": [1, 2], "z": {"w": "a"}}}
    _write(db, "ns:a", doc)
    before = db.total_changes
    _write(db, "ns:a", {"attributes": {"x": 2, "y": [1, 2], "z": {"w": "a"}}})
    # One delete, one insert, and the twins row itself.
    assert db.total_changes - before == 3
    assert _stored_rows(db) == _expected_rows(db)


@pytest.mark.parametrize(
    ("rql", "served"),
    [
        ('eq(attributes/zone,"z12")', True),
        ('and(eq(attributes/zone,"z12"),ne(attributes/x,1))', False),
        ("ne(attributes/x,1)", False),
        ("not(exists(attributes/x))", False),
        ("empty(attributes/x)", False),
        ("or(eq(attributes/a,1),ne(attributes/b,1))", False),
        ('eq(thingId,"ns:a")', False),
        ("gt(_revision,1)", False),
        ('like(features/*/properties/name,"ab*")', True),
    ],
)
def test_what_the_index_serves(rql: str, served: bool) -> None:
    params = sqlite_params()
    plan = plan_filter(parse_filter(rql), params, NOW, ":tenant")
    is_served = plan is not None and plan.condition == "1"
    assert is_served is served
    if rql.startswith("and("):
        # The indexable term still narrows; the other is evaluated on the candidates.
        assert plan is not None and plan.condition != "1"


def test_keys_json1_cannot_address_are_refused_as_by_the_scan() -> None:
    with pytest.raises(RqlExpressionInvalid):
        plan_filter(parse_filter('eq(attributes/a"b,1)'), sqlite_params(), NOW, ":tenant")


def test_like_prefix_bounds_keep_every_match(db: sqlite3.Connection) -> None:
    values = ["ab", "ab\U0010ffff", "ac", "a\ud7ff", "a\ue000", "b", "a"]
    for i, value in enumerate(values):
        _write(db, f"ns:v{i}", {"attributes": {"s": value}})
    for pattern in ["a*", "ab*", "a\ud7ff*", "ab\U0010ffff*", "a?"]:
        node = parse_filter(f'like(attributes/s,"{pattern}")')
        expected = sorted(
            f"ns:v{i}" for i, v in enumerate(values) if matches(node, {"attributes": {"s": v}})
        )
        assert _served(db, node) == expected, pattern


def test_an_old_database_gets_the_index_on_open(tmp_path: Any) -> None:
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.execute("CREATE TABLE twins (tenant TEXT, thing_id TEXT, doc TEXT)")
    docs = {f"ns:{i}": {"attributes": {"n": i, "tags": ["x", i]}} for i in range(30)}
    conn.executemany(
        "INSERT INTO twins VALUES (?, ?, ?)",
        [(TENANT, i, orjson.dumps(d).decode()) for i, d in docs.items()],
    )
    assert ensure_index(conn) is True
    assert ensure_index(conn) is False
    assert _stored_rows(conn) == _expected_rows(conn)
    conn.execute("DELETE FROM twin_values WHERE thing_id = 'ns:3'")
    assert rebuild(conn) == len(_expected_rows(conn))
    assert _stored_rows(conn) == _expected_rows(conn)
    conn.close()


# --- in the store: the same answers as the JSON1 scan, a migration, the plan chosen ------


def _scan_ids(path: Any, node: Node) -> list[str]:
    """What the JSON1 compiler (the store's fallback) answers, on the store's file."""
    conn = sqlite3.connect(path)
    conn.create_function("ndt_lower", 1, lambda v: v.lower() if isinstance(v, str) else v)
    try:
        params = sqlite_params()
        params.values["tenant"] = TENANT
        condition = compile_filter(node, params, NOW)
        rows = conn.execute(
            f"SELECT thing_id FROM twins t WHERE t.tenant = :tenant AND {condition}",
            params.values,
        ).fetchall()
    finally:
        conn.close()
    return sorted(r[0] for r in rows)


@pytest.fixture
def store(tmp_path: Any) -> Iterator[SqliteTwinStore]:
    opened = SqliteTwinStore(tmp_path / "twins.db")
    opened.open()
    opened.create_tenant(TenantId(TENANT), "hash", NOW)
    try:
        yield opened
    finally:
        opened.close()


def _put(store: SqliteTwinStore, docs: dict[str, dict[str, Any]], revision: int = 1) -> None:
    records = [
        TwinRecord(TenantId(TENANT), ThingId(i), revision, NOW, NOW, {"thingId": i, **d})
        for i, d in docs.items()
    ]
    store.commit(TenantId(TENANT), WriteBatch(twin_puts=[TwinPut(r) for r in records]))


def test_index_served_searches_equal_the_json1_scan(store: SqliteTwinStore) -> None:
    rng = random.Random(9)
    docs = {f"ns:t{i}": _doc(rng, f"ns:t{i}") for i in range(50)}
    _put(store, docs)
    _put(store, {i: _doc(rng, i) for i in rng.sample(sorted(docs), 20)}, revision=2)
    for _ in range(300):
        node = _filter(rng)
        page = store.search(TenantId(TENANT), node, size=200)
        assert sorted(str(t.thing_id) for t in page.items) == _scan_ids(store.path, node), node


def test_the_index_drives_selective_filters(
    store: SqliteTwinStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(store, {f"ns:t{i}": {"attributes": {"serial": f"s-{i}", "all": 1}} for i in range(30)})
    params = sqlite_params()
    params.values["tenant"] = TENANT
    conn = sqlite3.connect(store.path)
    try:
        node = parse_filter('and(eq(attributes/serial,"s-3"),ne(attributes/x,1))')
        source, condition = filter_source(conn, node, params, NOW, ())
        assert "twin_values" in source and "twin_values" not in condition
        broad = parse_filter("eq(attributes/all,1)")
        assert "twin_values" in filter_source(conn, broad, params, NOW, ())[0]
        # Too many candidates in thing id order: walking the twins wins, unless the
        # order is another one (all matches are sorted anyway) or it is a count.
        monkeypatch.setattr(sqlite_values, "PROBE_LIMIT", 10)
        assert filter_source(conn, broad, params, NOW, ())[0] == "twins t"
        assert "twin_values" in filter_source(conn, broad, params, NOW, None)[0]
        # A broad term next to a narrow one is checked on the narrow one's candidates.
        both = parse_filter('and(eq(attributes/all,1),eq(attributes/serial,"s-3"))')
        source, condition = filter_source(conn, both, params, NOW, ())
        assert source.count("twin_values") == 1 and "json" in condition
        found = conn.execute(
            f"SELECT t.thing_id FROM {source} WHERE {condition}", params.values
        ).fetchall()
        assert found == [("ns:t3",)]
        sorted_by_value = parse_options("sort(+attributes/serial)").sort
        assert "twin_values" in filter_source(conn, broad, params, NOW, sorted_by_value)[0]
    finally:
        conn.close()


def test_a_store_file_without_the_index_gets_it_at_open(store: SqliteTwinStore) -> None:
    _put(store, {f"ns:t{i}": {"attributes": {"zone": f"z{i % 3}"}} for i in range(9)})
    store.close()
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("DROP TABLE twin_values")
    conn.close()
    store.open()
    found = store.search(TenantId(TENANT), parse_filter('eq(attributes/zone,"z1")'), size=200)
    assert [str(t.thing_id) for t in found.items] == ["ns:t1", "ns:t4", "ns:t7"]


def _mutate(rng: random.Random, node: Any) -> Any:
    """A copy of ``node`` with a few leaves changed (often to an == but other-typed value)."""
    if isinstance(node, dict):
        out = {k: (_mutate(rng, v) if rng.random() < 0.5 else v) for k, v in node.items()}
        if rng.random() < 0.2:
            out[rng.choice(KEYS)] = random_value(rng, 2)
        if out and rng.random() < 0.1:
            del out[rng.choice(sorted(out))]
        return out
    if isinstance(node, list):
        return [(_mutate(rng, v) if rng.random() < 0.5 else v) for v in node]
    if rng.random() < 0.4:
        # Values Python finds equal that are different JSON (or the same number).
        if isinstance(node, bool):
            return int(node)
        if type(node) is int and node in (0, 1):
            return bool(node)
        if type(node) is float and node.is_integer():
            return int(node)
    return random_scalar(rng) if rng.random() < 0.5 else node


def test_the_diff_equals_the_difference_of_full_row_sets() -> None:
    rng = random.Random(12)
    for i in range(400):
        old = _doc(rng, f"ns:{i}")
        new = _mutate(rng, old) if rng.random() < 0.8 else _doc(rng, f"ns:{i}")
        before, after = doc_rows(old), doc_rows(new)
        assert diff_rows(old, new) == (before - after, after - before), (old, new)
    assert diff_rows(None, {"attributes": {"a": 1}})[1] == doc_rows({"attributes": {"a": 1}})
    assert diff_rows({"attributes": {"a": 1}}, None)[0] == doc_rows({"attributes": {"a": 1}})
    flipped = diff_rows(
        {"attributes": {"a": [1, {"b": True}]}}, {"attributes": {"a": [1, {"b": 1}]}}
    )
    assert flipped == (
        {("attributes/a/b", KIND_BOOL, 1, "")},
        {("attributes/a/b", KIND_NUMBER, 1, "")},
    )
