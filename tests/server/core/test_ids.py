"""Typed ids reject bad input on construction (Ditto notes §1.1) and are usable as text."""

from __future__ import annotations

import pytest

from server.core.errors import (
    FeatureIdInvalid,
    JsonKeyInvalid,
    JsonPointerInvalid,
    NamespaceInvalid,
    PolicyIdInvalid,
    RelationshipIdInvalid,
    TenantIdInvalid,
    ThingIdInvalid,
)
from server.core.ids import (
    FeatureId,
    JsonPointer,
    PolicyId,
    RelationshipId,
    TenantId,
    ThingId,
    validate_key,
    validate_namespace,
)


@pytest.mark.parametrize(
    ("text", "namespace", "name"),
    [
        ("org.eclipse:lamp", "org.eclipse", "lamp"),
        ("my-ns.sub_1:x", "my-ns.sub_1", "x"),
        (":empty-namespace", "", "empty-namespace"),
        ("ns:name:with:colons", "ns", "name:with:colons"),
        ("ns:€uro sign and spaces", "ns", "€uro sign and spaces"),
        ("a:" + "n" * 254, "a", "n" * 254),
    ],
)
def test_valid_thing_ids_split_into_namespace_and_name(
    text: str, namespace: str, name: str
) -> None:
    tid = ThingId(text)
    assert (tid.namespace, tid.name) == (namespace, name)
    assert tid == text and str(tid) == text
    assert ThingId.of(namespace, name) == tid


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no-colon",
        "ns:",
        "1ns:name",
        "ns.:name",
        "ns..a:name",
        "ns-:name",
        "n s:name",
        "ns:na/me",
        "ns:tab\there",
        "ns:del\x7f",
        "ns:lat\u00e4in",  # Latin-1 'ä' is in \x7F-\xFF
        "nä:name",
        "a:" + "n" * 255,
    ],
)
def test_invalid_thing_ids_raise_the_ditto_error(text: str) -> None:
    with pytest.raises(ThingIdInvalid) as caught:
        ThingId(text)
    assert caught.value.code == "things:id.invalid"
    assert caught.value.status == 400
    assert caught.value.value == text
    assert text in caught.value.message


def test_non_strings_are_rejected() -> None:
    with pytest.raises(ThingIdInvalid):
        ThingId(42)  # type: ignore[arg-type]
    with pytest.raises(TenantIdInvalid):
        TenantId(None)  # type: ignore[arg-type]


def test_policy_ids_share_the_grammar_with_their_own_error() -> None:
    assert PolicyId("ns:policy").namespace == "ns"
    with pytest.raises(PolicyIdInvalid) as caught:
        PolicyId("bad")
    assert caught.value.code == "policies:id.invalid"


@pytest.mark.parametrize("text", ["a", "acme", "tenant-01", "a" + "b" * 62])
def test_valid_tenant_ids(text: str) -> None:
    assert TenantId(text) == text


@pytest.mark.parametrize("text", ["", "Acme", "1acme", "-a", "a_b", "a.b", "a" * 64, "ä"])
def test_invalid_tenant_ids(text: str) -> None:
    with pytest.raises(TenantIdInvalid):
        TenantId(text)


@pytest.mark.parametrize("text", ["lamp", "with space", "€", "a:b", "*x"])
def test_valid_feature_ids(text: str) -> None:
    assert FeatureId(text) == text


@pytest.mark.parametrize("text", ["", "*", "a/b", "\x00", "caf\u00e9"])
def test_invalid_feature_ids(text: str) -> None:
    with pytest.raises(FeatureIdInvalid):
        FeatureId(text)


def test_relationship_ids() -> None:
    assert RelationshipId("phone-1--observes--cell-7") == "phone-1--observes--cell-7"
    for bad in ("", "a/b", "x" * 257, "\n"):
        with pytest.raises(RelationshipIdInvalid):
            RelationshipId(bad)


def test_keys_and_namespaces() -> None:
    assert validate_key("temperature") == "temperature"
    assert validate_namespace("") == ""
    with pytest.raises(JsonKeyInvalid):
        validate_key("")
    with pytest.raises(JsonKeyInvalid):
        validate_key("a/b")
    with pytest.raises(NamespaceInvalid):
        validate_namespace("a..b")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", ()),
        ("/", ()),
        ("/attributes", ("attributes",)),
        ("attributes/location/lat", ("attributes", "location", "lat")),
        ("/features/f 1/properties/~0", ("features", "f 1", "properties", "~0")),
    ],
)
def test_json_pointers_parse(text: str, parts: tuple[str, ...]) -> None:
    pointer = JsonPointer.parse(text)
    assert pointer.parts == parts
    assert str(pointer) == "/" + "/".join(parts)


@pytest.mark.parametrize("text", ["//", "/a//b", "a/", "/a/\x01", "/\u00ff"])
def test_invalid_json_pointers(text: str) -> None:
    with pytest.raises(JsonPointerInvalid) as caught:
        JsonPointer.parse(text)
    assert caught.value.code == "json.pointer.invalid"


def test_json_pointer_navigation() -> None:
    doc = {"attributes": {"list": [{"k": 1}, {"k": 2}], "x": None}}
    pointer = JsonPointer.parse("/attributes/list/1/k")
    assert pointer.get(doc) == 2
    assert JsonPointer.parse("/attributes/x").get(doc) is None
    assert JsonPointer.parse("/attributes/missing").get(doc, "default") == "default"
    with pytest.raises(KeyError):
        JsonPointer.parse("/attributes/list/5").get(doc)
    assert pointer.parent == JsonPointer(("attributes", "list", "1"))
    assert pointer.leaf == "k" and JsonPointer().leaf is None and JsonPointer().is_root
    assert JsonPointer.parse("/attributes").child("x") == JsonPointer(("attributes", "x"))
    assert pointer.startswith(JsonPointer(("attributes",)))
    assert not pointer.startswith(JsonPointer(("features",)))
    with pytest.raises(JsonPointerInvalid):
        JsonPointer(("a", ""))


def test_trusted_wrappers_skip_validation_but_keep_the_type() -> None:
    # Stores use these for values they wrote themselves after validation.
    assert isinstance(ThingId.trusted("ns:x"), ThingId)
    assert isinstance(TenantId.trusted("acme"), TenantId)
    assert isinstance(RelationshipId.trusted("r"), RelationshipId)
