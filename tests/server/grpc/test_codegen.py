"""The committed stubs match the protos, and buf lint is clean (when buf is installed)."""

from __future__ import annotations

import pytest

from server.grpc import codegen


def test_committed_stubs_are_not_stale() -> None:
    stale = codegen.stale_files()
    assert stale == [], f"regenerate with `python -m server.grpc.codegen`: {stale}"


def test_buf_lint_is_clean() -> None:
    if codegen.buf_binary() is None:
        pytest.skip("buf is not installed (pip install buf-bin)")
    result = codegen.lint()
    assert result.returncode == 0, result.stdout + result.stderr
