"""Ditto headers of a request, some of which may also come as query parameters.

Ditto's gateway reads a fixed list of headers from the query string too
(``query-params-as-headers``, ditto-api notes §1.2); a header wins over a parameter of
the same name. Conditional-request headers become one `Preconditions` (notes §1.4):
``If-Match``, ``If-None-Match`` and the RQL ``condition``, whose syntax errors are
Ditto's ``things:condition.invalid``, not a search error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from server.core import errors
from server.core.preconditions import Preconditions, parse_etags
from server.core.rql.parser import parse_filter

__all__ = ["QUERY_HEADERS", "DittoHeaders", "parse_bool"]

#: Headers Ditto also accepts as query parameters (gateway.conf query-params-as-headers).
QUERY_HEADERS: frozenset[str] = frozenset(
    {
        "accept",
        "allow-policy-lockout",
        "at-historical-revision",
        "at-historical-timestamp",
        "channel",
        "condition",
        "correlation-id",
        "declared-acks",
        "dry-run",
        "live-channel-condition",
        "live-channel-timeout-strategy",
        "requested-acks",
        "response-required",
        "timeout",
    }
)


def parse_bool(value: str | None, default: bool) -> bool:
    """Ditto's boolean header values: ``true``/``false`` (case-insensitive)."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise errors.BadRequest(f"The value '{value}' is not a boolean (true or false).")


@dataclass(frozen=True, slots=True)
class DittoHeaders:
    """Case-insensitive view over request headers plus the query parameters Ditto reads."""

    headers: Mapping[str, str]
    query: Mapping[str, str]

    def get(self, name: str) -> str | None:
        """The header ``name`` (lower case), else the query parameter if Ditto reads one."""
        value = self.headers.get(name)
        if value is None and name in QUERY_HEADERS:
            value = self.query.get(name)
        return value

    @property
    def correlation_id(self) -> str | None:
        """Ditto's ``correlation-id``."""
        return self.get("correlation-id")

    @property
    def response_required(self) -> bool:
        """False when the client asked not to wait for a response body (202)."""
        return parse_bool(self.get("response-required"), True)

    @property
    def if_equal_skip(self) -> bool:
        """``if-equal: skip`` (or ``skip-minimizing-merge``): a no-op write answers 412."""
        value = (self.get("if-equal") or "update").strip().lower()
        if value not in ("update", "skip", "skip-minimizing-merge"):
            raise errors.BadRequest(
                f"The if-equal value '{value}' is not one of update, skip, skip-minimizing-merge."
            )
        return value != "update"

    def preconditions(self) -> Preconditions:
        """``If-Match``, ``If-None-Match`` and ``condition`` as core preconditions."""
        condition = self.get("condition")
        node = None
        if condition is not None:
            try:
                node = parse_filter(condition)
            except errors.RqlExpressionInvalid as exc:
                raise errors.ConditionInvalid(
                    f"The condition '{condition}' is not valid RQL: {exc.message}"
                ) from exc
        return Preconditions(
            parse_etags(self._tags("if-match")), parse_etags(self._tags("if-none-match")), node
        )

    def _tags(self, name: str) -> str | None:
        # An empty entity-tag list carries no condition; treat it as absent, as common
        # HTTP servers do, instead of a list that can never match.
        value = self.get(name)
        return value if value is not None and value.strip() else None

    def historical(self) -> tuple[int | None, datetime | None]:
        """``at-historical-revision`` / ``at-historical-timestamp`` (Ditto history API)."""
        revision = self.get("at-historical-revision")
        timestamp = self.get("at-historical-timestamp")
        at_revision: int | None = None
        at_time: datetime | None = None
        if revision is not None:
            if not revision.strip().isdigit() or int(revision) < 1:
                raise errors.BadRequest(
                    f"at-historical-revision '{revision}' is not a positive integer."
                )
            at_revision = int(revision)
        if timestamp is not None:
            try:
                at_time = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
            except ValueError as exc:
                raise errors.BadRequest(
                    f"at-historical-timestamp '{timestamp}' is not an ISO-8601 time."
                ) from exc
            if at_time.tzinfo is None:
                raise errors.BadRequest("at-historical-timestamp needs a UTC offset or 'Z'.")
        return at_revision, at_time
