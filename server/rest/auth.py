"""Credentials to callers: Bearer API keys and HTTP Basic (user = tenant, password = key).

The tenant always comes from the credential (issue 4): no header, path or parameter
names it. Ditto clients use Basic (RFC 7617), others ``Authorization: Bearer`` (RFC 6750
§2.1); a WebSocket may also pass ``?access_token=`` (RFC 6750 §2.3, as Ditto's ``/ws/2``
allows, notes §1.8). Every failure is the same 401 in Ditto's error JSON.

Verified credentials are remembered for a few seconds so the hot path does not read the
tenant table on every request; a tenant deleted through the API is forgotten at once, one
deleted from another process at most ``ttl`` seconds later.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import time
from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool

from server.core import errors
from server.core.context import Caller
from server.core.service import Core

__all__ = ["Authenticator", "Credential", "parse_authorization"]

_MAX_CACHED = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class Credential:
    """An API key and, for Basic auth, the tenant name given as the user."""

    key: str
    tenant: str | None = None


def parse_authorization(header: str | None, access_token: str | None = None) -> Credential:
    """Read ``Authorization`` (Bearer or Basic) or an access token; 401 if neither."""
    if header:
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value:
            return Credential(value)
        if scheme.lower() == "basic" and value:
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise errors.AuthenticationFailed(
                    "The Basic credentials are not valid base64 'user:password'."
                ) from exc
            user, sep, password = decoded.partition(":")
            if sep and user and password:
                return Credential(password, user)
        raise errors.AuthenticationFailed(
            "Use 'Authorization: Bearer <api key>' or Basic with the tenant as user and the "
            "API key as password."
        )
    if access_token:
        return Credential(access_token)
    raise errors.AuthenticationFailed("The request carries no credentials.")


class Authenticator:
    """Turns request credentials into a `Caller` via the core's tenant service."""

    def __init__(self, core: Core, ttl: float = 5.0, operator_key: str | None = None) -> None:
        self._core = core
        self._ttl = ttl
        self._operator_key = operator_key
        self._cache: dict[Credential, tuple[Caller, float]] = {}

    async def caller(self, headers: Mapping[str, str], access_token: str | None = None) -> Caller:
        """The authenticated caller, with the request's ``correlation-id`` if any."""
        credential = parse_authorization(headers.get("authorization"), access_token)
        caller = await self.verify(credential)
        correlation = headers.get("correlation-id")
        return dataclasses.replace(caller, correlation_id=correlation) if correlation else caller

    async def verify(self, credential: Credential) -> Caller:
        """The caller of a credential (remembered for ``ttl`` seconds once verified)."""
        now = time.monotonic()
        hit = self._cache.get(credential)
        if hit is not None and hit[1] > now:
            return hit[0]
        caller = await run_in_threadpool(
            self._core.tenants.authenticate, credential.key, credential.tenant
        )
        if self._ttl > 0:
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            self._cache[credential] = (caller, now + self._ttl)
        return caller

    def forget(self, tenant: str) -> None:
        """Drop every remembered credential of ``tenant`` (after it was deleted)."""
        for credential, (caller, _) in list(self._cache.items()):
            if caller.tenant == tenant:
                self._cache.pop(credential, None)

    def is_operator(self, headers: Mapping[str, str]) -> bool:
        """Whether the request carries the operator key (Bearer, or Basic as any user)."""
        if not self._operator_key:
            return False
        try:
            credential = parse_authorization(headers.get("authorization"))
        except errors.AuthenticationFailed:
            return False
        return hmac.compare_digest(credential.key.encode(), self._operator_key.encode())

    def require_operator(self, headers: Mapping[str, str]) -> None:
        """Raise 401 unless the request carries the operator key (tenant management)."""
        if not self.is_operator(headers):
            raise errors.AuthenticationFailed(
                "This resource needs the operator key (NDTWIN_OPERATOR_KEY)."
            )
