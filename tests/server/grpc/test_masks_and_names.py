"""Field masks, order_by and resource names."""

from __future__ import annotations

import pytest

from server.core import errors
from server.core.context import Caller
from server.core.ids import TenantId
from server.grpc.masks import (
    FieldMaskInvalid,
    OrderByInvalid,
    apply_mask,
    order_by_to_sort,
    split_path,
)
from server.grpc.names import (
    ResourceNameInvalid,
    parse_graph_name,
    parse_model_name,
    parse_parent,
    parse_relationship_name,
    parse_twin_name,
)

FIELDS = {"policy_id": "policyId", "attributes": "attributes", "features": "features"}
ALPHA = Caller(TenantId("alpha"))


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("a", ["a"]),
        ("a.b.c", ["a", "b", "c"]),
        ("a.`b.c`", ["a", "b.c"]),
        ("`a``b`.c", ["a`b", "c"]),
        ("attributes.`x`", ["attributes", "x"]),
    ],
)
def test_split_path(path: str, parts: list[str]) -> None:
    assert split_path(path) == parts


@pytest.mark.parametrize("path", ["", "a..b", "a.", ".a", "a.`b", "a`b`", "`a`b", "a.b`c`"])
def test_split_path_rejects(path: str) -> None:
    with pytest.raises(FieldMaskInvalid):
        split_path(path)


def test_apply_mask() -> None:
    current = {"policyId": "p", "attributes": {"a": 1, "n": {"x": 1, "y": 2}}, "features": {}}
    values = {"attributes": {"a": 5, "n": {"x": 9}, "new": {"k": 1}}}
    assert apply_mask(current, values, ["attributes.n.x", "attributes.new.k"], FIELDS) == {
        "policyId": "p",
        "attributes": {"a": 1, "n": {"x": 9, "y": 2}, "new": {"k": 1}},
        "features": {},
    }
    # Absent in the values: removed; the current document is not modified in place.
    assert apply_mask(current, {}, ["attributes.n.y", "attributes.none.deeper"], FIELDS)[
        "attributes"
    ] == {"a": 1, "n": {"x": 1}}
    assert current["attributes"]["n"] == {"x": 1, "y": 2}
    assert apply_mask(current, values, None, FIELDS)["attributes"] == values["attributes"]
    assert apply_mask(current, values, ["*"], FIELDS) == {"attributes": values["attributes"]}
    assert apply_mask(current, values, ["etag"], FIELDS, frozenset({"etag"})) == current
    with pytest.raises(FieldMaskInvalid):
        apply_mask(current, values, ["revision"], FIELDS)
    with pytest.raises(FieldMaskInvalid):
        apply_mask(current, values, ["attributes", "*"], FIELDS)


@pytest.mark.parametrize(
    ("order_by", "sort"),
    [
        ("", ""),
        ("thing_id", "+thingId"),
        ("revision desc, create_time", "-_revision,+_created"),
        ("attributes.level DESC", "-attributes/level"),
        ("features.cell.properties.rsrp asc", "+features/cell/properties/rsrp"),
    ],
)
def test_order_by(order_by: str, sort: str) -> None:
    assert order_by_to_sort(order_by) == sort


@pytest.mark.parametrize(
    "order_by", ["name", "thing_id up", "a b c", ",", "attributes", "attributes.`a/b`", "thing_id,"]
)
def test_order_by_rejects(order_by: str) -> None:
    with pytest.raises(OrderByInvalid):
        order_by_to_sort(order_by)


def test_names_of_the_callers_tenant() -> None:
    assert parse_parent("tenants/alpha", ALPHA) == "alpha"
    assert parse_twin_name("tenants/alpha/twins/org.x:a b", ALPHA) == "org.x:a b"
    assert parse_relationship_name("tenants/alpha/relationships/r-1", ALPHA) == "r-1"
    assert parse_graph_name("tenants/alpha/graph", ALPHA) == "alpha"
    assert parse_model_name("models/cellular") == "cellular"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "tenants",
        "tenants/",
        "tenant/alpha",
        "tenants/alpha/x",
        "tenants/alpha/twins",
        "tenants/alpha/twins/",
        "/tenants/alpha",
        "tenants/alpha/things/a:b",
        "tenants/alpha/twins/a:b/c",
    ],
)
def test_malformed_names_are_invalid_argument(name: str) -> None:
    with pytest.raises(ResourceNameInvalid):
        if name.count("/") >= 2:
            parse_twin_name(name, ALPHA)
        else:
            parse_parent(name, ALPHA)


def test_other_tenants_names_read_as_not_found() -> None:
    with pytest.raises(errors.TenantNotFound):
        parse_parent("tenants/beta", ALPHA)
    with pytest.raises(errors.ThingNotFound):
        parse_twin_name("tenants/beta/twins/org.x:a", ALPHA)
    with pytest.raises(errors.RelationshipNotFound):
        parse_relationship_name("tenants/beta/relationships/r", ALPHA)
    with pytest.raises(errors.TenantNotFound):
        parse_graph_name("tenants/beta/graph", ALPHA)
    with pytest.raises(errors.ThingIdInvalid):  # a bad id stays a bad id
        parse_twin_name("tenants/alpha/twins/no-colon", ALPHA)
