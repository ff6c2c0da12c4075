"""Fixtures for core unit tests: a real SQLite store in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.core.context import Caller
from server.core.errors import ValidationDetail
from server.core.stores.sqlite import SqliteTwinStore
from server.core.tenants import TenantService
from server.core.validation.base import TwinValidator


class RuleValidator(TwinValidator):
    """A validator for handler tests: ``attributes.level`` must be an int in 0..4.

    The real validators are tested against the compiled shapes elsewhere; handler tests
    only need a deterministic accept/reject decision.
    """

    def validate_twin(self, doc: dict[str, Any]) -> list[ValidationDetail]:
        level = doc.get("attributes", {}).get("level", 0)
        if isinstance(level, int) and 0 <= level <= 4:
            return []
        return [
            ValidationDetail(
                doc.get("thingId", "?"),
                "/attributes/level",
                "sh:maxInclusive",
                level,
                "level must be within 0..4",
            )
        ]

    def validate_relationship(
        self, rel_type: str, properties: dict[str, Any]
    ) -> list[ValidationDetail]:
        return self.validate_twin({"attributes": properties})


@pytest.fixture
def twin_store(tmp_path: Path) -> Iterator[SqliteTwinStore]:
    with SqliteTwinStore(tmp_path / "twins.db") as s:
        yield s


@pytest.fixture
def callers(twin_store: SqliteTwinStore) -> tuple[Caller, Caller]:
    tenants = TenantService(twin_store)
    a = tenants.authenticate(tenants.create("alpha")[1])
    b = tenants.authenticate(tenants.create("beta")[1])
    return a, b
