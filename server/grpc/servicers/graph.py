"""``ndtwin.v1.GraphService``: long-running jobs on the tenant's RDF graph."""

from __future__ import annotations

from google.longrunning import operations_proto_pb2 as lro

from server.core.service import Core
from server.grpc.call import Call
from server.grpc.gen.ndtwin.v1 import graph_pb2 as pb
from server.grpc.names import graph_name, parse_graph_name
from server.grpc.operations import OperationRegistry, Progress

__all__ = ["GraphServicer"]


class GraphServicer:
    """RebuildGraph as a long-running operation (AIP-151)."""

    def __init__(self, core: Core, operations: OperationRegistry) -> None:
        self._core = core
        self._operations = operations

    async def RebuildGraph(self, request: pb.RebuildGraphRequest, call: Call) -> lro.Operation:
        caller = call.tenant_caller
        tenant = parse_graph_name(request.name, caller)

        def rebuild(progress: Progress) -> pb.RebuildGraphResponse:
            progress.check()
            progress.report(0.0, "rebuilding the graph from the document store")
            count = self._core.rebuild_graph(tenant)
            return pb.RebuildGraphResponse(triple_count=count)

        return self._operations.start(tenant, "rebuildGraph", graph_name(tenant), rebuild)
