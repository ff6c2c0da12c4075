"""Compile resolved SDF documents to SHACL shapes (Turtle) that validate projected twins.

One ``sh:NodeShape`` per sdfObject and per sdfThing, ``<class>/shape``, with
``sh:targetClass <class>`` (the SDF global name, ``vocab.model_class_iri``).
A twin whose ``definition`` names the class is validated on its attributes; a
feature whose ``definition`` array names it is validated on its properties;
an sdfThing's shape also checks the features its children occupy
(``twintypes``). The data graph is what ``projection`` writes; the mapping
of each data quality follows ``shared/notes/sdf.md`` §3.4 and is documented,
with its exceptions, in ``docs/rdf.md``. The JSON Schema compiler
(``compilers.jsonschema``) reads the same ``twintypes`` model and must decide
every twin exactly as these shapes do under pyshacl.

A member ``k`` (an sdfProperty, or a member of an object's ``properties``) of
a node is checked through the predicates ``key:k`` (its value or array
elements) and ``size:k`` (present iff the value is an array):

* a non-array ``type``: a property shape on ``key:k`` with ``sh:maxCount 1``
  (``sh:minCount 1`` when required) whose values are ``ndt:null`` (if
  nullable) or satisfy the value constraints, plus ``size:k`` ``sh:maxCount 0``;
* ``type: array``: ``size:k`` carries ``minItems``/``maxItems``, every
  ``key:k`` value satisfies ``items``, and an ``sh:or`` on the node forbids a
  scalar in its place;
* no ``type``: an ``sh:or`` of the cases absent / null / scalar / array.

Only core SHACL is used, plus ``sh:sparql`` for ``multipleOf`` and
``uniqueItems`` (SHACL has no core constraint for either).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from server.modeling.compilers.twintypes import (
    MISSING,
    DataSchema,
    FeatureSlot,
    TwinType,
    twin_types,
)
from server.modeling.projection import json_literal
from server.modeling.resolve import ResolvedDocument
from server.modeling.vocab import KEY, NDT, SIZE, key_iri, model_class_iri, shape_iri, size_iri

__all__ = ["compile_document", "shapes_graph", "write_turtle"]

Pairs = list[tuple[URIRef, Node]]

_SCALAR_TYPES = {"number", "integer", "string", "boolean", "object"}
_DATATYPE = {"integer": XSD.integer, "string": XSD.string, "boolean": XSD.boolean}
# Shared value-kind shapes, written into every file so each file stands alone.
_NULL, _NUMBER, _ARRAY, _OBJECT = NDT.NullValue, NDT.NumberValue, NDT.ArrayValue, NDT.ObjectValue
_NOT_NUMBER, _NOT_STRING = NDT.NotNumberValue, NDT.NotStringValue
_NOT_ARRAY, _NOT_OBJECT = NDT.NotArrayValue, NDT.NotObjectValue


def _number(value: int | float) -> Literal:
    # Bounds keep their JSON type: comparing a float bound as xsd:decimal would
    # differ from JSON Schema's float comparison at the boundary.
    return Literal(value) if isinstance(value, int) else Literal(float(value))


def _sub(iri: URIRef, *parts: str) -> URIRef:
    """A shape IRI below another shape IRI."""
    return URIRef("/".join((str(iri), *parts)))


class _Builder:
    """Writes shapes into one graph; blank nodes get deterministic ids (stable output).

    Shape IRIs derive from the JSON pointer of the data qualities they check
    (``<position>/shape/...``); a shape built once is reused, never rebuilt.
    """

    def __init__(self, base_uri: str) -> None:
        self.triples: dict[tuple[Node, Node, Node], None] = {}
        self.base_uri = base_uri
        self._bnodes = 0
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._common()

    def add(self, triple: tuple[Node, Node, Node]) -> None:
        self.triples[triple] = None

    # -- plumbing --------------------------------------------------------------------
    def bnode(self) -> BNode:
        self._bnodes += 1
        return BNode(f"n{self._bnodes:05d}")

    def rdf_list(self, items: Iterable[Node]) -> Node:
        cells = [(self.bnode(), item) for item in items]
        for index, (cell, item) in enumerate(cells):
            self.add((cell, RDF.first, item))
            self.add((cell, RDF.rest, cells[index + 1][0] if index + 1 < len(cells) else RDF.nil))
        return cells[0][0] if cells else RDF.nil

    def shape(self, iri: URIRef, pairs: Pairs, node_shape: bool = True) -> URIRef:
        if node_shape:
            self.add((iri, RDF.type, SH.NodeShape))
        for predicate, obj in pairs:
            self.add((iri, predicate, obj))
        return iri

    def position_iri(self, schema: DataSchema) -> URIRef:
        return model_class_iri(self.base_uri, schema.pointer)

    def _common(self) -> None:
        # Shared shapes hold no RDF lists (blank nodes): every file writes the
        # same triples for them, so a union of files keeps one copy of each.
        self.shape(_NULL, [(SH.hasValue, NDT.null)])
        kinds = [
            self.shape(NDT[f"{d.fragment.capitalize()}Value"], [(SH.datatype, d)])
            for d in (XSD.double, XSD.integer, XSD.decimal, XSD.string)
        ]
        self.shape(_NOT_NUMBER, [(SH["not"], kind) for kind in kinds[:3]])
        self.shape(_NUMBER, [(SH["not"], _NOT_NUMBER)])
        self.shape(_ARRAY, [(SH["class"], NDT.Array)])
        self.shape(_OBJECT, [(SH.nodeKind, SH.IRI), (SH["not"], _NULL), (SH["not"], _ARRAY)])
        for negated, shape in (
            (_NOT_STRING, kinds[3]),
            (_NOT_ARRAY, _ARRAY),
            (_NOT_OBJECT, _OBJECT),
        ):
            self.shape(negated, [(SH["not"], shape)])

    # -- values ----------------------------------------------------------------------
    def value_pairs(self, schema: DataSchema, base: URIRef) -> Pairs:
        """Constraints a non-null value node must meet for ``schema``; they reject null.

        ``base`` is the position IRI of ``schema``; results are memoized on it.
        """
        memo = ("value", base)
        if memo not in self._memo:
            self._memo[memo] = self._value_pairs(schema, base)
        return list(self._memo[memo])

    def _value_pairs(self, schema: DataSchema, base: URIRef) -> Pairs:
        kind = schema.type
        pairs: Pairs = []
        if kind == "number":
            pairs.append((SH.node, _NUMBER))
        elif kind in _DATATYPE:
            pairs.append((SH.datatype, _DATATYPE[kind]))
        elif kind == "object":
            pairs.append((SH.node, _OBJECT))
        elif kind == "array":
            pairs.append((SH["class"], NDT.Array))
        else:
            pairs.append((SH["not"], _NULL))
        self._guarded(
            pairs,
            kind,
            ("number", "integer"),
            _NOT_NUMBER,
            lambda: self.numeric_pairs(schema, base),
            shape_iri(base, "numeric"),
        )
        self._guarded(
            pairs,
            kind,
            ("string",),
            _NOT_STRING,
            lambda: self.string_pairs(schema, base),
            shape_iri(base, "string"),
        )
        self._guarded(
            pairs,
            kind,
            ("array",),
            _NOT_ARRAY,
            lambda: self.array_pairs(schema, NDT.item, NDT.size, shape_iri(base, "elements")) or [],
            shape_iri(base, "elements"),
        )
        self._guarded(
            pairs,
            kind,
            ("object",),
            _NOT_OBJECT,
            lambda: self.object_pairs(schema, base),
            shape_iri(base, "object"),
        )
        if schema.const is not MISSING:
            pairs.append(self.equals(schema.const, shape_iri(base, "const")))
        if schema.enum is not None:
            if all(isinstance(v, str) for v in schema.enum):
                pairs.append((SH["in"], self.rdf_list(Literal(v) for v in schema.enum)))
            else:
                options = [
                    self.shape(
                        shape_iri(base, "enum", str(i)),
                        [self.equals(v, shape_iri(base, "enum", str(i), "const"))],
                    )
                    for i, v in enumerate(schema.enum)
                ]
                pairs.append((SH["or"], self.rdf_list(options)))
        if schema.choices:
            alternatives = []
            for _, alternative in schema.choices:
                alt_base = self.position_iri(alternative)
                alternatives.append(
                    self.shape(
                        shape_iri(alt_base, "value"), self.value_pairs(alternative, alt_base)
                    )
                )
            pairs.append((SH["or"], self.rdf_list(alternatives)))
        return pairs

    def _guarded(
        self,
        pairs: Pairs,
        kind: str | None,
        kinds: tuple[str, ...],
        negated: URIRef,
        facets: Callable[[], Pairs],
        iri: URIRef,
    ) -> None:
        """Add facets that JSON Schema applies only to values of ``kinds``.

        With that type declared they apply directly; without a type they apply
        to values of that kind only (``sh:or`` with the negated kind); with
        another type they never apply (JSON Schema ignores them too).
        """
        if kind not in (None, *kinds):
            return
        found = facets()
        if not found:
            return
        if kind is None:
            pairs.append((SH["or"], self.rdf_list([negated, self.shape(iri, found)])))
        else:
            pairs.extend(found)

    def equals(self, const: Any, iri: URIRef) -> tuple[URIRef, Node]:
        """Equality with a JSON scalar, by value for numbers (``2`` equals ``2.0``).

        Always a nested shape: a const may sit beside an ``enum`` (``sh:in``),
        and SHACL allows one ``sh:in`` per shape (SHACL §4.8.3).
        """
        if isinstance(const, (int, float)) and not isinstance(const, bool):
            bound = _number(const)
            return (
                SH.node,
                self.shape(
                    iri, [(SH.node, _NUMBER), (SH.minInclusive, bound), (SH.maxInclusive, bound)]
                ),
            )
        return (SH.node, self.shape(iri, [(SH["in"], self.rdf_list([json_literal(const)]))]))

    def numeric_pairs(self, schema: DataSchema, base: URIRef) -> Pairs:
        pairs: Pairs = []
        for value, predicate in (
            (schema.minimum, SH.minInclusive),
            (schema.maximum, SH.maxInclusive),
            (schema.exclusive_minimum, SH.minExclusive),
            (schema.exclusive_maximum, SH.maxExclusive),
        ):
            if value is not None:
                pairs.append((predicate, _number(value)))
        if schema.multiple_of is not None:
            pairs.append((SH.node, self.multiple_of(schema.multiple_of)))
        return pairs

    def multiple_of(self, step: int | float) -> URIRef:
        # SHACL core has no multipleOf; this repeats JSON Schema's test (Validation
        # §6.2.1): an integer step divides integers exactly (the projection writes
        # every integral number as xsd:integer, so an xsd:double is never a
        # multiple of it), a float step compares the float quotient with its floor.
        if isinstance(step, int):
            condition = (
                f"datatype($this) != <{XSD.integer}> || FLOOR($this / {step}) != $this / {step}"
            )
        else:
            literal = f'"{float(step)!r}"^^<{XSD.double}>'
            condition = f"FLOOR($this / {literal}) != $this / {literal}"
        select = f"SELECT $this WHERE {{ FILTER (isNumeric($this) && ({condition})) }}"
        # One shape per step, shared by every member that uses it (and by every
        # file: the triples are identical): SHACL engines parse each query once.
        iri = NDT[f"MultipleOf/{step!r}"]
        constraint = _sub(iri, "sparql")
        self.add((constraint, SH.select, Literal(select)))
        self.add((constraint, SH.message, Literal(f"Value is not a multiple of {step}")))
        return self.shape(iri, [(SH.sparql, constraint)])

    def string_pairs(self, schema: DataSchema, base: URIRef) -> Pairs:
        pairs: Pairs = []
        if schema.min_length is not None:
            pairs.append((SH.minLength, Literal(schema.min_length)))
        if schema.max_length is not None:
            pairs.append((SH.maxLength, Literal(schema.max_length)))
        for index, (pattern, origin) in enumerate(schema.patterns):
            if index == 0:
                pairs.append((SH.pattern, Literal(pattern)))
            else:
                # Several sh:pattern values on one shape are read differently by
                # different engines; a nested shape per pattern is unambiguous.
                pairs.append(
                    (
                        SH.node,
                        self.shape(
                            shape_iri(base, "pattern", str(index)),
                            [(SH.pattern, Literal(pattern)), (RDFS.comment, Literal(origin))],
                        ),
                    )
                )
        return pairs

    def object_pairs(self, schema: DataSchema, base: URIRef) -> Pairs:
        pairs: Pairs = []
        required = set(schema.required)
        for name, member in schema.properties:
            pairs.extend(self.member_pairs(member, name, name in required))
        declared = {name for name, _ in schema.properties}
        for name in schema.required:
            if name not in declared:
                pairs.append(
                    (
                        SH.property,
                        self.present(name, shape_iri(base, "required", quote(name, safe=""))),
                    )
                )
        return pairs

    def array_pairs(
        self, schema: DataSchema, key: URIRef, size: URIRef, iri: URIRef
    ) -> Pairs | None:
        """Constraints on a node holding an array at ``key``/``size``; None if none can fit.

        ``iri`` names the shapes built here; results are memoized on it.
        """
        memo = ("array", iri)
        if memo not in self._memo:
            self._memo[memo] = self._array_pairs(schema, key, size, iri)
        found = self._memo[memo]
        return None if found is None else list(found)

    def _array_pairs(
        self, schema: DataSchema, key: URIRef, size: URIRef, iri: URIRef
    ) -> Pairs | None:
        if (
            schema.type not in (None, "array")
            or schema.const is not MISSING
            or schema.enum is not None
        ):
            return None
        pairs: Pairs = []
        facets: Pairs = []
        if schema.min_items is not None:
            facets.append((SH.minInclusive, Literal(schema.min_items)))
        if schema.max_items is not None:
            facets.append((SH.maxInclusive, Literal(schema.max_items)))
        if facets:
            pairs.append(
                (
                    SH.property,
                    self.shape(_sub(iri, "size"), [(SH.path, size), *facets], node_shape=False),
                )
            )
        if schema.items is not None:
            items = self.position_pairs(schema.items, self.position_iri(schema.items))
            if items:
                pairs.append(
                    (
                        SH.property,
                        self.shape(_sub(iri, "items"), [(SH.path, key), *items], node_shape=False),
                    )
                )
        if schema.unique_items:
            pairs.append((SH.node, self.unique(key, size)))
        if schema.choices:
            options = []
            for index, (_, alternative) in enumerate(schema.choices):
                alt_iri = _sub(iri, "choice", str(index))
                alt = self.array_pairs(alternative, key, size, alt_iri)
                if alt is not None:
                    options.append(self.shape(alt_iri, alt))
            if not options:
                return None
            pairs.append((SH["or"], self.rdf_list(options)))
        return pairs

    def unique(self, key: URIRef, size: URIRef) -> URIRef:
        # RDF keeps one triple per distinct element: fewer distinct values than
        # the recorded length means a duplicate (only typed scalars reach here).
        # Shared per key like multiple_of, for the same reason.
        iri = (
            NDT["UniqueItems/" + str(key).rsplit("/", 1)[-1]]
            if size != NDT.size
            else NDT.UniqueItems
        )
        constraint = _sub(iri, "sparql")
        select = (
            f"SELECT $this WHERE {{ $this <{size}> ?n . OPTIONAL {{ $this <{key}> ?v }} }}"
            " GROUP BY $this ?n HAVING (COUNT(DISTINCT ?v) < ?n)"
        )
        self.add((constraint, SH.select, Literal(select)))
        self.add((constraint, SH.message, Literal("Array items are not unique")))
        return self.shape(iri, [(SH.sparql, constraint)])

    def position_pairs(self, schema: DataSchema, base: URIRef) -> Pairs:
        """Constraints on a value that may be JSON null (if the schema is nullable)."""
        memo = ("position", base)
        if memo not in self._memo:
            value = self.value_pairs(schema, base)
            if not schema.nullable:
                found = value
            elif value == [(SH["not"], _NULL)]:
                found = []
            else:
                found = [
                    (SH["or"], self.rdf_list([_NULL, self.shape(shape_iri(base, "value"), value)]))
                ]
            self._memo[memo] = found
        return list(self._memo[memo])

    # -- members ---------------------------------------------------------------------
    def annotations(self, schema: DataSchema, name: str) -> Pairs:
        pairs: Pairs = [(SH.name, Literal(schema.label or name))]
        if schema.description:
            pairs.append((SH.description, Literal(schema.description)))
        if schema.unit:
            pairs.append((NDT.unit, Literal(schema.unit)))
        if schema.default is not MISSING:
            pairs.append((SH.defaultValue, json_literal(schema.default)))
        for quality, value in schema.annotations:
            # readable/writable/observable default to true (RFC 9880 §5.2): only
            # the exceptions are worth a triple.
            if value is True and quality in ("readable", "writable", "observable"):
                continue
            if isinstance(value, (str, bool, int, float)):
                pairs.append((NDT[quality], json_literal(value)))
        return pairs

    def present(self, name: str, iri: URIRef) -> URIRef:
        """A property shape: member ``name`` is present (null and [] count as present)."""
        path = self.bnode()
        self.add((path, SH.alternativePath, self.rdf_list([key_iri(name), size_iri(name)])))
        return self.shape(
            iri,
            [
                (SH.path, path),
                (SH.minCount, Literal(1)),
                (SH.message, Literal(f"{name} is required")),
            ],
            node_shape=False,
        )

    def member_pairs(self, schema: DataSchema, name: str, required: bool) -> Pairs:
        """Constraints on a node for its member ``name`` (see the module docstring)."""
        memo = ("member", schema.pointer, name, required)
        if memo not in self._memo:
            self._memo[memo] = self._member_pairs(schema, name, required)
        return list(self._memo[memo])

    def _member_pairs(self, schema: DataSchema, name: str, required: bool) -> Pairs:
        base = self.position_iri(schema)
        key, size = key_iri(name), size_iri(name)
        kind = schema.type
        if kind in _SCALAR_TYPES:
            main: Pairs = [(SH.path, key), (SH.maxCount, Literal(1))]
            if required:
                main.append((SH.minCount, Literal(1)))
            main += self.annotations(schema, name) + self.position_pairs(schema, base)
            return [
                (SH.property, self.shape(shape_iri(base), main, node_shape=False)),
                (
                    SH.property,
                    self.shape(
                        shape_iri(base, "size"),
                        [
                            (SH.path, size),
                            (SH.maxCount, Literal(0)),
                            (SH.message, Literal(f"{name} must not be an array")),
                        ],
                        node_shape=False,
                    ),
                ),
            ]
        if (
            kind == "array"
            and not schema.choices
            and (not schema.nullable or schema.items is None or schema.items.nullable)
        ):
            return self._array_member(schema, name, required, base)
        return self._general_member(schema, name, required, base)

    def _array_member(self, schema: DataSchema, name: str, required: bool, base: URIRef) -> Pairs:
        key, size = key_iri(name), size_iri(name)
        main: Pairs = [(SH.path, size), (SH.maxCount, Literal(1)), *self.annotations(schema, name)]
        out: Pairs = [(SH.property, self.shape(shape_iri(base), main, node_shape=False))]
        out += self.array_pairs(schema, key, size, shape_iri(base, "array")) or []
        form = shape_iri(base, "form")
        cases = [
            self._case(_sub(form, "array"), [(size, 1, None, [])]),
            self._case(_sub(form, "absent"), [(key, None, 0, [])]),
        ]
        if schema.nullable:
            cases.append(
                self._case(
                    _sub(form, "null"), [(key, None, 1, [(SH["in"], self.rdf_list([NDT.null]))])]
                )
            )
        out.append(
            (
                SH.node,
                self.shape(
                    form,
                    [
                        (SH["or"], self.rdf_list(cases)),
                        (
                            SH.message,
                            Literal(
                                f"{name} must be an array{' or null' if schema.nullable else ''}"
                            ),
                        ),
                    ],
                ),
            )
        )
        if required:
            out.append((SH.property, self.present(name, shape_iri(base, "present"))))
        return out

    def _general_member(self, schema: DataSchema, name: str, required: bool, base: URIRef) -> Pairs:
        key, size = key_iri(name), size_iri(name)
        form = shape_iri(base, "form")
        cases: list[URIRef] = []
        if not required:
            cases.append(
                self._case(_sub(form, "absent"), [(key, None, 0, []), (size, None, 0, [])])
            )
        if schema.nullable:
            cases.append(
                self._case(
                    _sub(form, "null"),
                    [(size, None, 0, []), (key, 1, 1, [(SH["in"], self.rdf_list([NDT.null]))])],
                )
            )
        if schema.type != "array":
            cases.append(
                self._case(
                    _sub(form, "scalar"),
                    [(size, None, 0, []), (key, 1, 1, self.value_pairs(schema, base))],
                )
            )
        array = self.array_pairs(schema, key, size, shape_iri(base, "array"))
        if array is not None:
            cases.append(self.shape(self._case(_sub(form, "array"), [(size, 1, 1, [])]), array))
        return [
            (
                SH.node,
                self.shape(
                    form,
                    [
                        *self.annotations(schema, name),
                        (SH["or"], self.rdf_list(cases)),
                        (SH.message, Literal(f"{name} does not match its model")),
                    ],
                ),
            )
        ]

    def _case(
        self, iri: URIRef, paths: list[tuple[URIRef, int | None, int | None, Pairs]]
    ) -> URIRef:
        """A node shape: for each (path, minCount, maxCount, value constraints)."""
        pairs: Pairs = []
        for index, (path, low, high, values) in enumerate(paths):
            shape: Pairs = [(SH.path, path)]
            if low is not None:
                shape.append((SH.minCount, Literal(low)))
            if high is not None:
                shape.append((SH.maxCount, Literal(high)))
            pairs.append(
                (SH.property, self.shape(_sub(iri, str(index)), shape + values, node_shape=False))
            )
        return self.shape(iri, pairs)

    # -- twin types ------------------------------------------------------------------
    def twin_type(self, twin_type: TwinType) -> None:
        iri = shape_iri(twin_type.class_iri)
        members: Pairs = []
        for member in twin_type.members:
            members.extend(self.member_pairs(member.schema, member.name, member.required))
        pairs: Pairs = [
            (SH.targetClass, URIRef(twin_type.class_iri)),
            (SH.name, Literal(twin_type.label or twin_type.name)),
            (NDT.globalName, Literal(twin_type.global_name)),
        ]
        if twin_type.description:
            pairs.append((SH.description, Literal(twin_type.description)))
        pairs.extend((NDT.warning, Literal(w)) for w in dict.fromkeys(twin_type.warnings))
        self.shape(iri, pairs + members)
        if twin_type.kind == "thing":
            # What a parent thing checks on the feature of this (nested) thing:
            # its members only, since Ditto features hold no features.
            self.shape(shape_iri(twin_type.class_iri, "values"), members)
            for index, slot in enumerate(twin_type.slots):
                self.slot(iri, slot, shape_iri(twin_type.class_iri, "features", str(index)))

    def slot(self, owner: URIRef, slot: FeatureSlot, base: URIRef) -> None:
        target = slot.target
        values = (
            shape_iri(target.class_iri, "values")
            if target.kind == "thing"
            else shape_iri(target.class_iri)
        )
        other = self.shape(
            _sub(base, "other"), [(SH["not"], self.selector(slot, _sub(base, "id")))]
        )
        self.add(
            (
                owner,
                SH.property,
                self.shape(
                    base,
                    [
                        (SH.path, NDT.feature),
                        (SH.name, Literal(slot.feature_id)),
                        (SH["or"], self.rdf_list([other, values])),
                    ],
                    node_shape=False,
                ),
            )
        )
        if not slot.required:
            return
        has = self.has_feature(slot, _sub(base, "present"))
        if slot.parent is None:
            self.add((owner, SH.node, has))
        else:
            parent = self.has_feature(
                FeatureSlot(slot.parent, False, target, True), _sub(base, "parent")
            )
            absent = self.shape(_sub(base, "parent", "absent"), [(SH["not"], parent)])
            self.add((owner, SH["or"], self.rdf_list([absent, has])))

    def selector(self, slot: FeatureSlot, iri: URIRef) -> URIRef:
        """Node shape of the features a slot covers (by feature id)."""
        if slot.array:
            check: Pairs = [(SH.pattern, Literal(slot.id_pattern)), (SH.minCount, Literal(1))]
        else:
            check = [(SH.hasValue, Literal(slot.feature_id))]
        prop = self.shape(
            _sub(iri, "featureId"), [(SH.path, NDT.featureId), *check], node_shape=False
        )
        return self.shape(iri, [(SH.property, prop)])

    def has_feature(self, slot: FeatureSlot, iri: URIRef) -> URIRef:
        """Node shape: the node has a feature the slot covers."""
        selector = self.selector(slot, _sub(iri, "id"))
        prop = self.shape(
            _sub(iri, "feature"),
            [
                (SH.path, NDT.feature),
                (SH.qualifiedValueShape, selector),
                (SH.qualifiedMinCount, Literal(1)),
                (
                    SH.message,
                    Literal(
                        f"feature {slot.feature_id!r}"
                        f"{' (an element)' if slot.array else ''} is required"
                    ),
                ),
            ],
            node_shape=False,
        )
        return self.shape(iri, [(SH.property, prop)])


def _build(doc: ResolvedDocument) -> _Builder:
    types = twin_types(doc)
    builder = _Builder(doc.base_uri)
    for twin_type in types.types:
        builder.twin_type(twin_type)
    for warning in dict.fromkeys(types.warnings):
        builder.add((model_class_iri(doc.base_uri, ""), NDT.warning, Literal(warning)))
    return builder


def shapes_graph(doc: ResolvedDocument) -> Graph:
    """The SHACL shapes of every sdfObject and sdfThing of ``doc`` as an rdflib graph."""
    graph = Graph()
    # The builder numbers blank nodes per document (stable Turtle); a graph
    # gets fresh ones, so graphs of several documents can be merged safely.
    fresh: dict[Node, BNode] = {}

    def term(node: Node) -> Node:
        if isinstance(node, BNode):
            return fresh.setdefault(node, BNode())
        return node

    for s, p, o in _build(doc).triples:
        graph.add((term(s), p, term(o)))
    for prefix, namespace in _PREFIXES:
        graph.bind(prefix, namespace)
    return graph


def compile_document(doc: ResolvedDocument) -> dict[str, str]:
    """``{"<stem>.ttl": Turtle}`` with the shapes of ``doc`` (see ``shapes_graph``)."""
    base = str(model_class_iri(doc.base_uri, ""))[:-1]
    text = write_turtle(_build(doc).triples, base)
    return {f"{doc.source.stem}.ttl": text}


_PREFIXES = (
    ("rdf", str(RDF)),
    ("rdfs", str(RDFS)),
    ("sh", str(SH)),
    ("xsd", str(XSD)),
    ("ndt", str(NDT)),
    ("key", str(KEY)),
    ("size", str(SIZE)),
)
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def write_turtle(triples: Iterable[tuple[Node, Node, Node]], base: str) -> str:
    """Deterministic Turtle: subjects sorted, blank nodes inlined, lists as ``( ... )``.

    Shape IRIs are written relative to ``@base <base>``, i.e. as ``<#/sdfObject/X/shape>``
    (RFC 3986 §5.2 resolves ``#...`` against the base).
    """
    by_subject: dict[Node, list[tuple[Node, Node]]] = {}
    references: dict[Node, int] = {}
    for subject, predicate, obj in triples:
        by_subject.setdefault(subject, []).append((predicate, obj))
        if isinstance(obj, BNode):
            references[obj] = references.get(obj, 0) + 1
    inline = {node for node in by_subject if isinstance(node, BNode) and references.get(node) == 1}

    def term(node: Node) -> str:
        if isinstance(node, BNode):
            if node in inline:
                return bnode(node)
            return f"_:{node}"
        if isinstance(node, Literal):
            return literal(node)
        text = str(node)
        if node == RDF.type:
            return "a"
        if node == RDF.nil:
            return "()"
        for prefix, namespace in _PREFIXES:
            if text.startswith(namespace) and _LOCAL.fullmatch(text[len(namespace) :]):
                return f"{prefix}:{text[len(namespace) :]}"
        if text.startswith(base + "#"):
            return f"<{text[len(base) :]}>"
        return f"<{text}>"

    def literal(node: Literal) -> str:
        lexical = json.dumps(str(node), ensure_ascii=False)
        if node.datatype in (None, XSD.string):
            return lexical
        if node.datatype == XSD.integer:
            return str(node)
        if node.datatype == XSD.boolean:
            return "true" if node.value else "false"
        return f"{lexical}^^{term(node.datatype)}"

    def items(node: Node) -> list[Node] | None:
        """The members of an inlinable RDF list starting at ``node``, else None."""
        found: list[Node] = []
        while node != RDF.nil:
            pairs = by_subject.get(node, [])
            if (
                (node not in inline and found)
                or len(pairs) != 2
                or {p for p, _ in pairs} != {RDF.first, RDF.rest}
            ):
                return None
            first = next(o for p, o in pairs if p == RDF.first)
            node = next(o for p, o in pairs if p == RDF.rest)
            found.append(first)
        return found

    def bnode(node: Node) -> str:
        members = items(node)
        if members is not None:
            return "( " + " ".join(term(m) for m in members) + " )"
        return "[ " + body(node, "  ") + " ]"

    def body(node: Node, indent: str) -> str:
        grouped: dict[Node, list[str]] = {}
        for predicate, obj in by_subject[node]:
            grouped.setdefault(predicate, []).append(term(obj))
        order = sorted(grouped, key=lambda p: (p != RDF.type, term(p)))
        return f" ;\n{indent}".join(f"{term(p)} {', '.join(sorted(grouped[p]))}" for p in order)

    lines = [f"@prefix {prefix}: <{namespace}> ." for prefix, namespace in _PREFIXES]
    lines += [f"@base <{base}> .", ""]
    subjects = [s for s in by_subject if s not in inline]
    for subject in sorted(subjects, key=lambda s: (isinstance(s, BNode), term(s))):
        lines.append(f"{term(subject)} {body(subject, '    ')} .")
        lines.append("")
    return "\n".join(lines)
