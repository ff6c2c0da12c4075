"""``ndtwin.v1.TenantService``: tenant management with the operator key."""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf import empty_pb2

from server.core import errors
from server.core.service import Core
from server.grpc.call import Call
from server.grpc.gen.ndtwin.v1 import tenants_pb2 as pb
from server.grpc.names import parse_tenant_name
from server.grpc.serde import tenant_to_proto

__all__ = ["TenantServicer"]

_DEFAULT_PAGE, _MAX_PAGE = 100, 1000


class TenantServicer:
    """List, Get, Create and Delete tenants (operator only)."""

    def __init__(self, core: Core, on_delete: Callable[[str], None]) -> None:
        self._core = core
        self._on_delete = on_delete

    async def ListTenants(
        self, request: pb.ListTenantsRequest, call: Call
    ) -> pb.ListTenantsResponse:
        call.require_operator()
        if request.page_size < 0:
            raise errors.SearchOptionInvalid(f"The page_size {request.page_size} is negative.")
        size = min(request.page_size or _DEFAULT_PAGE, _MAX_PAGE)
        records = sorted(await call.run(self._core.tenants.list), key=lambda r: r.tenant)
        after = request.page_token
        page = [r for r in records if r.tenant > after][:size] if after else records[:size]
        more = bool(page) and page[-1].tenant != records[-1].tenant
        return pb.ListTenantsResponse(
            tenants=[tenant_to_proto(r) for r in page],
            next_page_token=page[-1].tenant if more else "",
        )

    async def GetTenant(self, request: pb.GetTenantRequest, call: Call) -> pb.Tenant:
        call.require_operator()
        name = parse_tenant_name(request.name)
        return tenant_to_proto(await call.run(self._core.tenants.get, name))

    async def CreateTenant(self, request: pb.CreateTenantRequest, call: Call) -> pb.Tenant:
        call.require_operator()
        record, key = await call.run(self._core.tenants.create, request.tenant_id)
        return tenant_to_proto(record, key)

    async def DeleteTenant(self, request: pb.DeleteTenantRequest, call: Call) -> empty_pb2.Empty:
        call.require_operator()
        name = parse_tenant_name(request.name)
        await call.run(self._core.tenants.delete, name)
        self._on_delete(name)
        return empty_pb2.Empty()
