"""ndtwin's RDF vocabulary: how tenants, twins, features, keys and relationships
become IRIs. Documented in ``docs/rdf.md``; the SHACL compiler, the twin
projection and the graph stores all build IRIs only through this module.
"""

from __future__ import annotations

from urllib.parse import quote

from rdflib import Namespace, URIRef

__all__ = [
    "KEY",
    "NDT",
    "feature_iri",
    "key_iri",
    "model_class_iri",
    "relationship_iri",
    "relationship_type_iri",
    "tenant_graph",
    "twin_iri",
]

#: Terms of the ndtwin vocabulary (classes ``ndt:Twin``, ``ndt:Feature``, ...).
NDT = Namespace("https://w3id.org/ndtwin/ns#")
#: JSON keys of attributes and properties, one predicate per key.
KEY = Namespace("https://w3id.org/ndtwin/key/")
#: Relationship types used as direct edge predicates.
REL = Namespace("https://w3id.org/ndtwin/rel/")

_SAFE = "-._~:@!$&'()*+,;="


def _enc(text: str) -> str:
    return quote(text, safe=_SAFE)


def tenant_graph(tenant: str) -> URIRef:
    """The named graph holding every triple of ``tenant``."""
    return URIRef(f"urn:ndtwin:tenant:{_enc(tenant)}")


def twin_iri(tenant: str, thing_id: str) -> URIRef:
    """A twin's node; the tenant is part of it so no two tenants ever share a node."""
    return URIRef(f"urn:ndtwin:{_enc(tenant)}:twin:{_enc(thing_id)}")


def feature_iri(tenant: str, thing_id: str, feature_id: str) -> URIRef:
    return URIRef(f"{twin_iri(tenant, thing_id)}/features/{_enc(feature_id)}")


def relationship_iri(tenant: str, relationship_id: str) -> URIRef:
    return URIRef(f"urn:ndtwin:{_enc(tenant)}:relationship:{_enc(relationship_id)}")


def relationship_type_iri(rel_type: str) -> URIRef:
    return REL[_enc(rel_type)]


def key_iri(key: str) -> URIRef:
    """Predicate for a JSON member name (attribute, property or nested key)."""
    return KEY[_enc(key)]


def model_class_iri(namespace_uri: str, pointer: str) -> URIRef:
    """The class of twins of an sdfObject/sdfThing: its SDF global name (RFC 9880 §4)."""
    return URIRef(f"{namespace_uri}#{pointer}")
