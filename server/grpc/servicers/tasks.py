"""``ndtwin.v1.TaskTwinService``: transfer, merge and split of UTT task twins.

Each method checks its request at once (names, the sources' existence in the caller's
tenant, modalities, free target ids: the errors AIP-151 asks to return before an operation
starts), then runs `server.core.tasks.TaskTwinService` as a long-running operation whose
progress follows the federated rounds and which a client may cancel between rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.longrunning import operations_proto_pb2 as lro

from server.core.context import Caller
from server.core.tasks import TaskOptions, TaskResult, TaskTwinService
from server.grpc.call import Call
from server.grpc.gen.ndtwin.v1 import tasks_pb2 as pb
from server.grpc.names import parse_parent, parse_twin_name, twin_name
from server.grpc.operations import OperationCancelled, OperationRegistry, Progress
from server.grpc.serde import json_to_struct
from utt.progress import OperationCancelled as RunCancelled

__all__ = ["TaskTwinServicer"]

#: The OperationMetadata `verb` of each method (lowerCamel, like `rebuildGraph`).
_VERBS = {"transfer": "transferTwin", "merge": "mergeTwins", "split": "splitTwin"}

_Job = Callable[[Caller, TaskOptions, Progress], TaskResult]


def _options(options: pb.TrainingOptions) -> TaskOptions:
    """Proto3 zero values mean "the default" (AIP-203 optional fields)."""
    base = TaskOptions()
    return TaskOptions(
        rounds=options.rounds or base.rounds,
        local_epochs=options.local_epochs or base.local_epochs,
        fusor=options.fusor or base.fusor,
        strategy=options.strategy or base.strategy,
        learning_rate=options.learning_rate or base.learning_rate,
        batch_size=options.batch_size or base.batch_size,
        seed=options.seed,
    )


def _response(tenant: str, result: TaskResult) -> pb.TaskTwinsResponse:
    out = pb.TaskTwinsResponse(
        operation=result.operation,
        function=result.function,
        sources=[twin_name(tenant, s) for s in result.sources],
    )
    for twin in result.twins:
        item = out.twins.add(
            twin=twin_name(tenant, twin.thing_id),
            modality=twin.modality,
            artifact_uri=twin.artifact_uri,
            sha256=twin.sha256,
        )
        json_to_struct(twin.metrics, item.metrics)
    json_to_struct(result.metrics, out.metrics)
    return out


class TaskTwinServicer:
    """TransferTwin, MergeTwins and SplitTwin as long-running operations (AIP-151)."""

    def __init__(self, tasks: TaskTwinService, operations: OperationRegistry) -> None:
        self._tasks = tasks
        self._operations = operations

    async def TransferTwin(self, request: pb.TransferTwinRequest, call: Call) -> lro.Operation:
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        source = parse_twin_name(request.source, caller, "source")
        targets = [request.target_modality]
        ids = [request.target_twin_id] if request.target_twin_id else []

        def job(who: Caller, options: TaskOptions, progress: Progress) -> TaskResult:
            return self._tasks.transfer(
                who,
                source,
                targets[0],
                ids[0] if ids else None,
                options,
                progress.report,
                lambda: progress.cancelled,
            )

        return await self._start(
            call, caller, "transfer", [source], targets, ids, request.options, request.source, job
        )

    async def MergeTwins(self, request: pb.MergeTwinsRequest, call: Call) -> lro.Operation:
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        sources = [parse_twin_name(s, caller, "sources") for s in request.sources]
        targets = [request.target_modality]
        ids = [request.target_twin_id] if request.target_twin_id else []

        def job(who: Caller, options: TaskOptions, progress: Progress) -> TaskResult:
            return self._tasks.merge(
                who,
                sources,
                targets[0],
                ids[0] if ids else None,
                options,
                progress.report,
                lambda: progress.cancelled,
            )

        return await self._start(
            call, caller, "merge", sources, targets, ids, request.options, request.parent, job
        )

    async def SplitTwin(self, request: pb.SplitTwinRequest, call: Call) -> lro.Operation:
        caller = call.tenant_caller
        parse_parent(request.parent, caller)
        source = parse_twin_name(request.source, caller, "source")
        targets = list(request.target_modalities)
        ids = list(request.target_twin_ids)

        def job(who: Caller, options: TaskOptions, progress: Progress) -> TaskResult:
            return self._tasks.split(
                who, source, targets, ids, options, progress.report, lambda: progress.cancelled
            )

        return await self._start(
            call, caller, "split", [source], targets, ids, request.options, request.source, job
        )

    async def _start(
        self,
        call: Call,
        caller: Caller,
        verb: str,
        sources: Sequence[str],
        targets: list[str],
        ids: list[str],
        options: pb.TrainingOptions,
        target: str,
        job: _Job,
    ) -> lro.Operation:
        opts = _options(options)
        await call.run(self._tasks.check, caller, verb, list(sources), targets, ids)

        def run(progress: Progress) -> pb.TaskTwinsResponse:
            try:
                result = job(caller, opts, progress)
            except RunCancelled as exc:
                # The registry reports its own cancellation type as CANCELLED (AIP-151).
                raise OperationCancelled() from exc
            return _response(caller.tenant, result)

        return self._operations.start(caller.tenant, _VERBS[verb], target, run)
