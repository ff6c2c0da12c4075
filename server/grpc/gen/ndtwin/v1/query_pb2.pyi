from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueryRequest(_message.Message):
    __slots__ = ("parent", "query")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    query: str
    def __init__(self, parent: _Optional[str] = ..., query: _Optional[str] = ...) -> None: ...

class RdfTerm(_message.Message):
    __slots__ = ("kind", "value", "datatype", "language")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[RdfTerm.Kind]
        KIND_IRI: _ClassVar[RdfTerm.Kind]
        KIND_BLANK: _ClassVar[RdfTerm.Kind]
        KIND_LITERAL: _ClassVar[RdfTerm.Kind]
    KIND_UNSPECIFIED: RdfTerm.Kind
    KIND_IRI: RdfTerm.Kind
    KIND_BLANK: RdfTerm.Kind
    KIND_LITERAL: RdfTerm.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DATATYPE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    kind: RdfTerm.Kind
    value: str
    datatype: str
    language: str
    def __init__(self, kind: _Optional[_Union[RdfTerm.Kind, str]] = ..., value: _Optional[str] = ..., datatype: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class QueryHeader(_message.Message):
    __slots__ = ("form", "variables", "row_count")
    FORM_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    form: str
    variables: _containers.RepeatedScalarFieldContainer[str]
    row_count: int
    def __init__(self, form: _Optional[str] = ..., variables: _Optional[_Iterable[str]] = ..., row_count: _Optional[int] = ...) -> None: ...

class Solution(_message.Message):
    __slots__ = ("bindings",)
    class BindingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: RdfTerm
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[RdfTerm, _Mapping]] = ...) -> None: ...
    BINDINGS_FIELD_NUMBER: _ClassVar[int]
    bindings: _containers.MessageMap[str, RdfTerm]
    def __init__(self, bindings: _Optional[_Mapping[str, RdfTerm]] = ...) -> None: ...

class Triple(_message.Message):
    __slots__ = ("subject", "predicate", "object")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PREDICATE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    subject: RdfTerm
    predicate: RdfTerm
    object: RdfTerm
    def __init__(self, subject: _Optional[_Union[RdfTerm, _Mapping]] = ..., predicate: _Optional[_Union[RdfTerm, _Mapping]] = ..., object: _Optional[_Union[RdfTerm, _Mapping]] = ...) -> None: ...

class QueryResponse(_message.Message):
    __slots__ = ("header", "solution", "triple", "boolean")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SOLUTION_FIELD_NUMBER: _ClassVar[int]
    TRIPLE_FIELD_NUMBER: _ClassVar[int]
    BOOLEAN_FIELD_NUMBER: _ClassVar[int]
    header: QueryHeader
    solution: Solution
    triple: Triple
    boolean: bool
    def __init__(self, header: _Optional[_Union[QueryHeader, _Mapping]] = ..., solution: _Optional[_Union[Solution, _Mapping]] = ..., triple: _Optional[_Union[Triple, _Mapping]] = ..., boolean: _Optional[bool] = ...) -> None: ...
