"""ndtwin's RDF vocabulary: how tenants, twins, features, keys and relationships
become IRIs. Documented in ``docs/rdf.md``; the SHACL compiler, the twin
projection and the graph stores all build IRIs only through this module.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

from rdflib import Namespace, URIRef

__all__ = [
    "KEY",
    "NDT",
    "REL",
    "SIZE",
    "child_iri",
    "definition_class_iri",
    "feature_iri",
    "key_iri",
    "model_class_iri",
    "relationship_iri",
    "relationship_type_iri",
    "shape_iri",
    "size_iri",
    "tenant_graph",
    "twin_iri",
]

#: Terms of the ndtwin vocabulary (classes ``ndt:Twin``, ``ndt:Feature``, ...).
NDT = Namespace("https://w3id.org/ndtwin/ns#")
#: JSON keys of attributes and properties, one predicate per key.
KEY = Namespace("https://w3id.org/ndtwin/key/")
#: Relationship types used as direct edge predicates.
REL = Namespace("https://w3id.org/ndtwin/rel/")
#: Length of a JSON array held under a key (``size:k``), one predicate per key.
SIZE = Namespace("https://w3id.org/ndtwin/size/")

_SAFE = "-._~:@!$&'()*+,;="
# Characters RFC 3987 allows in an IRI fragment besides unreserved ones and
# percent-encodings: sub-delims, ":", "@", "/", "?" (RFC 3987 §2.2, ifragment).
_FRAGMENT_SAFE = "-._~!$&'()*+,;=:@/?%"
# In the namespace part only what no IRI may hold is encoded, plus "#": some
# real models end their namespace URI with "#", which would start a second
# fragment (``https://onedm.org/playground/#``).
_NAMESPACE_SAFE = _FRAGMENT_SAFE + "[]"
_MODEL_KINDS = ("#/sdfObject/", "#/sdfThing/")
_BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _enc(text: str) -> str:
    return quote(text, safe=_SAFE)


def tenant_graph(tenant: str) -> URIRef:
    """The named graph holding every triple of ``tenant``."""
    return URIRef(f"urn:ndtwin:tenant:{_enc(tenant)}")


def twin_iri(tenant: str, thing_id: str) -> URIRef:
    """A twin's node; the tenant is part of it so no two tenants ever share a node."""
    return URIRef(f"urn:ndtwin:{_enc(tenant)}:twin:{_enc(thing_id)}")


def feature_iri(tenant: str, thing_id: str, feature_id: str) -> URIRef:
    """A feature's node: the twin's IRI + ``/features/<id>`` (Ditto's resource path)."""
    return URIRef(f"{twin_iri(tenant, thing_id)}/features/{_enc(feature_id)}")


def child_iri(parent: str, key: str) -> str:
    """The node of a JSON object or array element below ``parent`` (no blank nodes).

    ``key`` is a member name or an array index; the result is ``parent/<key>``
    with the key percent-encoded, so the IRI spells the JSON pointer of the
    value and every node of a twin lies under the twin's IRI.
    """
    return f"{parent}/{_enc(key)}"


def relationship_iri(tenant: str, relationship_id: str) -> URIRef:
    """A relationship's own node (the edge itself is ``<src> rel:<type> <tgt>``)."""
    return URIRef(f"urn:ndtwin:{_enc(tenant)}:relationship:{_enc(relationship_id)}")


def relationship_type_iri(rel_type: str) -> URIRef:
    """The predicate of the direct edge for relationships of ``rel_type``."""
    return REL[_enc(rel_type)]


@lru_cache(maxsize=8192)
def key_iri(key: str) -> URIRef:
    """Predicate for a JSON member name (attribute, property or nested key)."""
    return KEY[_enc(key)]


@lru_cache(maxsize=8192)
def size_iri(key: str) -> URIRef:
    """Predicate holding the length of the array under JSON member ``key``."""
    return SIZE[_enc(key)]


def model_class_iri(namespace_uri: str, pointer: str) -> URIRef:
    """The class of twins of an sdfObject/sdfThing: its SDF global name (RFC 9880 §4).

    Characters an IRI cannot hold are percent-encoded (RFC 9880 §4.3 writes
    pointers in fragments percent-encoded); ``%`` itself is kept, so an
    already encoded name maps to the same IRI as its decoded form.
    """
    return URIRef(
        f"{quote(_bare_percent(namespace_uri), safe=_NAMESPACE_SAFE + '/')}"
        f"#{quote(_bare_percent(pointer), safe=_FRAGMENT_SAFE)}"
    )


def _bare_percent(text: str) -> str:
    """Encode a ``%`` that does not start a percent-encoding (it would make a bad IRI)."""
    return _BARE_PERCENT.sub("%25", text)


def definition_class_iri(definition: str) -> URIRef | None:
    """The model class a Ditto ``definition`` names, if it is an SDF global name.

    ``<namespace-uri>#/sdfObject/...`` and ``<namespace-uri>#/sdfThing/...``
    name classes (nested groupings included); any other definition (a Ditto
    ``ns:name:version`` or a Thing Model URL) gives ``None``. The split is at
    the first ``#/sdfObject/`` or ``#/sdfThing/``, since a namespace URI may
    itself end in ``#``.
    """
    found = [i for i in (definition.find(kind) for kind in _MODEL_KINDS) if i >= 0]
    if not found:
        return None
    index = min(found)
    return model_class_iri(definition[:index], definition[index + 1 :])


def shape_iri(class_iri: str, *suffix: str) -> URIRef:
    """The IRI of the NodeShape of a class (``<class>/shape``) or of a part of it."""
    return URIRef("/".join((str(class_iri), "shape", *suffix)))
