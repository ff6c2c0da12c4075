"""Transfer, merge and split of UTT task twins, written back through the core (issue 7).

`TaskTwinService` reads the source task twins of the caller's tenant, hands their
modalities, model artifacts and data streams to :mod:`utt.ops`, and writes the new task
twin(s) in one atomic batch: each with its model artifact (stored under
``<data_dir>/artifacts/<tenant>/``, its SHA-256 and metrics in the twin) and a
``derivedFrom`` relationship to every source twin, so the provenance is in the graph.

A source twin names its data stream in ``attributes/streamUri`` (the root of the local
areas' recordings) and, when it has one, its model in ``attributes/modelArtifact``; a
relative URI is resolved against the data directory. A source artifact whose bytes no
longer match the recorded SHA-256 is refused rather than trained on.

The service is synchronous, like the rest of the core; progress and cancellation are plain
callables so that any face can wire its own long-running-operation machinery to them.
"""

from __future__ import annotations

import hashlib
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.core import errors
from server.core.batch import RelationshipUpsert, TwinUpsert
from server.core.context import Caller
from server.core.ids import RelationshipId, ThingId
from server.core.service import Core
from utt.progress import CancelToken, OperationCancelled, ProgressEvent

if TYPE_CHECKING:
    from utt import ops

__all__ = [
    "DERIVED_FROM",
    "TASK_MODELS",
    "CreatedTwin",
    "SourceArtifactMismatch",
    "TaskOptions",
    "TaskResult",
    "TaskTwinInvalid",
    "TaskTwinService",
]

#: The relationship type from a new task twin to each twin it was built from.
DERIVED_FROM = "derivedFrom"

#: The catalog model of the task twin of each modality (models/sdf/utt.sdf.json).
TASK_MODELS: dict[str, str] = {
    "vision": "TrajectoryTwin",
    "wireless": "PositionTwin",
    "sensory": "TrackingTwin",
}

#: Source twins and new twins of each operation.
_ARITY: dict[str, tuple[int, int]] = {"transfer": (1, 1), "merge": (2, 1), "split": (1, 2)}

ProgressReport = Callable[[float, str], None]
CancelCheck = Callable[[], bool]


class TaskTwinInvalid(errors.BadRequest):
    """A twin named as a source is not a usable task twin, or the targets are wrong."""

    code = "utt:tasktwin.invalid"


class SourceArtifactMismatch(errors.NdtError):
    """A source twin's model artifact is missing or its bytes differ from its SHA-256."""

    code = "utt:artifact.mismatch"
    status = 412
    grpc_code = "FAILED_PRECONDITION"
    default_message = "A source twin's model artifact does not match its recorded SHA-256."


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """How the new twin is trained (a subset of `utt.ops.OperationConfig`)."""

    rounds: int = 10
    local_epochs: int = 1
    fusor: str = "gating"
    strategy: str = "fedavg"
    learning_rate: float = 2e-3
    batch_size: int = 32
    seed: int = 0
    threads: int | str = "auto"


@dataclass(frozen=True, slots=True)
class CreatedTwin:
    """A task twin an operation wrote."""

    thing_id: str
    modality: str
    artifact_uri: str
    sha256: str
    metrics: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TaskResult:
    """What a transfer, merge or split wrote, with the source twins (provenance)."""

    operation: str
    function: str
    twins: tuple[CreatedTwin, ...]
    sources: tuple[str, ...]
    metrics: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Source:
    thing_id: str
    modality: str
    local_area: str
    stream_uri: str
    stream: Path
    model: Path | None


class _Cancel(CancelToken):
    """A `CancelToken` that also reads the face's cancellation flag."""

    def __init__(self, cancelled: CancelCheck | None) -> None:
        super().__init__()
        self._asked = cancelled

    @property
    def cancelled(self) -> bool:
        return super().cancelled or (self._asked is not None and self._asked())

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise OperationCancelled("operation cancelled")


class TaskTwinService:
    """Transfer (A to B), merge (A + B to C) and split (A to B + C) of task twins."""

    def __init__(self, core: Core, data_dir: Path) -> None:
        self._core = core
        self._data_dir = Path(data_dir)

    # -- the three operations ---------------------------------------------------------
    def transfer(
        self,
        caller: Caller,
        source: str,
        target_modality: str,
        target_id: str | None = None,
        options: TaskOptions | None = None,
        progress: ProgressReport | None = None,
        cancelled: CancelCheck | None = None,
    ) -> TaskResult:
        """Build a new twin of ``target_modality`` from twin ``source``."""
        return self._run(
            caller,
            "transfer",
            [source],
            [target_modality],
            [target_id] if target_id else [],
            options,
            progress,
            cancelled,
        )

    def merge(
        self,
        caller: Caller,
        sources: Sequence[str],
        target_modality: str,
        target_id: str | None = None,
        options: TaskOptions | None = None,
        progress: ProgressReport | None = None,
        cancelled: CancelCheck | None = None,
    ) -> TaskResult:
        """Build one new twin of ``target_modality`` from two source twins."""
        return self._run(
            caller,
            "merge",
            list(sources),
            [target_modality],
            [target_id] if target_id else [],
            options,
            progress,
            cancelled,
        )

    def split(
        self,
        caller: Caller,
        source: str,
        target_modalities: Sequence[str],
        target_ids: Sequence[str] = (),
        options: TaskOptions | None = None,
        progress: ProgressReport | None = None,
        cancelled: CancelCheck | None = None,
    ) -> TaskResult:
        """Build two new twins, one per ``target_modalities``, from twin ``source``."""
        return self._run(
            caller,
            "split",
            [source],
            list(target_modalities),
            list(target_ids),
            options,
            progress,
            cancelled,
        )

    # -- shared steps -----------------------------------------------------------------
    def _run(
        self,
        caller: Caller,
        operation: str,
        source_ids: list[str],
        target_modalities: list[str],
        target_ids: list[str],
        options: TaskOptions | None,
        progress: ProgressReport | None,
        cancelled: CancelCheck | None,
    ) -> TaskResult:
        from utt import ops  # torch loads with the first operation, not with the server

        opts = options or TaskOptions()
        sources, new_ids = self._plan(caller, operation, source_ids, target_modalities, target_ids)
        streams = {s.stream for s in sources}
        config = self._config(sources, opts)
        token = _Cancel(cancelled)
        token.raise_if_cancelled()
        run_id = f"{operation}-{uuid.uuid4().hex[:12]}"
        out_dir = self._data_dir / "artifacts" / caller.tenant / run_id
        refs = [ops.TwinRef(s.modality, s.model, s.thing_id) for s in sources]
        targets = [ops.TwinRef(m) for m in target_modalities]
        stream = streams.pop()
        report = _progress_adapter(progress)
        try:
            if operation == "transfer":
                result = ops.transfer(stream, refs[0], targets[0], out_dir, config, report, token)
            elif operation == "merge":
                result = ops.merge(
                    stream, refs[0], refs[1], targets[0], out_dir, config, report, token
                )
            else:
                result = ops.split(
                    stream, refs[0], targets[0], targets[1], out_dir, config, report, token
                )
            # Past this check the twins are written: a cancel that arrives later is too late.
            token.raise_if_cancelled()
            if progress is not None:
                progress(99.0, "writing the new twins")
            return self._write(caller, result, sources, new_ids, opts, config)
        except BaseException:
            # A cancelled or failed run leaves neither twins nor orphan artifacts behind.
            shutil.rmtree(out_dir, ignore_errors=True)
            raise

    def check(
        self,
        caller: Caller,
        operation: str,
        source_ids: Sequence[str],
        target_modalities: Sequence[str],
        target_ids: Sequence[str] = (),
    ) -> None:
        """Refuse now what the operation would refuse (missing or foreign twins, bad
        modalities, taken ids), so a face can answer before it starts a long run."""
        self._plan(caller, operation, list(source_ids), list(target_modalities), list(target_ids))

    def _plan(
        self,
        caller: Caller,
        operation: str,
        source_ids: list[str],
        target_modalities: list[str],
        target_ids: list[str],
    ) -> tuple[list[_Source], list[str]]:
        if operation not in _ARITY:
            raise TaskTwinInvalid(f"Unknown operation '{operation}'.")
        n_sources, n_targets = _ARITY[operation]
        if (len(source_ids), len(target_modalities)) != (n_sources, n_targets):
            raise TaskTwinInvalid(
                f"A {operation} takes {n_sources} source twin(s) and makes {n_targets} "
                f"new twin(s); got {len(source_ids)} and {len(target_modalities)}."
            )
        sources = [self._source(caller, sid) for sid in source_ids]
        if len({s.thing_id for s in sources}) != len(sources):
            raise TaskTwinInvalid("The source twins must be distinct.")
        if len({s.stream for s in sources}) != 1:
            raise TaskTwinInvalid("The source twins must share one data stream (streamUri).")
        for m in target_modalities:
            if m not in TASK_MODELS:
                raise TaskTwinInvalid(
                    f"Unknown modality '{m}'; expected one of {', '.join(TASK_MODELS)}."
                )
        used = [s.modality for s in sources]
        if len(set(used + target_modalities)) != len(used) + len(target_modalities):
            raise TaskTwinInvalid(
                f"A {operation} needs distinct modalities; got sources {used} and targets "
                f"{target_modalities}."
            )
        new_ids = self._target_ids(caller, operation, sources[0], target_modalities, target_ids)
        return sources, new_ids

    def _source(self, caller: Caller, thing_id: str) -> _Source:
        record = self._core.twins.get_record(caller, thing_id)
        doc = record.doc
        attributes = doc.get("attributes") or {}
        modality = attributes.get("modality")
        catalog = self._core.catalog
        entry = catalog.find(doc.get("definition") or "") if catalog is not None else None
        if modality not in TASK_MODELS or entry is None or entry.name != TASK_MODELS[modality]:
            raise TaskTwinInvalid(f"The twin '{thing_id}' is not a UTT task twin.")
        stream_uri = attributes.get("streamUri")
        if not isinstance(stream_uri, str) or not stream_uri:
            raise TaskTwinInvalid(f"The twin '{thing_id}' has no data stream (streamUri).")
        stream = self._resolve(stream_uri)
        if not stream.is_dir():
            raise TaskTwinInvalid(f"The data stream of '{thing_id}' is not readable.")
        model: Path | None = None
        artifact = attributes.get("modelArtifact")
        if isinstance(artifact, dict):
            model = self._resolve(str(artifact.get("uri", "")))
            if not model.is_file() or _sha256(model) != artifact.get("sha256"):
                raise SourceArtifactMismatch(
                    f"The model artifact of '{thing_id}' is missing or does not match its SHA-256."
                )
        return _Source(
            record.thing_id,
            modality,
            str(attributes.get("localArea", "")),
            stream_uri,
            stream,
            model,
        )

    def _resolve(self, uri: str) -> Path:
        path = Path(uri.removeprefix("file://"))
        return path if path.is_absolute() else self._data_dir / path

    def _target_ids(
        self,
        caller: Caller,
        operation: str,
        first: _Source,
        modalities: list[str],
        given: list[str],
    ) -> list[str]:
        if given and len(given) != len(modalities):
            raise TaskTwinInvalid(
                f"Give one target twin id per new twin ({len(modalities)}) or none."
            )
        if not given:
            # Same namespace as the source, so the new twins sit beside it.
            tag = uuid.uuid4().hex[:8]
            namespace = ThingId(first.thing_id).namespace
            given = [f"{namespace}:{operation}-{tag}-{m}" for m in modalities]
        ids = [ThingId(t) for t in given]  # raises on a malformed id
        if len(set(ids)) != len(ids):
            raise TaskTwinInvalid("The target twin ids must be distinct.")
        for tid in ids:
            if self._core.store.get_twin(caller.tenant, tid) is not None:
                raise errors.ThingConflict(tid)
        return list(ids)

    @staticmethod
    def _config(sources: list[_Source], opts: TaskOptions) -> ops.OperationConfig:
        from utt import ops
        from utt.artifacts import load_model
        from utt.data.splits import WindowConfig

        # Warm starting needs the sources' architecture: take it from the first model.
        models = [s.model for s in sources if s.model is not None]
        net = load_model(models[0]).spec.net if models else ops.OperationConfig().net
        if opts.rounds < 1 or opts.local_epochs < 1 or opts.batch_size < 1:
            raise TaskTwinInvalid("rounds, local_epochs and batch_size must be positive.")
        if not opts.learning_rate > 0:
            raise TaskTwinInvalid("The learning rate must be positive.")
        return ops.OperationConfig(
            window=WindowConfig(length=net.window),
            net=net,
            fusor=opts.fusor,
            strategy=opts.strategy,
            rounds=opts.rounds,
            local_epochs=opts.local_epochs,
            lr=opts.learning_rate,
            batch_size=opts.batch_size,
            seed=opts.seed,
            threads=opts.threads,
        )

    def _write(
        self,
        caller: Caller,
        result: ops.OperationResult,
        sources: list[_Source],
        new_ids: list[str],
        opts: TaskOptions,
        config: ops.OperationConfig,
    ) -> TaskResult:
        import torch

        catalog = self._core.catalog
        if catalog is None:
            raise errors.NdtError("The core has no model catalog to type task twins with.")
        upserts: list[TwinUpsert] = []
        relationships: list[RelationshipUpsert] = []
        created: list[CreatedTwin] = []
        now = time.time()
        for tid, twin in zip(new_ids, result.twins, strict=True):
            entry = catalog.by_name(TASK_MODELS[twin.modality])
            if entry is None:
                raise errors.NdtError(f"The model {TASK_MODELS[twin.modality]} is not loaded.")
            metrics = _twin_metrics(twin.metrics, result.metrics, opts)
            # The URI is relative to the data directory, so the directory can move.
            uri = f"artifacts/{caller.tenant}/{twin.artifact.parent.name}/{twin.artifact.name}"
            doc = entry.skeleton()
            doc["attributes"].update(
                localArea=sources[0].local_area or "_",
                streamUri=sources[0].stream_uri,
                modelArtifact={
                    "uri": uri,
                    "sha256": twin.sha256,
                    "sizeBytes": twin.artifact.stat().st_size,
                    "framework": "pytorch",
                    "frameworkVersion": torch.__version__[:64],
                    "createdAt": now,
                    "operation": result.operation,
                    "fusor": config.fusor,
                    "inputModalities": list(dict.fromkeys(s.modality for s in sources)),
                    "metrics": metrics,
                },
            )
            upserts.append(TwinUpsert(tid, doc))
            for source in sources:
                rid = RelationshipId(f"{tid}.{DERIVED_FROM}.{source.thing_id}")
                relationships.append(
                    RelationshipUpsert(
                        rid,
                        tid,
                        source.thing_id,
                        DERIVED_FROM,
                        {"operation": result.operation, "function": result.function},
                    )
                )
            created.append(CreatedTwin(tid, twin.modality, uri, twin.sha256, metrics))
        self._core.batch.upsert(caller, upserts, relationships)
        return TaskResult(
            result.operation,
            result.function,
            tuple(created),
            tuple(s.thing_id for s in sources),
            _plain(result.metrics),
        )


def _progress_adapter(progress: ProgressReport | None) -> Callable[[ProgressEvent], None] | None:
    if progress is None:
        return None

    def report(event: ProgressEvent) -> None:
        # Training is nearly all of the work; the last percent is the write.
        progress(98.0 * event.fraction, f"{event.stage}: round {event.done} of {event.total}")

    return report


def _twin_metrics(twin: dict[str, float], run: dict[str, Any], opts: TaskOptions) -> dict[str, Any]:
    """The run's figures under the names the SDF `metrics` type defines."""
    out: dict[str, Any] = {
        "nmse": max(float(twin["test_nmse"]), 0.0),
        "epochs": opts.local_epochs,
        "rounds": int(run["rounds"]),
        "wallTime": max(float(run["wall_s"]), 0.0),
        "bytesCommunicated": int(run["bytes"]),
    }
    val = run.get("val_nmse")
    if isinstance(val, int | float) and val >= 0:
        out["validationLoss"] = float(val)
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _plain(metrics: dict[str, Any]) -> dict[str, Any]:
    """Run metrics as JSON values (numbers, strings, lists of numbers)."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, bool | int | float | str):
            out[key] = value
        elif isinstance(value, list | tuple):
            out[key] = [float(v) for v in value]
    return out
