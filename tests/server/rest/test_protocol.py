"""Ditto Protocol shapes: partial things, event envelopes, command parsing, filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.core import errors
from server.core.ids import TenantId
from server.core.stores.records import ChangeEvent
from server.rest.protocol import Command, EventFilter, event_envelope, partial_thing

WHEN = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)


def _event(action: str, path: str, value: object, entity: str = "org.a:x") -> ChangeEvent:
    return ChangeEvent(TenantId("alpha"), "twin", action, entity, path, value, 4, WHEN, 17)


def test_partial_thing_nests_the_change_at_its_path() -> None:
    assert partial_thing(_event("modified", "/features/lamp/properties/on", False)) == {
        "thingId": "org.a:x",
        "features": {"lamp": {"properties": {"on": False}}},
    }
    assert partial_thing(_event("created", "/", {"thingId": "org.a:x", "attributes": {}})) == {
        "thingId": "org.a:x",
        "attributes": {},
    }
    assert partial_thing(_event("deleted", "/", None)) == {"thingId": "org.a:x"}
    assert partial_thing(_event("deleted", "/attributes/a", None)) == {
        "thingId": "org.a:x",
        "attributes": {"a": None},
    }


def test_event_envelope() -> None:
    assert event_envelope(_event("merged", "/attributes", {"a": None})) == {
        "topic": "org.a/x/things/twin/events/merged",
        "headers": {"content-type": "application/merge-patch+json"},
        "path": "/attributes",
        "value": {"a": None},
        "revision": 4,
        "timestamp": "2026-01-02T03:04:05.600000Z",
    }
    deleted = event_envelope(_event("deleted", "/", None, entity=":bare"))
    assert deleted["topic"] == "/bare/things/twin/events/deleted"
    assert "value" not in deleted


def test_command_parse() -> None:
    command = Command.parse(
        {
            "topic": "org.a/x/things/twin/commands/modify",
            "headers": {"Correlation-Id": "c", "if-match": "*"},
            "path": "/attributes/a",
            "value": 0,
        }
    )
    assert (command.thing_id, command.action, command.path, command.value) == (
        "org.a:x",
        "modify",
        "/attributes/a",
        0,
    )
    assert command.headers == {"correlation-id": "c", "if-match": "*"}
    assert command.has_value
    for bad in (
        [],
        {"topic": 1},
        {"topic": "a/b/things/live/commands/modify"},
        {"topic": "a/b/things/twin/commands/migrate"},
        {"topic": "a/b/things/twin/commands/modify", "headers": []},
        {"topic": "a/b/things/twin/commands/modify", "path": 3},
    ):
        with pytest.raises(errors.JsonFormatInvalid):
            Command.parse(bad)


def test_event_filter() -> None:
    event = _event("modified", "/attributes/n", 3)
    partial = partial_thing(event)
    assert EventFilter.parse(None, None).accepts(event, partial)
    assert EventFilter.parse("org.a,org.b", "gt(attributes/n,2)").accepts(event, partial)
    assert not EventFilter.parse("org.b", None).accepts(event, partial)
    assert not EventFilter.parse(None, "gt(attributes/n,3)").accepts(event, partial)
    assert not EventFilter.parse(None, None, ["org.a:y"]).accepts(event, partial)
    relationship = ChangeEvent(
        TenantId("alpha"), "relationship", "created", "r1", "/", {}, 1, WHEN, 18
    )
    assert not EventFilter.parse(None, None).accepts(relationship, {})
    with pytest.raises(errors.RqlExpressionInvalid):
        EventFilter.parse(None, "eq(")
