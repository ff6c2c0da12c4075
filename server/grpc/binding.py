"""Bind the face-neutral servicers to grpcio: authentication, deadlines, error statuses.

Handlers are built from the service descriptors rather than the generated ``add_*`` helpers,
so every method of every service is wrapped the same way: credentials from the
``authorization`` metadata (``Bearer <key>``, or Basic as on REST), the RPC deadline passed
on, and every exception turned into a ``google.rpc.Status`` (`server.grpc.status`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from server.grpc.call import Call
from server.grpc.services import SERVICES, Services
from server.grpc.status import grpc_status_of

__all__ = ["authenticate", "generic_handlers"]


async def authenticate(
    services: Services, headers: Mapping[str, str], deadline: float | None
) -> Call:
    """The `Call` of a request: the operator key, or a tenant's key."""
    if services.auth.is_operator(headers):
        return Call(None, services.runner, deadline, operator=True)
    caller = await services.auth.caller(headers)
    return Call(caller, services.runner, deadline)


async def _call_of(services: Services, context: grpc.aio.ServicerContext) -> Call:
    headers = {
        key.lower(): value
        for key, value in context.invocation_metadata() or ()
        if isinstance(value, str)
    }
    remaining = context.time_remaining()
    deadline = time.monotonic() + remaining if remaining is not None else None
    return await authenticate(services, headers, deadline)


def _unary(services: Services, impl: Callable[..., Any]) -> Callable[..., Any]:
    async def handle(request: Message, context: grpc.aio.ServicerContext) -> Message:
        try:
            call = await _call_of(services, context)
            response: Message = await impl(request, call)
            return response
        except Exception as exc:
            await context.abort_with_status(grpc_status_of(exc))
            raise AssertionError("unreachable") from exc

    return handle


def _stream(services: Services, impl: Callable[..., Any]) -> Callable[..., Any]:
    async def handle(request: Message, context: grpc.aio.ServicerContext) -> AsyncIterator[Message]:
        try:
            call = await _call_of(services, context)
            async for item in impl(request, call):
                yield item
        except Exception as exc:
            await context.abort_with_status(grpc_status_of(exc))

    return handle


def _method_handler(
    services: Services, method: MethodDescriptor, servicer: Any
) -> grpc.RpcMethodHandler:
    impl = getattr(servicer, method.name)
    request_type = message_factory.GetMessageClass(method.input_type)
    serialize = _serialize
    if method.server_streaming:
        return grpc.unary_stream_rpc_method_handler(
            _stream(services, impl),
            request_deserializer=request_type.FromString,
            response_serializer=serialize,
        )
    return grpc.unary_unary_rpc_method_handler(
        _unary(services, impl),
        request_deserializer=request_type.FromString,
        response_serializer=serialize,
    )


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def _service_handler(services: Services, service: ServiceDescriptor) -> grpc.GenericRpcHandler:
    servicer = services.servicer(service)
    handlers = {m.name: _method_handler(services, m, servicer) for m in service.methods}
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


def generic_handlers(services: Services) -> list[grpc.GenericRpcHandler]:
    """One generic handler per service of `SERVICES`."""
    return [_service_handler(services, service) for service in SERVICES]
