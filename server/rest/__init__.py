"""The REST face: Eclipse Ditto HTTP API v2 (``/api/2``, ``/ws/2``) and, in ``v1``, the
native API.

Handlers only translate between HTTP and the core (style note §1): `routes` holds them,
`errors` is the one error mapping, `codec` reads and writes Ditto JSON, `protocol` the
Ditto Protocol envelopes, `hub` fans the change stream out to SSE and WebSocket clients,
`openapi` describes it all.
"""

from __future__ import annotations

__all__: list[str] = []
