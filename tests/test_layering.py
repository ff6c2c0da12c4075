"""Layering rules of the design: the core knows no face, UTT knows no server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(folder: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        if "gen" in path.relative_to(ROOT).parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        (
            "server/core",
            (
                "fastapi",
                "starlette",
                "grpc",
                "uvicorn",
                "paho",
                "server.rest",
                "server.grpc",
                "server.app",
                "adapters",
            ),
        ),
        (
            "server/modeling",
            (
                "fastapi",
                "starlette",
                "grpc",
                "server.core",
                "server.rest",
                "server.grpc",
                "adapters",
            ),
        ),
        ("utt", ("server", "adapters")),
    ],
)
def test_folder_does_not_import(folder: str, forbidden: tuple[str, ...]) -> None:
    offenders = {
        module: sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
        for module, names in _imports(folder).items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_scanner_sees_imports() -> None:
    # Guards the rule tests above against passing because nothing was scanned.
    core = _imports("server/core")
    assert "server.core.batch" in core["server/core/service.py"]
    assert "pyshacl" in core["server/core/validation/shacl.py"]
