"""Topic scheme: builders, parsing and the invalid cases."""

from __future__ import annotations

import pytest

from adapters.mqtt.topics import SignalType, TopicError, TopicScheme


def test_builders_follow_the_scheme() -> None:
    topics = TopicScheme()
    assert topics.telemetry("demo", "phone-1", "cell") == "dt/v1/demo/phone-1/tele/cell"
    assert topics.status("demo", "phone-1") == "dt/v1/demo/phone-1/status"
    assert topics.curated("demo", "phone-1", "wifi") == "dt/v1/demo/phone-1/curated/wifi"
    assert topics.dead_letter("demo", "p", "ble") == "dt/v1/demo/p/dlq/ble"
    assert (
        topics.shared("ndtwin", topics.telemetry_filter(SignalType.ENV))
        == "$share/ndtwin/dt/v1/+/+/tele/env"
    )


def test_parse_telemetry_status_and_meta() -> None:
    topics = TopicScheme("x/v1")
    target = topics.parse("x/v1/acme/dev.7_a-b/tele/loc")
    assert (target.tenant, target.device, target.kind, target.signal) == (
        "acme",
        "dev.7_a-b",
        "tele",
        SignalType.LOC,
    )
    assert topics.parse("x/v1/acme/d1/status").kind == "status"
    assert topics.parse("x/v1/acme/d1/meta").kind == "meta"


@pytest.mark.parametrize(
    "topic",
    [
        "other/acme/d1/tele/cell",  # outside the prefix
        "dt/v1/acme/d1/tele/radar",  # unknown signal type
        "dt/v1/acme/d1/tele/cell/extra",  # too deep
        "dt/v1/acme/d1",  # too shallow
        "dt/v1/acme/-d1/tele/cell",  # device must start with a letter or digit
        "dt/v1/ac me/d1/tele/cell",  # space in the tenant
        "dt/v1/acme/d1/cmd",  # not an input kind
    ],
)
def test_parse_rejects(topic: str) -> None:
    with pytest.raises(TopicError):
        TopicScheme().parse(topic)


@pytest.mark.parametrize("prefix", ["", "/dt", "dt/", "dt/+/v1", "$SYS/x"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(TopicError):
        TopicScheme(prefix)


def test_raw_levels_for_dead_letters() -> None:
    topics = TopicScheme()
    assert topics.raw_levels("dt/v1/ac me/d1/tele/x") == ("ac me", "d1")
    assert topics.raw_levels("elsewhere") == ("_", "_")
