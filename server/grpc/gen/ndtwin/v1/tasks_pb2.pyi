from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.longrunning import operations_pb2 as _operations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrainingOptions(_message.Message):
    __slots__ = ("rounds", "local_epochs", "fusor", "strategy", "learning_rate", "batch_size", "seed")
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_EPOCHS_FIELD_NUMBER: _ClassVar[int]
    FUSOR_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    rounds: int
    local_epochs: int
    fusor: str
    strategy: str
    learning_rate: float
    batch_size: int
    seed: int
    def __init__(self, rounds: _Optional[int] = ..., local_epochs: _Optional[int] = ..., fusor: _Optional[str] = ..., strategy: _Optional[str] = ..., learning_rate: _Optional[float] = ..., batch_size: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class TransferTwinRequest(_message.Message):
    __slots__ = ("parent", "source", "target_modality", "target_twin_id", "options")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_MODALITY_FIELD_NUMBER: _ClassVar[int]
    TARGET_TWIN_ID_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    source: str
    target_modality: str
    target_twin_id: str
    options: TrainingOptions
    def __init__(self, parent: _Optional[str] = ..., source: _Optional[str] = ..., target_modality: _Optional[str] = ..., target_twin_id: _Optional[str] = ..., options: _Optional[_Union[TrainingOptions, _Mapping]] = ...) -> None: ...

class MergeTwinsRequest(_message.Message):
    __slots__ = ("parent", "sources", "target_modality", "target_twin_id", "options")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    TARGET_MODALITY_FIELD_NUMBER: _ClassVar[int]
    TARGET_TWIN_ID_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    sources: _containers.RepeatedScalarFieldContainer[str]
    target_modality: str
    target_twin_id: str
    options: TrainingOptions
    def __init__(self, parent: _Optional[str] = ..., sources: _Optional[_Iterable[str]] = ..., target_modality: _Optional[str] = ..., target_twin_id: _Optional[str] = ..., options: _Optional[_Union[TrainingOptions, _Mapping]] = ...) -> None: ...

class SplitTwinRequest(_message.Message):
    __slots__ = ("parent", "source", "target_modalities", "target_twin_ids", "options")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_MODALITIES_FIELD_NUMBER: _ClassVar[int]
    TARGET_TWIN_IDS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    source: str
    target_modalities: _containers.RepeatedScalarFieldContainer[str]
    target_twin_ids: _containers.RepeatedScalarFieldContainer[str]
    options: TrainingOptions
    def __init__(self, parent: _Optional[str] = ..., source: _Optional[str] = ..., target_modalities: _Optional[_Iterable[str]] = ..., target_twin_ids: _Optional[_Iterable[str]] = ..., options: _Optional[_Union[TrainingOptions, _Mapping]] = ...) -> None: ...

class TaskTwin(_message.Message):
    __slots__ = ("twin", "modality", "artifact_uri", "sha256", "metrics")
    TWIN_FIELD_NUMBER: _ClassVar[int]
    MODALITY_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_URI_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    twin: str
    modality: str
    artifact_uri: str
    sha256: str
    metrics: _struct_pb2.Struct
    def __init__(self, twin: _Optional[str] = ..., modality: _Optional[str] = ..., artifact_uri: _Optional[str] = ..., sha256: _Optional[str] = ..., metrics: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class TaskTwinsResponse(_message.Message):
    __slots__ = ("operation", "function", "twins", "sources", "metrics")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    TWINS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    operation: str
    function: str
    twins: _containers.RepeatedCompositeFieldContainer[TaskTwin]
    sources: _containers.RepeatedScalarFieldContainer[str]
    metrics: _struct_pb2.Struct
    def __init__(self, operation: _Optional[str] = ..., function: _Optional[str] = ..., twins: _Optional[_Iterable[_Union[TaskTwin, _Mapping]]] = ..., sources: _Optional[_Iterable[str]] = ..., metrics: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
