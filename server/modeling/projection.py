"""Project a Ditto-shaped twin or a relationship into RDF (``docs/rdf.md``).

The projection is the data graph the compiled SHACL shapes validate and the
content of each tenant's named graph. It is deterministic and uses no blank
nodes: every node of a twin is an IRI under the twin's IRI, so the triples of
an old revision can be recomputed and deleted exactly.

JSON values (RFC 8259) become RDF terms as follows:

* ``true``/``false`` → ``xsd:boolean``; strings → ``xsd:string`` literals;
* integers, and numbers with a zero fraction such as ``2.0`` (JSON Schema
  2020-12 Validation §6.1.1 counts them as integers), → ``xsd:integer``;
  other numbers → ``xsd:double``;
* ``null`` → the IRI ``ndt:null``, so "null" and "absent" stay apart;
* an object → a node ``<parent>/<key>`` holding its members as ``key:`` triples;
* an array under key ``k`` → one ``key:k`` triple per element (order and
  duplicates are lost: RDF triples form a set) plus ``size:k`` with its length,
  so an empty array, a one-element array and a scalar stay apart. An array
  nested directly in an array becomes a node ``a ndt:Array`` with
  ``ndt:size`` and ``ndt:item`` triples.

One walk feeds three term factories: rdflib terms (``project_twin``, the data
graph pyshacl reads) and N-Quads text (``project_twin_nquads``), from which
``project_twin_quads`` parses pyoxigraph quads. The text form is the cheap
one: pyoxigraph needs about 5 µs to build one literal-object ``Quad`` from
Python, while ``Store.load`` of N-Quads text and a Graph Store Protocol
``POST`` take the text as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import orjson
import pyoxigraph as ox
from rdflib import RDF, XSD, Literal, URIRef

from server.modeling import vocab
from server.modeling.vocab import NDT

__all__ = [
    "ProjectionError",
    "default_class_of",
    "json_literal",
    "project_relationship",
    "project_relationship_nquads",
    "project_relationship_quads",
    "project_twin",
    "project_twin_nquads",
    "project_twin_quads",
]

#: Maps a ``definition`` string to the IRI of its model class, or ``None``.
ClassOf = Callable[[str], "str | None"]
Triple = tuple[Any, Any, Any]

# xsd:dateTime lexical space (XSD 1.1 Part 2 §3.3.7); Ditto writes ISO 8601 UTC.
_DATE_TIME = re.compile(
    r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_CONSTANTS = {
    "type": RDF.type,
    "null": NDT.null,
    "Twin": NDT.Twin,
    "Feature": NDT.Feature,
    "Relationship": NDT.Relationship,
    "Array": NDT.Array,
    "thingId": NDT.thingId,
    "policyId": NDT.policyId,
    "definition": NDT.definition,
    "revision": NDT.revision,
    "created": NDT.created,
    "modified": NDT.modified,
    "feature": NDT.feature,
    "featureId": NDT.featureId,
    "desired": NDT.desired,
    "size": NDT.size,
    "item": NDT.item,
    "relationshipId": NDT.relationshipId,
    "source": NDT.source,
    "target": NDT.target,
    "relationshipType": NDT.relationshipType,
}


class ProjectionError(ValueError):
    """The input is not shaped like a Ditto thing or relationship."""


@lru_cache(maxsize=4096)
def default_class_of(definition: str) -> str | None:
    """The class IRI a ``definition`` names if it is an SDF global name (else ``None``)."""
    iri = vocab.definition_class_iri(definition)
    return None if iri is None else str(iri)


def json_literal(value: bool | int | float | str) -> Literal:
    """The rdflib literal of a JSON scalar, exactly as the projection writes it."""
    if isinstance(value, float) and value.is_integer():
        return Literal(int(value))
    return Literal(value)


class _Terms:
    """A term factory: IRIs, key/size predicates, JSON scalars, timestamps, constants."""

    c: dict[str, Any]

    def iri(self, text: str) -> Any:
        raise NotImplementedError

    def key(self, name: str) -> Any:
        raise NotImplementedError

    def size(self, name: str) -> Any:
        raise NotImplementedError

    def value(self, value: bool | int | float | str) -> Any:
        raise NotImplementedError

    def date_time(self, text: str) -> Any:
        raise NotImplementedError


class _RdflibTerms(_Terms):
    c = {name: URIRef(str(term)) for name, term in _CONSTANTS.items()}

    key = staticmethod(vocab.key_iri)
    size = staticmethod(vocab.size_iri)
    value = staticmethod(json_literal)

    @staticmethod
    def iri(text: str) -> URIRef:
        return URIRef(text)

    @staticmethod
    def date_time(text: str) -> Literal:
        if _DATE_TIME.fullmatch(text):
            return Literal(text, datatype=XSD.dateTime)
        return Literal(text)


_NT_INT = f"^^<{XSD.integer}>"
_NT_DOUBLE = f"^^<{XSD.double}>"
_NT_DATE_TIME = f"^^<{XSD.dateTime}>"
_NT_TRUE = f'"true"^^<{XSD.boolean}>'
_NT_FALSE = f'"false"^^<{XSD.boolean}>'


@lru_cache(maxsize=8192)
def _nt_key(name: str) -> str:
    return f"<{vocab.key_iri(name)}>"


@lru_cache(maxsize=8192)
def _nt_size(name: str) -> str:
    return f"<{vocab.size_iri(name)}>"


_NT_PLAIN = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]*')


def _nt_string(text: str) -> str:
    if _NT_PLAIN.fullmatch(text):
        return f'"{text}"'
    # A JSON string literal is a valid N-Triples STRING_LITERAL_QUOTE: JSON's
    # escapes are a subset of N-Triples' ECHAR and UCHAR (RDF 1.1 N-Triples §2.4).
    try:
        return orjson.dumps(text).decode()
    except orjson.JSONEncodeError as exc:
        raise ProjectionError(f"string is not valid Unicode: {text!r}") from exc


class _TextTerms(_Terms):
    c = {name: f"<{term}>" for name, term in _CONSTANTS.items()}
    key = staticmethod(_nt_key)
    size = staticmethod(_nt_size)

    @staticmethod
    def iri(text: str) -> str:
        return f"<{text}>"

    @staticmethod
    def value(value: bool | int | float | str) -> str:
        kind = type(value)
        if kind is str:
            return _nt_string(value)  # type: ignore[arg-type]
        if kind is int:
            return f'"{value}"{_NT_INT}'
        if value is True:
            return _NT_TRUE
        if value is False:
            return _NT_FALSE
        if isinstance(value, str):
            return _nt_string(value)
        if isinstance(value, int) or value.is_integer():
            return f'"{int(value)}"{_NT_INT}'
        return f'"{value!r}"{_NT_DOUBLE}'

    @staticmethod
    def date_time(text: str) -> str:
        if _DATE_TIME.fullmatch(text):
            return f"{_nt_string(text)}{_NT_DATE_TIME}"
        return _nt_string(text)


_RDFLIB = _RdflibTerms()
_TEXT = _TextTerms()
_SCALARS = (bool, int, float, str)


class _Walker:
    """Emits the triples of a twin or relationship with one term factory."""

    def __init__(self, terms: _Terms, class_of: ClassOf) -> None:
        self.t = terms
        self.c = terms.c
        self.class_of = class_of
        self.out: list[Triple] = []

    # -- JSON values ---------------------------------------------------------
    def members(self, subject: Any, iri: str, obj: Mapping[str, Any]) -> None:
        """The members of a JSON object as ``key:`` triples on ``subject``."""
        append = self.out.append
        key = self.t.key
        value_of = self.t.value
        null = self.c["null"]
        for name, value in obj.items():
            kind = type(value)
            # Exact type tests first: this loop runs for every value of every write.
            if kind is str or kind is int or kind is float or kind is bool:
                append((subject, key(name), value_of(value)))
            elif value is None:
                append((subject, key(name), null))
            elif isinstance(value, list):
                append((subject, self.t.size(name), value_of(len(value))))
                self.elements(subject, vocab.child_iri(iri, name), key(name), value)
            elif isinstance(value, dict):
                child = vocab.child_iri(iri, name)
                node = self.t.iri(child)
                append((subject, key(name), node))
                self.members(node, child, value)
            elif isinstance(value, _SCALARS):
                append((subject, key(name), value_of(value)))
            else:
                raise ProjectionError(f"{iri}/{name}: not a JSON value: {type(value).__name__}")

    def elements(self, subject: Any, iri: str, predicate: Any, values: list[Any]) -> None:
        """Array elements as ``predicate`` triples; objects and arrays get ``iri/<index>``."""
        out = self.out
        t = self.t
        for index, element in enumerate(values):
            if element is None:
                out.append((subject, predicate, self.c["null"]))
            elif isinstance(element, _SCALARS):
                out.append((subject, predicate, t.value(element)))
            elif isinstance(element, (dict, list)):
                child = vocab.child_iri(iri, str(index))
                node = t.iri(child)
                out.append((subject, predicate, node))
                if isinstance(element, dict):
                    self.members(node, child, element)
                else:
                    out.append((node, self.c["type"], self.c["Array"]))
                    out.append((node, self.c["size"], t.value(len(element))))
                    self.elements(node, child, self.c["item"], element)
            else:
                raise ProjectionError(f"{iri}/{index}: not a JSON value: {type(element).__name__}")

    # -- records -------------------------------------------------------------
    def definition(self, node: Any, definition: str) -> None:
        self.out.append((node, self.c["definition"], self.t.value(definition)))
        cls = self.class_of(definition)
        if cls is not None:
            self.out.append((node, self.c["type"], self.t.iri(cls)))

    def record_fields(self, node: Any, record: Mapping[str, Any]) -> None:
        """policyId, definition, revision and timestamps (Ditto's ``_revision`` etc.)."""
        c, t, out = self.c, self.t, self.out
        policy = record.get("policyId")
        if isinstance(policy, str):
            out.append((node, c["policyId"], t.value(policy)))
        definition = record.get("definition")
        if isinstance(definition, str):
            self.definition(node, definition)
        revision = record.get("_revision", record.get("revision"))
        if isinstance(revision, int) and not isinstance(revision, bool):
            out.append((node, c["revision"], t.value(revision)))
        for field in ("created", "modified"):
            stamp = record.get("_" + field, record.get(field))
            if isinstance(stamp, str):
                out.append((node, c[field], t.date_time(stamp)))

    def twin(self, tenant: str, thing: Mapping[str, Any]) -> list[Triple]:
        c, t, out = self.c, self.t, self.out
        thing_id = thing.get("thingId")
        if not isinstance(thing_id, str) or not thing_id:
            raise ProjectionError("a twin needs a non-empty string thingId")
        iri = str(vocab.twin_iri(tenant, thing_id))
        twin = t.iri(iri)
        out.append((twin, c["type"], c["Twin"]))
        out.append((twin, c["thingId"], t.value(thing_id)))
        self.record_fields(twin, thing)
        self.members(twin, iri + "/attributes", _object("attributes", thing.get("attributes", {})))
        for feature_id, feature in _object("features", thing.get("features", {})).items():
            if not isinstance(feature_id, str) or not feature_id:
                raise ProjectionError("a feature id must be a non-empty string")
            body = _object(f"features/{feature_id}", feature)
            fiter = vocab.child_iri(iri + "/features", feature_id)
            node = t.iri(fiter)
            out.append((twin, c["feature"], node))
            out.append((node, c["type"], c["Feature"]))
            out.append((node, c["featureId"], t.value(feature_id)))
            definitions = body.get("definition")
            if isinstance(definitions, list):
                for definition in definitions:
                    if isinstance(definition, str):
                        self.definition(node, definition)
            self.members(
                node,
                fiter + "/properties",
                _object(f"features/{feature_id}/properties", body.get("properties", {})),
            )
            desired = body.get("desiredProperties")
            if "desiredProperties" in body:
                diri = fiter + "/desiredProperties"
                dnode = t.iri(diri)
                out.append((node, c["desired"], dnode))
                self.members(
                    dnode, diri, _object(f"features/{feature_id}/desiredProperties", desired)
                )
        return out

    def relationship(self, tenant: str, rel: Mapping[str, Any]) -> list[Triple]:
        c, t, out = self.c, self.t, self.out
        fields = {
            "id": rel.get("id", rel.get("relationshipId")),
            "source": rel.get("source"),
            "target": rel.get("target"),
            "type": rel.get("type"),
        }
        for name, value in fields.items():
            if not isinstance(value, str) or not value:
                raise ProjectionError(f"a relationship needs a non-empty string {name}")
        rel_id, source, target, rel_type = (str(v) for v in fields.values())
        iri = str(vocab.relationship_iri(tenant, rel_id))
        node = t.iri(iri)
        src = t.iri(str(vocab.twin_iri(tenant, source)))
        tgt = t.iri(str(vocab.twin_iri(tenant, target)))
        predicate = t.iri(str(vocab.relationship_type_iri(rel_type)))
        out.append((src, predicate, tgt))
        out.append((node, c["type"], c["Relationship"]))
        out.append((node, c["relationshipId"], t.value(rel_id)))
        out.append((node, c["source"], src))
        out.append((node, c["target"], tgt))
        out.append((node, c["relationshipType"], predicate))
        self.record_fields(node, rel)
        self.members(node, iri + "/properties", _object("properties", rel.get("properties", {})))
        return out


def _object(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ProjectionError(f"{where} must be a JSON object")
    return value


def project_twin(
    tenant: str, thing: Mapping[str, Any], class_of: ClassOf = default_class_of
) -> list[Triple]:
    """The triples of one twin (a Ditto thing JSON) as rdflib terms.

    ``class_of`` maps a ``definition`` string to the IRI of its model class
    (default: SDF global names, ``vocab.definition_class_iri``); the twin or
    feature node gets that class as ``rdf:type``, which selects its shape.
    Raises ``ProjectionError`` when ``thing`` is not shaped like a Ditto thing.
    """
    return _Walker(_RDFLIB, class_of).twin(tenant, thing)


def project_twin_quads(
    tenant: str, thing: Mapping[str, Any], class_of: ClassOf = default_class_of
) -> list[ox.Quad]:
    """The same triples as ``project_twin``, as pyoxigraph quads in the tenant's graph."""
    # Parsing the text form in Rust beats building each literal Quad from Python.
    return list(ox.parse(project_twin_nquads(tenant, thing, class_of), format=ox.RdfFormat.N_QUADS))


def project_twin_nquads(
    tenant: str, thing: Mapping[str, Any], class_of: ClassOf = default_class_of
) -> str:
    """The same triples as ``project_twin``, as N-Quads text in the tenant's graph."""
    graph = f" <{vocab.tenant_graph(tenant)}> .\n"
    return "".join(
        f"{s} {p} {o}{graph}" for s, p, o in _Walker(_TEXT, class_of).twin(tenant, thing)
    )


def project_relationship(
    tenant: str, rel: Mapping[str, Any], class_of: ClassOf = default_class_of
) -> list[Triple]:
    """The triples of one relationship: the direct edge and the relationship node.

    ``rel`` holds ``id``, ``source`` and ``target`` (thing ids), ``type``,
    optionally ``definition`` (a model class, as for twins), ``properties`` and
    ``_created``/``_modified``/``_revision``.
    """
    return _Walker(_RDFLIB, class_of).relationship(tenant, rel)


def project_relationship_quads(
    tenant: str, rel: Mapping[str, Any], class_of: ClassOf = default_class_of
) -> list[ox.Quad]:
    """The same triples as ``project_relationship``, as quads in the tenant's graph."""
    return list(
        ox.parse(project_relationship_nquads(tenant, rel, class_of), format=ox.RdfFormat.N_QUADS)
    )


def project_relationship_nquads(
    tenant: str, rel: Mapping[str, Any], class_of: ClassOf = default_class_of
) -> str:
    """The same triples as ``project_relationship``, as N-Quads text."""
    graph = f" <{vocab.tenant_graph(tenant)}> .\n"
    return "".join(
        f"{s} {p} {o}{graph}" for s, p, o in _Walker(_TEXT, class_of).relationship(tenant, rel)
    )
