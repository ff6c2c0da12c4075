from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_VIEW_UNSPECIFIED: _ClassVar[ModelView]
    MODEL_VIEW_SDF: _ClassVar[ModelView]
    MODEL_VIEW_SHACL: _ClassVar[ModelView]
    MODEL_VIEW_WOT_TM: _ClassVar[ModelView]
    MODEL_VIEW_DITTO: _ClassVar[ModelView]
    MODEL_VIEW_JSON_SCHEMA: _ClassVar[ModelView]
MODEL_VIEW_UNSPECIFIED: ModelView
MODEL_VIEW_SDF: ModelView
MODEL_VIEW_SHACL: ModelView
MODEL_VIEW_WOT_TM: ModelView
MODEL_VIEW_DITTO: ModelView
MODEL_VIEW_JSON_SCHEMA: ModelView

class Model(_message.Message):
    __slots__ = ("name", "title", "version", "namespace", "definitions", "origin", "files")
    class Origin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ORIGIN_UNSPECIFIED: _ClassVar[Model.Origin]
        ORIGIN_BUILT_IN: _ClassVar[Model.Origin]
        ORIGIN_TENANT: _ClassVar[Model.Origin]
    ORIGIN_UNSPECIFIED: Model.Origin
    ORIGIN_BUILT_IN: Model.Origin
    ORIGIN_TENANT: Model.Origin
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    DEFINITIONS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    version: str
    namespace: str
    definitions: _containers.RepeatedScalarFieldContainer[str]
    origin: Model.Origin
    files: _containers.RepeatedCompositeFieldContainer[ModelFile]
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., version: _Optional[str] = ..., namespace: _Optional[str] = ..., definitions: _Optional[_Iterable[str]] = ..., origin: _Optional[_Union[Model.Origin, str]] = ..., files: _Optional[_Iterable[_Union[ModelFile, _Mapping]]] = ...) -> None: ...

class ModelFile(_message.Message):
    __slots__ = ("path", "media_type", "content")
    PATH_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    path: str
    media_type: str
    content: str
    def __init__(self, path: _Optional[str] = ..., media_type: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "next_page_token")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    next_page_token: str
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("name", "view")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    name: str
    view: ModelView
    def __init__(self, name: _Optional[str] = ..., view: _Optional[_Union[ModelView, str]] = ...) -> None: ...

class ModelSource(_message.Message):
    __slots__ = ("content", "document")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    content: str
    document: _struct_pb2.Struct
    def __init__(self, content: _Optional[str] = ..., document: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ValidateModelRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: ModelSource
    def __init__(self, model: _Optional[_Union[ModelSource, _Mapping]] = ...) -> None: ...

class ModelIssue(_message.Message):
    __slots__ = ("pointer", "rule", "severity", "message")
    class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SEVERITY_UNSPECIFIED: _ClassVar[ModelIssue.Severity]
        SEVERITY_ERROR: _ClassVar[ModelIssue.Severity]
        SEVERITY_WARNING: _ClassVar[ModelIssue.Severity]
    SEVERITY_UNSPECIFIED: ModelIssue.Severity
    SEVERITY_ERROR: ModelIssue.Severity
    SEVERITY_WARNING: ModelIssue.Severity
    POINTER_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    pointer: str
    rule: str
    severity: ModelIssue.Severity
    message: str
    def __init__(self, pointer: _Optional[str] = ..., rule: _Optional[str] = ..., severity: _Optional[_Union[ModelIssue.Severity, str]] = ..., message: _Optional[str] = ...) -> None: ...

class ValidateModelResponse(_message.Message):
    __slots__ = ("valid", "issues")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    issues: _containers.RepeatedCompositeFieldContainer[ModelIssue]
    def __init__(self, valid: _Optional[bool] = ..., issues: _Optional[_Iterable[_Union[ModelIssue, _Mapping]]] = ...) -> None: ...

class RegisterModelRequest(_message.Message):
    __slots__ = ("model_id", "model")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model: ModelSource
    def __init__(self, model_id: _Optional[str] = ..., model: _Optional[_Union[ModelSource, _Mapping]] = ...) -> None: ...
