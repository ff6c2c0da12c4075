import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from server.grpc.gen.ndtwin.v1 import relationships_pb2 as _relationships_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Twin(_message.Message):
    __slots__ = ("name", "thing_id", "policy_id", "definition", "attributes", "features", "revision", "create_time", "update_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    THING_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    thing_id: str
    policy_id: str
    definition: str
    attributes: _struct_pb2.Struct
    features: _struct_pb2.Struct
    revision: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., thing_id: _Optional[str] = ..., policy_id: _Optional[str] = ..., definition: _Optional[str] = ..., attributes: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., features: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., revision: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetTwinRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListTwinsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "filter", "order_by")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    filter: str
    order_by: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListTwinsResponse(_message.Message):
    __slots__ = ("twins", "next_page_token")
    TWINS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    twins: _containers.RepeatedCompositeFieldContainer[Twin]
    next_page_token: str
    def __init__(self, twins: _Optional[_Iterable[_Union[Twin, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateTwinRequest(_message.Message):
    __slots__ = ("parent", "twin", "twin_id", "namespace")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    TWIN_FIELD_NUMBER: _ClassVar[int]
    TWIN_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    twin: Twin
    twin_id: str
    namespace: str
    def __init__(self, parent: _Optional[str] = ..., twin: _Optional[_Union[Twin, _Mapping]] = ..., twin_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class UpdateTwinRequest(_message.Message):
    __slots__ = ("twin", "update_mask", "allow_missing")
    TWIN_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    twin: Twin
    update_mask: _field_mask_pb2.FieldMask
    allow_missing: bool
    def __init__(self, twin: _Optional[_Union[Twin, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., allow_missing: _Optional[bool] = ...) -> None: ...

class DeleteTwinRequest(_message.Message):
    __slots__ = ("name", "etag", "allow_missing")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    allow_missing: bool
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., allow_missing: _Optional[bool] = ...) -> None: ...

class TwinUpsert(_message.Message):
    __slots__ = ("name", "patch", "delete")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATCH_FIELD_NUMBER: _ClassVar[int]
    DELETE_FIELD_NUMBER: _ClassVar[int]
    name: str
    patch: _struct_pb2.Struct
    delete: bool
    def __init__(self, name: _Optional[str] = ..., patch: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., delete: _Optional[bool] = ...) -> None: ...

class RelationshipUpsert(_message.Message):
    __slots__ = ("name", "source", "target", "type", "properties", "delete")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    DELETE_FIELD_NUMBER: _ClassVar[int]
    name: str
    source: str
    target: str
    type: str
    properties: _struct_pb2.Struct
    delete: bool
    def __init__(self, name: _Optional[str] = ..., source: _Optional[str] = ..., target: _Optional[str] = ..., type: _Optional[str] = ..., properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., delete: _Optional[bool] = ...) -> None: ...

class BatchUpsertTwinsRequest(_message.Message):
    __slots__ = ("parent", "request_id", "twins", "relationships")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TWINS_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIPS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    request_id: str
    twins: _containers.RepeatedCompositeFieldContainer[TwinUpsert]
    relationships: _containers.RepeatedCompositeFieldContainer[RelationshipUpsert]
    def __init__(self, parent: _Optional[str] = ..., request_id: _Optional[str] = ..., twins: _Optional[_Iterable[_Union[TwinUpsert, _Mapping]]] = ..., relationships: _Optional[_Iterable[_Union[RelationshipUpsert, _Mapping]]] = ...) -> None: ...

class BatchUpsertTwinsResponse(_message.Message):
    __slots__ = ("twins", "relationships", "last_position")
    TWINS_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIPS_FIELD_NUMBER: _ClassVar[int]
    LAST_POSITION_FIELD_NUMBER: _ClassVar[int]
    twins: _containers.RepeatedCompositeFieldContainer[Twin]
    relationships: _containers.RepeatedCompositeFieldContainer[_relationships_pb2.Relationship]
    last_position: int
    def __init__(self, twins: _Optional[_Iterable[_Union[Twin, _Mapping]]] = ..., relationships: _Optional[_Iterable[_Union[_relationships_pb2.Relationship, _Mapping]]] = ..., last_position: _Optional[int] = ...) -> None: ...

class WatchTwinsRequest(_message.Message):
    __slots__ = ("parent", "start_after")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    START_AFTER_FIELD_NUMBER: _ClassVar[int]
    parent: str
    start_after: int
    def __init__(self, parent: _Optional[str] = ..., start_after: _Optional[int] = ...) -> None: ...

class TwinEvent(_message.Message):
    __slots__ = ("position", "kind", "action", "name", "path", "value", "revision", "event_time")
    class EntityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ENTITY_KIND_UNSPECIFIED: _ClassVar[TwinEvent.EntityKind]
        ENTITY_KIND_TWIN: _ClassVar[TwinEvent.EntityKind]
        ENTITY_KIND_RELATIONSHIP: _ClassVar[TwinEvent.EntityKind]
    ENTITY_KIND_UNSPECIFIED: TwinEvent.EntityKind
    ENTITY_KIND_TWIN: TwinEvent.EntityKind
    ENTITY_KIND_RELATIONSHIP: TwinEvent.EntityKind
    class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACTION_UNSPECIFIED: _ClassVar[TwinEvent.Action]
        ACTION_CREATED: _ClassVar[TwinEvent.Action]
        ACTION_MODIFIED: _ClassVar[TwinEvent.Action]
        ACTION_MERGED: _ClassVar[TwinEvent.Action]
        ACTION_DELETED: _ClassVar[TwinEvent.Action]
    ACTION_UNSPECIFIED: TwinEvent.Action
    ACTION_CREATED: TwinEvent.Action
    ACTION_MODIFIED: TwinEvent.Action
    ACTION_MERGED: TwinEvent.Action
    ACTION_DELETED: TwinEvent.Action
    POSITION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    position: int
    kind: TwinEvent.EntityKind
    action: TwinEvent.Action
    name: str
    path: str
    value: _struct_pb2.Value
    revision: int
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, position: _Optional[int] = ..., kind: _Optional[_Union[TwinEvent.EntityKind, str]] = ..., action: _Optional[_Union[TwinEvent.Action, str]] = ..., name: _Optional[str] = ..., path: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., revision: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
