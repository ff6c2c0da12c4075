"""``google.longrunning.Operations`` over the in-process `OperationRegistry`."""

from __future__ import annotations

from google.longrunning import operations_proto_pb2 as lro
from google.protobuf import empty_pb2

from server.core import errors
from server.grpc.call import Call
from server.grpc.operations import OperationRegistry

__all__ = ["OperationsServicer"]

#: Longest WaitOperation without a client deadline (AIP-151 lets the server cap it).
MAX_WAIT_S = 60.0


class OperationsServicer:
    """List, Get, Delete, Cancel and Wait on the caller's operations."""

    def __init__(self, registry: OperationRegistry) -> None:
        self._registry = registry

    async def ListOperations(
        self, request: lro.ListOperationsRequest, call: Call
    ) -> lro.ListOperationsResponse:
        caller = call.tenant_caller
        if request.name not in ("", "operations"):
            raise errors.BadRequest(
                f"Operations are listed under 'operations', not '{request.name}'."
            )
        if request.filter:
            raise errors.BadRequest("Filtering operations is not supported.")
        if request.page_size < 0:
            raise errors.SearchOptionInvalid(f"The page_size {request.page_size} is negative.")
        return self._registry.list(caller.tenant, request.page_size, request.page_token)

    async def GetOperation(self, request: lro.GetOperationRequest, call: Call) -> lro.Operation:
        return self._registry.get(call.tenant_caller.tenant, request.name)

    async def DeleteOperation(
        self, request: lro.DeleteOperationRequest, call: Call
    ) -> empty_pb2.Empty:
        self._registry.delete(call.tenant_caller.tenant, request.name)
        return empty_pb2.Empty()

    async def CancelOperation(
        self, request: lro.CancelOperationRequest, call: Call
    ) -> empty_pb2.Empty:
        self._registry.cancel(call.tenant_caller.tenant, request.name)
        return empty_pb2.Empty()

    async def WaitOperation(self, request: lro.WaitOperationRequest, call: Call) -> lro.Operation:
        timeout = (
            request.timeout.ToTimedelta().total_seconds()
            if request.HasField("timeout")
            else MAX_WAIT_S
        )
        remaining = call.remaining()
        if remaining is not None:
            timeout = min(timeout, max(remaining - 0.05, 0.0))
        return await self._registry.wait(
            call.tenant_caller.tenant, request.name, max(min(timeout, MAX_WAIT_S), 0.0)
        )
