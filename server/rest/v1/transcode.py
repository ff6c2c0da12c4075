"""HTTP/JSON transcoding of the ``ndtwin.v1`` services from their ``google.api.http`` rules.

One `Binding` per HTTP rule (and per ``additional_bindings`` entry) of every method of
`server.grpc.services.SERVICES`, read from the descriptors at import time, so the proto
files are the single source of both faces. The mapping follows ``google/api/http.proto``:

- a path template ``/v1/{name=tenants/*/twins/*}:verb`` binds request fields from path
  segments (``*`` one segment, ``**`` the rest) and ends with an optional custom verb;
- ``body: "*"`` fills the request from the JSON body, ``body: "field"`` one field of it,
  and no body leaves the rest of the fields to query parameters (``?page_size=10``,
  nested as ``?a.b=x``, repeated by repeating the parameter);
- messages travel in the proto3 JSON mapping (lowerCamel names; 64-bit integers as
  strings; ``Timestamp`` as RFC 3339; ``Duration`` as ``"60s"``; ``FieldMask`` as
  ``"a.b,c"``).

Path variables are matched on the decoded path. A thing id holds no ``/``, so a segment
is always one id; but a GET of a twin whose id ends in ``:history`` reaches the history
of the shorter id, since custom verbs are matched first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from server.core import errors
from server.grpc.services import SERVICES

__all__ = [
    "Binding",
    "PathVariable",
    "bindings",
    "message_to_json",
    "request_from_http",
]

_TEMPLATE_VAR = re.compile(r"\{([a-z0-9_.]+)(?:=([^}]*))?\}")
_WELL_KNOWN_STRINGS = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)


@dataclass(frozen=True, slots=True)
class PathVariable:
    """A request field bound from the path: its dotted name and its segment pattern."""

    field: str
    #: Segments of the pattern; ``None`` marks a captured segment (``*``/``**``), whose
    #: route parameter is the matching entry of `params`.
    segments: tuple[str | None, ...]
    params: tuple[str, ...]

    def value(self, path_params: Mapping[str, str]) -> str:
        """The field's value: the pattern with its captured segments filled in."""
        captured = iter(path_params[p] for p in self.params)
        return "/".join(s if s is not None else next(captured) for s in self.segments)


@dataclass(frozen=True, slots=True)
class Binding:
    """One HTTP route of one RPC method."""

    method: MethodDescriptor
    verb: str
    template: str
    body: str
    route: str
    variables: tuple[PathVariable, ...]

    @property
    def service(self) -> str:
        return self.method.containing_service.full_name

    @property
    def streaming(self) -> bool:
        return bool(self.method.server_streaming)

    @property
    def has_verb(self) -> bool:
        """Whether the route ends in a custom verb (``:watch``)."""
        return ":" in self.route.rsplit("}", 1)[-1]

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(p for v in self.variables for p in v.params)


def _param_name(previous: str, taken: set[str]) -> str:
    base = previous[:-1] if previous.endswith("s") else (previous or "name")
    base = re.sub(r"[^a-z0-9_]", "_", base.lower()) or "name"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


def _compile(template: str) -> tuple[str, tuple[PathVariable, ...]]:
    """``/v1/{name=tenants/*}:x`` to the route ``/v1/tenants/{tenant}:x`` and its variables."""
    verb = ""
    last_brace = template.rfind("}")
    colon = template.rfind(":")
    if colon > last_brace and colon > template.rfind("/"):
        template, verb = template[:colon], template[colon:]
    route_parts: list[str] = []
    variables: list[PathVariable] = []
    taken: set[str] = set()
    previous = ""
    pos = 0
    for match in _TEMPLATE_VAR.finditer(template):
        literal = template[pos : match.start()]
        route_parts.append(literal)
        if literal.strip("/"):
            previous = literal.strip("/").split("/")[-1]
        pattern = match.group(2) or "*"
        segments: list[str | None] = []
        params: list[str] = []
        out: list[str] = []
        for segment in pattern.split("/"):
            if segment in ("*", "**"):
                name = _param_name(previous, taken)
                segments.append(None)
                params.append(name)
                out.append(f"{{{name}:path}}" if segment == "**" else f"{{{name}}}")
            else:
                segments.append(segment)
                out.append(segment)
                previous = segment
        route_parts.append("/".join(out))
        variables.append(PathVariable(match.group(1), tuple(segments), tuple(params)))
        pos = match.end()
    route_parts.append(template[pos:])
    return "".join(route_parts) + verb, tuple(variables)


def _rules(method: MethodDescriptor) -> Iterator[http_pb2.HttpRule]:
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return
    rule = options.Extensions[annotations_pb2.http]
    yield rule
    yield from rule.additional_bindings


def bindings() -> list[Binding]:
    """Every HTTP binding of every served method, custom verbs first (they match first)."""
    found: list[Binding] = []
    for service in SERVICES:
        for method in service.methods:
            for rule in _rules(method):
                pattern = rule.WhichOneof("pattern")
                if pattern is None or pattern == "custom":
                    continue
                template = getattr(rule, pattern)
                route, variables = _compile(template)
                found.append(
                    Binding(method, pattern.upper(), template, rule.body, route, variables)
                )
    return sorted(found, key=lambda b: (not b.has_verb, b.route))


# --- requests ----------------------------------------------------------------------------


def _field(descriptor: Descriptor, dotted: str) -> list[FieldDescriptor]:
    chain: list[FieldDescriptor] = []
    current: Descriptor | None = descriptor
    for part in dotted.split("."):
        if current is None:
            raise errors.BadRequest(f"The parameter '{dotted}' names no request field.")
        field = current.fields_by_name.get(part) or next(
            (f for f in current.fields if f.json_name == part), None
        )
        if field is None:
            raise errors.BadRequest(f"The parameter '{dotted}' names no request field.")
        chain.append(field)
        current = field.message_type
        if current is not None and current.full_name in _WELL_KNOWN_STRINGS:
            current = None
    return chain


def _query_value(field: FieldDescriptor, raw: str, name: str) -> Any:
    if field.type == FieldDescriptor.TYPE_BOOL:
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise errors.BadRequest(f"The parameter '{name}' must be true or false.")
    if field.message_type is not None and field.message_type.full_name not in _WELL_KNOWN_STRINGS:
        raise errors.BadRequest(f"The parameter '{name}' names a message; send it in a body.")
    return raw


def _set_nested(target: dict[str, Any], chain: Sequence[FieldDescriptor], value: Any) -> None:
    for field in chain[:-1]:
        target = target.setdefault(field.name, {})
        if not isinstance(target, dict):
            raise errors.BadRequest(f"The parameter '{field.name}' is given twice.")
    target[chain[-1].name] = value


def _parse(message: Message, data: Any, where: str) -> None:
    if not isinstance(data, dict):
        raise errors.JsonFormatInvalid(f"The {where} must be a JSON object.")
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=False)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise errors.JsonFormatInvalid(f"The {where} does not fit the request: {exc}") from exc


def request_from_http(
    binding: Binding,
    path_params: Mapping[str, str],
    query: Sequence[tuple[str, str]],
    body: Any | None,
) -> Message:
    """The request message of ``binding`` from an HTTP request's parts."""
    request_type = message_factory.GetMessageClass(binding.method.input_type)
    request = request_type()
    if binding.body == "*":
        _parse(request, body if body is not None else {}, "body")
    elif binding.body:
        data: dict[str, Any] = {binding.body: body if body is not None else {}}
        _parse(request, data, "body")
    bound = {v.field for v in binding.variables}
    if binding.body != "*" and query:
        values: dict[str, Any] = {}
        for name, raw in query:
            chain = _field(request.DESCRIPTOR, name)
            dotted = ".".join(f.name for f in chain)
            if dotted in bound or (binding.body and chain[0].name == binding.body):
                raise errors.BadRequest(f"The parameter '{name}' is bound by the path or body.")
            value = _query_value(chain[-1], raw, name)
            if chain[-1].is_repeated:
                holder: Any = values
                for field in chain[:-1]:
                    holder = holder.setdefault(field.name, {})
                holder.setdefault(chain[-1].name, []).append(value)
            else:
                _set_nested(values, chain, value)
        _parse_into(request, values)
    path_values: dict[str, Any] = {}
    for variable in binding.variables:
        _set_nested(
            path_values, _field(request.DESCRIPTOR, variable.field), variable.value(path_params)
        )
    _parse_into(request, path_values)
    return request


def _parse_into(request: Message, values: dict[str, Any]) -> None:
    if not values:
        return
    patch = type(request)()
    _parse(patch, values, "query parameters")
    request.MergeFrom(patch)  # fields set in the patch win (path over body, AIP-127)


def _integral(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) <= 2**53 else value
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def message_to_json(message: Message) -> dict[str, Any]:
    """A message in the proto3 JSON mapping, every field shown (defaults included).

    ``Struct`` numbers are doubles; integral ones are written as JSON integers (``3``, not
    ``3.0``), as `server.grpc.serde` reads them back, so twins look as on the Ditto routes.
    """
    out: dict[str, Any] = _integral(
        json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    )
    return out
