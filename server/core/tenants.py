"""Tenants and their API keys.

A key is ``<tenant>.<secret>`` with 256 bits of randomness in the secret. Only a
SHA-256 digest of the key is stored: the secret is high-entropy, so a slow password
hash would add latency to every request without adding safety (OWASP: key stretching
is for low-entropy secrets). Keys are compared in constant time. The tenant always
comes from the credential, so no header, path or parameter can move a caller into
another tenant.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from server.core import errors
from server.core.context import Caller
from server.core.ids import TenantId
from server.core.stores.base import TwinStore
from server.core.stores.records import TenantRecord, utc_now

__all__ = ["TenantService", "hash_key", "new_key"]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key(tenant: str) -> str:
    return f"{tenant}.{secrets.token_urlsafe(32)}"


class TenantService:
    """Create, list, delete tenants; turn a credential into a :class:`Caller`."""

    def __init__(
        self, store: TwinStore, on_delete: Callable[[TenantId], None] | None = None
    ) -> None:
        self._store = store
        self._on_delete = on_delete

    def create(self, name: str, api_key: str | None = None) -> tuple[TenantRecord, str]:
        """Create a tenant; returns it and its API key (shown once, stored hashed)."""
        tenant = TenantId(name)
        key = api_key or new_key(tenant)
        record = self._store.create_tenant(tenant, hash_key(key), utc_now())
        return record, key

    def list(self) -> list[TenantRecord]:
        return self._store.list_tenants()

    def get(self, name: str) -> TenantRecord:
        record = self._store.get_tenant(TenantId(name))
        if record is None:
            raise errors.TenantNotFound(name)
        return record

    def delete(self, name: str) -> None:
        tenant = TenantId(name)
        self._store.delete_tenant(tenant)
        if self._on_delete is not None:
            self._on_delete(tenant)

    def authenticate(self, api_key: str, tenant_hint: str | None = None) -> Caller:
        """The caller a key belongs to; ``tenant_hint`` is Basic auth's user name.

        Every failure is the same `AuthenticationFailed`, so probing cannot tell an
        unknown tenant from a wrong key.
        """
        name = tenant_hint if tenant_hint is not None else api_key.partition(".")[0]
        try:
            tenant = TenantId(name)
        except errors.NdtError as exc:
            raise errors.AuthenticationFailed() from exc
        record = self._store.get_tenant(tenant)
        if record is None or not hmac.compare_digest(record.api_key_hash, hash_key(api_key)):
            raise errors.AuthenticationFailed()
        return Caller(tenant)
