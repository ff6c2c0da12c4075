"""RQL filters and options parse to the AST; bad input raises with a position."""

from __future__ import annotations

import pytest

from server.core.errors import RqlExpressionInvalid, SearchOptionInvalid
from server.core.rql import (
    And,
    Comparison,
    Empty,
    Exists,
    In,
    Like,
    Not,
    Or,
    Placeholder,
    Property,
    SortKey,
    parse_filter,
    parse_options,
    parse_property,
    to_rql,
)


def prop(text: str) -> Property:
    return Property(tuple(text.split("/")))


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ('eq(attributes/room,"hall")', Comparison("eq", prop("attributes/room"), "hall")),
        ("ne(/attributes/n,1)", Comparison("ne", prop("attributes/n"), 1)),
        ("gt(_revision,-2.5e3)", Comparison("gt", prop("_revision"), -2500.0)),
        ("ge(attributes/x,0)", Comparison("ge", prop("attributes/x"), 0)),
        ("lt(attributes/x,true)", Comparison("lt", prop("attributes/x"), True)),
        ("le(attributes/x,null)", Comparison("le", prop("attributes/x"), None)),
        (
            "eq(attributes/x,'single \\'quoted\\'')",
            Comparison("eq", prop("attributes/x"), "single 'quoted'"),
        ),
        ('eq(attributes/x,"a\\"b\\\\c")', Comparison("eq", prop("attributes/x"), 'a"b\\c')),
        ('eq(attributes/x,"(,)")', Comparison("eq", prop("attributes/x"), "(,)")),
        ("lt(_modified,time:now)", Comparison("lt", prop("_modified"), Placeholder.NOW)),
        (
            "eq(attributes/t,time:now_epoch_millis)",
            Comparison("eq", prop("attributes/t"), Placeholder.NOW_EPOCH_MILLIS),
        ),
        ('in(thingId,"a:b",2,false)', In(prop("thingId"), ("a:b", 2, False))),
        ('like(attributes/s,"a*b?")', Like(prop("attributes/s"), "a*b?", False)),
        ('ilike(attributes/s,"a\\*")', Like(prop("attributes/s"), "a\\*", True)),
        ("exists(features/f/properties/p)", Exists(prop("features/f/properties/p"))),
        ("empty(attributes/tags)", Empty(prop("attributes/tags"))),
        ("exists(features/*/properties/t)", Exists(prop("features/*/properties/t"))),
        ("eq(attributes/with space,1)", Comparison("eq", prop("attributes/with space"), 1)),
        (
            "and(exists(attributes/a),or(eq(attributes/b,1),not(empty(attributes/c))))",
            And(
                (
                    Exists(prop("attributes/a")),
                    Or(
                        (
                            Comparison("eq", prop("attributes/b"), 1),
                            Not(Empty(prop("attributes/c"))),
                        )
                    ),
                )
            ),
        ),
    ],
)
def test_filters_parse(text: str, node: object) -> None:
    parsed = parse_filter(text)
    assert parsed == node
    assert parse_filter(to_rql(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("eq", 2),
        ("eq(", 3),
        ("eq(attributes/a)", 15),
        ("eq(attributes/a,)", 16),
        ("eq(attributes/a,1", 17),
        ("eq(attributes/a,1))", 18),
        ("eq(attributes/a,1) ", 18),
        ("foo(attributes/a,1)", 0),
        ("EQ(attributes/a,1)", 0),
        ("eq(unknown/a,1)", 3),
        ("eq(attributes//a,1)", 3),
        ("eq(attributes/a/,1)", 3),
        ("eq(,1)", 3),
        ("eq(thingId/x,1)", 3),
        ("eq(attributes/*/x,1)", 3),
        ("eq(features/f/*/x,1)", 3),
        ("eq(attributes/a,01)", 16),
        ("eq(attributes/a,1.)", 16),
        ("eq(attributes/a,truth)", 16),
        ("eq(attributes/a,bare)", 16),
        ('eq(attributes/a,"open)', 16),
        ("in(attributes/a)", 15),
        ("like(attributes/a,1)", 18),
        ('like(attributes/a,"x\\\\\\")', 18),
        ("and()", 4),
        ("not(eq(attributes/a,1),eq(attributes/b,2))", 22),
        ("exists(attributes/a,1)", 19),
        ("eq( attributes/a,1)", 3),
    ],
)
def test_invalid_filters_report_where(text: str, position: int) -> None:
    with pytest.raises(RqlExpressionInvalid) as caught:
        parse_filter(text)
    assert caught.value.code == "rql.expression.invalid"
    assert caught.value.position == position, caught.value.message
    assert caught.value.expression == text


def test_parse_property() -> None:
    assert parse_property("/features/f/properties/x") == prop("features/f/properties/x")
    assert parse_property("_namespace").is_special
    with pytest.raises(RqlExpressionInvalid):
        parse_property("")


def test_options_parse() -> None:
    options = parse_options("size(10),sort(+attributes/a,-_modified),cursor(abc-_=)")
    assert options.size == 10
    assert options.cursor == "abc-_="
    assert options.sort == (SortKey(prop("attributes/a")), SortKey(prop("_modified"), True))
    assert str(options.sort[1]) == "-_modified"
    assert parse_options("").size is None
    assert parse_options("limit(5,20)").limit == (5, 20)


@pytest.mark.parametrize(
    "text",
    [
        "size(0)",
        "size(201)",
        "size(1),size(2)",
        "limit(0,5),size(3)",
        "cursor(a),cursor(b)",
        "sort(+thingId),sort(-thingId)",
        "limit(-1,5)",
    ],
)
def test_inconsistent_options_are_search_option_errors(text: str) -> None:
    with pytest.raises(SearchOptionInvalid) as caught:
        parse_options(text)
    assert caught.value.code == "thing-search:search.option.invalid"


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("size(x)", 5),
        ("sort(thingId)", 5),
        ("page(1)", 0),
        ("size(1),", 8),
        ("size(1)sort(+thingId)", 7),
        ("cursor()", 7),
        ("sort(+features/*/properties/t)", 6),
    ],
)
def test_malformed_options_are_rql_errors(text: str, position: int) -> None:
    with pytest.raises(RqlExpressionInvalid) as caught:
        parse_options(text)
    assert caught.value.position == position
