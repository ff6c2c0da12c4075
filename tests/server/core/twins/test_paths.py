"""Resource paths follow Ditto's addressing rules."""

from __future__ import annotations

import pytest

from server.core.twins.paths import Area, InvalidPath, ResourcePath


@pytest.mark.parametrize(
    ("text", "area", "feature", "tokens"),
    [
        ("/", Area.THING, None, ()),
        ("", Area.THING, None, ()),
        ("/policyId", Area.POLICY_ID, None, ()),
        ("/definition", Area.DEFINITION, None, ()),
        ("/attributes", Area.ATTRIBUTES, None, ()),
        ("/attributes/location/lat", Area.ATTRIBUTES, None, ("location", "lat")),
        ("/features", Area.FEATURES, None, ()),
        ("/features/lte", Area.FEATURE, "lte", ()),
        ("/features/lte/definition", Area.FEATURE_DEFINITION, "lte", ()),
        ("/features/lte/properties/rsrp", Area.PROPERTIES, "lte", ("rsrp",)),
        ("/features/lte/desiredProperties", Area.DESIRED, "lte", ()),
        ("attributes/a", Area.ATTRIBUTES, None, ("a",)),
    ],
)
def test_parse_valid(text: str, area: Area, feature: str | None, tokens: tuple[str, ...]) -> None:
    path = ResourcePath.parse(text)
    assert (path.area, path.feature, path.tokens) == (area, feature, tokens)


def test_round_trip_to_string() -> None:
    for text in ("/attributes/a/b", "/features/f/properties/x", "/features/f", "/policyId"):
        assert str(ResourcePath.parse(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "/attributes//a",  # double slash (Ditto quirk: an error)
        "/features/*",  # reserved feature id
        "/features/f/unknown",
        "/policyId/x",
        "/definition/x",
        "/features/f/definition/0",
        "/nothing",
        "/attributes/a\x01b",  # control character in a key
        "/attributes/\xe4",  # Latin-1 range is rejected by Ditto
    ],
)
def test_parse_invalid(text: str) -> None:
    with pytest.raises(InvalidPath):
        ResourcePath.parse(text)


def test_euro_sign_is_a_valid_key() -> None:
    # Ditto rejects \x7F-\xFF but allows characters above that range.
    assert ResourcePath.parse("/attributes/\u20ac").tokens == ("\u20ac",)
