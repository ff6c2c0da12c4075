"""``ndtwin.v1.HistoryService``: a twin's past values, raw or in time buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.core import errors
from server.core.ids import JsonPointer
from server.core.service import Core
from server.core.stores.records import utc_now
from server.grpc.call import Call
from server.grpc.gen.ndtwin.v1 import history_pb2 as pb
from server.grpc.names import parse_twin_name
from server.grpc.serde import bucket_to_proto, point_to_proto, time_from_proto

__all__ = ["HistoryServicer"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class HistoryServicer:
    """QueryHistory over the core's history points and buckets."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def QueryHistory(
        self, request: pb.QueryHistoryRequest, call: Call
    ) -> pb.QueryHistoryResponse:
        caller = call.tenant_caller
        tid = parse_twin_name(request.name, caller)
        path = str(JsonPointer.parse(request.path)) if request.path else None
        start = time_from_proto(request.start_time) if request.HasField("start_time") else _EPOCH
        # The end is exclusive: "now" must include a write of this very microsecond.
        end = (
            time_from_proto(request.end_time)
            if request.HasField("end_time")
            else utc_now() + timedelta(seconds=1)
        )
        if end <= start:
            raise errors.BadRequest("end_time must be after start_time.")
        if request.HasField("bucket"):
            width = request.bucket.ToTimedelta().total_seconds()
            buckets = await call.run(
                self._core.history_buckets, call.tenant_caller, tid, path, start, end, width
            )
            return pb.QueryHistoryResponse(buckets=[bucket_to_proto(b) for b in buckets])
        points = await call.run(self._core.history, caller, tid, path, start, end)
        return pb.QueryHistoryResponse(points=[point_to_proto(p) for p in points])
