"""Who is calling: every core operation runs on behalf of exactly one tenant."""

from __future__ import annotations

from dataclasses import dataclass

from server.core.ids import TenantId

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated tenant (always from a credential, never from a header or path)
    and an optional correlation id that flows into logs and responses."""

    tenant: TenantId
    correlation_id: str | None = None
