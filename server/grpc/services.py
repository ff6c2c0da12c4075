"""One set of ``ndtwin.v1`` servicers per core, shared by the gRPC server and ``/v1`` REST.

`services_for` builds the bundle on first use and returns the same one afterwards, so an
operation started over REST can be polled over gRPC, a ``request_id`` answered on one face
is answered again on the other, and both faces share one worker pool and one change feed.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from google.longrunning import operations_proto_pb2 as lro
from google.protobuf.descriptor import ServiceDescriptor

from server.core.service import Core
from server.core.tasks import TaskTwinService
from server.grpc.call import Runner
from server.grpc.gen.ndtwin.v1 import (
    graph_pb2,
    history_pb2,
    models_pb2,
    query_pb2,
    relationships_pb2,
    tasks_pb2,
    tenants_pb2,
    twins_pb2,
)
from server.grpc.idempotency import RequestCache
from server.grpc.model_library import ModelLibrary
from server.grpc.operations import OperationRegistry
from server.grpc.servicers.graph import GraphServicer
from server.grpc.servicers.history import HistoryServicer
from server.grpc.servicers.models import ModelServicer
from server.grpc.servicers.operations import OperationsServicer
from server.grpc.servicers.query import QueryServicer
from server.grpc.servicers.relationships import RelationshipServicer
from server.grpc.servicers.tasks import TaskTwinServicer
from server.grpc.servicers.tenants import TenantServicer
from server.grpc.servicers.twins import TwinServicer
from server.grpc.watch import ChangeFeed
from server.rest.auth import Authenticator
from server.settings import Settings

__all__ = ["SERVICES", "Services", "close_services", "services_for"]

#: Every service both faces serve, in the order reflection lists them.
SERVICES: tuple[ServiceDescriptor, ...] = (
    twins_pb2.DESCRIPTOR.services_by_name["TwinService"],
    relationships_pb2.DESCRIPTOR.services_by_name["RelationshipService"],
    models_pb2.DESCRIPTOR.services_by_name["ModelService"],
    query_pb2.DESCRIPTOR.services_by_name["QueryService"],
    history_pb2.DESCRIPTOR.services_by_name["HistoryService"],
    graph_pb2.DESCRIPTOR.services_by_name["GraphService"],
    tenants_pb2.DESCRIPTOR.services_by_name["TenantService"],
    lro.DESCRIPTOR.services_by_name["Operations"],
    tasks_pb2.DESCRIPTOR.services_by_name["TaskTwinService"],
)


@dataclass
class Services:
    """The shared state of the ``ndtwin.v1`` faces of one core."""

    core: Core
    settings: Settings
    runner: Runner
    auth: Authenticator
    feed: ChangeFeed
    operations: OperationRegistry
    requests: RequestCache
    library: ModelLibrary
    servicers: dict[str, Any] = field(default_factory=dict)

    def servicer(self, service: ServiceDescriptor) -> Any:
        return self.servicers[service.full_name]

    def _tenant_deleted(self, tenant: str) -> None:
        self.auth.forget(tenant)
        self.library.forget([tenant])

    async def close(self) -> None:
        """Stop watch pumps and running operations, then the worker pool."""
        await self.feed.close()
        await self.operations.close()
        self.runner.close()


def _library(core: Core, settings: Settings) -> ModelLibrary:
    # The core's catalog holds the models it validates twins with: serve exactly those.
    catalog = getattr(core, "catalog", None)
    documents = getattr(catalog, "documents", None)
    if documents is not None:
        return ModelLibrary(documents=documents)
    return ModelLibrary(list(settings.models))


_BY_CORE: weakref.WeakKeyDictionary[Core, Services] = weakref.WeakKeyDictionary()


def services_for(core: Core, settings: Settings | None = None) -> Services:
    """The services of ``core``, built on the first call (later ``settings`` are ignored)."""
    found = _BY_CORE.get(core)
    if found is not None:
        return found
    settings = settings or Settings()
    runner = Runner()
    operations = OperationRegistry(runner)
    services = Services(
        core=core,
        settings=settings,
        runner=runner,
        auth=Authenticator(core, ttl=settings.auth_cache_s, operator_key=settings.operator_key),
        feed=ChangeFeed(core),
        operations=operations,
        requests=RequestCache(),
        library=_library(core, settings),
    )
    services.servicers = {
        SERVICES[0].full_name: TwinServicer(core, services.feed, services.requests),
        SERVICES[1].full_name: RelationshipServicer(core),
        SERVICES[2].full_name: ModelServicer(services.library),
        SERVICES[3].full_name: QueryServicer(core),
        SERVICES[4].full_name: HistoryServicer(core),
        SERVICES[5].full_name: GraphServicer(core, operations),
        SERVICES[6].full_name: TenantServicer(core, services._tenant_deleted),
        SERVICES[7].full_name: OperationsServicer(operations),
        SERVICES[8].full_name: TaskTwinServicer(
            TaskTwinService(core, settings.data_dir), operations
        ),
    }
    _BY_CORE[core] = services
    return services


async def close_services(core: Core) -> None:
    """Close and forget the services of ``core`` (the app's shutdown calls this once)."""
    services = _BY_CORE.pop(core, None)
    if services is not None:
        await services.close()
