"""Findings of the SDF toolchain: one ``Issue`` per problem, one line each.

An issue names the file, the JSON pointer (RFC 6901) of the offending member,
the rule that found it and a severity. The text form is meant for terminals and
editors (``path:/pointer: error [rule-id] message``); the JSON form for tools.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ERROR", "WARNING", "Issue", "Severity", "count_errors", "sort_issues"]

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about one location of one SDF file."""

    file: str
    pointer: str
    rule: str
    severity: Severity
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def render(self) -> str:
        """Render as one line: ``path:/json/pointer: severity [rule] message``.

        The document root, whose RFC 6901 pointer is the empty string, is shown
        as ``/`` so the line keeps its three colon-separated fields.
        """
        message = " ".join(self.message.split())
        return f"{self.file}:{self.pointer or '/'}: {self.severity} [{self.rule}] {message}"

    def to_json(self) -> dict[str, Any]:
        """The issue as a JSON object; ``pointer`` is exact (``""`` is the root)."""
        return {
            "file": self.file,
            "pointer": self.pointer,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
        }


def count_errors(issues: Iterable[Issue]) -> int:
    """Number of error-severity issues (warnings do not make input invalid)."""
    return sum(1 for issue in issues if issue.is_error)


def sort_issues(issues: Iterable[Issue]) -> list[Issue]:
    """Issues in a stable order: by file, then by position of the pointer."""
    return sorted(issues, key=lambda i: (i.file, i.pointer.split("/"), i.rule, i.message))
