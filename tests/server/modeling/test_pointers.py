"""JSON pointers as SDF writes them: RFC 6901 escaping inside URI fragments."""

from __future__ import annotations

import pytest

from server.modeling import pointers

DOC = {
    "sdfData": {
        "a/b": {"type": "number"},
        "m~n": {"type": "string"},
        "caf\u00e9": {"type": "boolean"},
        "100%": {"type": "integer"},
        "with space": {"type": "array", "items": {"type": "number"}},
        "": {"description": "the empty name"},
    },
    "list": [{"x": 1}, {"x": 2}],
}


@pytest.mark.parametrize(
    ("token", "escaped"),
    [("a/b", "a~1b"), ("m~n", "m~0n"), ("~1", "~01"), ("/~", "~1~0"), ("plain", "plain")],
)
def test_escape_token_and_split_round_trip(token: str, escaped: str) -> None:
    assert pointers.escape_token(token) == escaped
    assert pointers.split("/" + escaped) == [token]


def test_split_unescapes_tilde_one_before_tilde_zero() -> None:
    # RFC 6901 §4: "~01" is "~1" (a literal tilde then a one), never "/".
    assert pointers.split("/~01") == ["~1"]


def test_split_accepts_fragment_form_and_empty_pointer() -> None:
    assert pointers.split("#/sdfData/x") == ["sdfData", "x"]
    assert pointers.split("") == []
    assert pointers.split("#") == []
    assert pointers.split("/") == [""]


def test_split_rejects_a_pointer_without_leading_slash() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        pointers.split("#sdfData/x")


@pytest.mark.parametrize(
    ("fragment", "tokens"),
    [
        ("#/sdfData/caf%C3%A9", ["sdfData", "caf\u00e9"]),  # UTF-8, percent-encoded
        ("#/sdfData/100%25", ["sdfData", "100%"]),
        ("#/sdfData/with%20space", ["sdfData", "with space"]),
        # Percent-decoding happens before pointer evaluation (RFC 6901 §6), so an
        # encoded "~" still takes part in escaping and an encoded "/" separates.
        ("#/sdfData/m%7E0n", ["sdfData", "m~n"]),
        ("#/sdfData/a%2Fb", ["sdfData", "a", "b"]),
    ],
)
def test_split_percent_decodes_uri_fragments(fragment: str, tokens: list[str]) -> None:
    assert pointers.split(fragment) == tokens


def test_join_escapes_each_token() -> None:
    assert pointers.join("sdfData", "a/b", "m~n") == "/sdfData/a~1b/m~0n"
    assert pointers.join() == ""


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("#/sdfData/a~1b", {"type": "number"}),
        ("#/sdfData/m~0n", {"type": "string"}),
        ("#/sdfData/caf%C3%A9", {"type": "boolean"}),
        ("#/sdfData/100%25", {"type": "integer"}),
        ("/sdfData/with space/items/type", "number"),
        ("/sdfData/", {"description": "the empty name"}),
        ("/list/1/x", 2),
    ],
)
def test_lookup_follows_escaped_and_encoded_tokens(pointer: str, expected: object) -> None:
    assert pointers.lookup(DOC, pointer) == expected


def test_lookup_of_the_empty_pointer_is_the_document() -> None:
    assert pointers.lookup(DOC, "") is DOC


@pytest.mark.parametrize(
    "pointer",
    [
        "/sdfData/a/b",
        "/list/2",
        "/list/-",
        "/list/x",
        "/list/01",
        "/sdfData/a~1b/type/deeper",
        "/nothing",
    ],
)
def test_lookup_raises_key_error_for_missing_members(pointer: str) -> None:
    with pytest.raises(KeyError):
        pointers.lookup(DOC, pointer)


def test_lookup_accepts_token_lists() -> None:
    assert pointers.lookup(DOC, ["sdfData", "a/b", "type"]) == "number"
