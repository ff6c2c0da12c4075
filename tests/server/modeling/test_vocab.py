"""ndtwin's RDF vocabulary: the IRIs of tenants, twins, features, keys and model classes."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from server.modeling import vocab


def test_twin_and_feature_iris_carry_tenant_and_ids() -> None:
    assert vocab.tenant_graph("acme") == URIRef("urn:ndtwin:tenant:acme")
    assert vocab.twin_iri("acme", "org.example:phone-1") == URIRef(
        "urn:ndtwin:acme:twin:org.example:phone-1"
    )
    assert vocab.feature_iri("acme", "org.example:phone-1", "serving") == URIRef(
        "urn:ndtwin:acme:twin:org.example:phone-1/features/serving"
    )
    # Two tenants never share a node for the same thing id.
    assert vocab.twin_iri("a", "n:x") != vocab.twin_iri("b", "n:x")


def test_child_iri_spells_the_json_pointer_with_percent_encoding() -> None:
    twin = str(vocab.twin_iri("t", "n:x"))
    assert vocab.child_iri(twin + "/attributes", "location") == twin + "/attributes/location"
    # "/" inside a key must not look like a deeper path; spaces are not IRI characters.
    assert vocab.child_iri("urn:p", "a/b c") == "urn:p/a%2Fb%20c"
    assert vocab.child_iri("urn:p", "0") == "urn:p/0"


def test_key_and_size_predicates() -> None:
    assert vocab.key_iri("rsrp") == URIRef("https://w3id.org/ndtwin/key/rsrp")
    assert vocab.size_iri("bands") == URIRef("https://w3id.org/ndtwin/size/bands")
    assert vocab.key_iri("a b") == URIRef("https://w3id.org/ndtwin/key/a%20b")
    assert vocab.key_iri("x") != vocab.size_iri("x")


def test_model_class_iri_is_the_global_name() -> None:
    iri = vocab.model_class_iri("https://w3id.org/ndtwin/models/cellular", "/sdfObject/LteCell")
    assert iri == URIRef("https://w3id.org/ndtwin/models/cellular#/sdfObject/LteCell")
    assert vocab.shape_iri(iri) == URIRef(str(iri) + "/shape")
    assert vocab.shape_iri(iri, "values") == URIRef(str(iri) + "/shape/values")


def test_model_class_iri_encodes_what_an_iri_cannot_hold() -> None:
    # A namespace that ends in "#" (seen in the OneDM playground) must not open
    # a second fragment; names with spaces or quotes are percent-encoded.
    iri = vocab.model_class_iri("https://onedm.org/playground/#", '/sdfObject/My Thing"')
    assert iri == URIRef("https://onedm.org/playground/%23#/sdfObject/My%20Thing%22")
    ox.NamedNode(str(iri))  # pyoxigraph validates IRIs strictly (RFC 3987)
    # Already encoded and raw spellings name the same class.
    assert vocab.model_class_iri("urn:x", "/sdfObject/a%20b") == vocab.model_class_iri(
        "urn:x", "/sdfObject/a b"
    )


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (
            "https://w3id.org/ndtwin/models/cellular#/sdfObject/LteCell",
            "https://w3id.org/ndtwin/models/cellular#/sdfObject/LteCell",
        ),
        (
            "https://w3id.org/ndtwin/models/phone#/sdfThing/Phone/sdfThing/cellularModem",
            "https://w3id.org/ndtwin/models/phone#/sdfThing/Phone/sdfThing/cellularModem",
        ),
        (
            "https://onedm.org/playground/##/sdfObject/Switch",
            "https://onedm.org/playground/%23#/sdfObject/Switch",
        ),
        ("org.example:model:1.0", None),
        ("https://w3id.org/ndtwin/tm/example1/Switch.tm.jsonld", None),
        ("https://example.org/x#/sdfProperty/p", None),
    ],
)
def test_definition_class_iri(definition: str, expected: str | None) -> None:
    found = vocab.definition_class_iri(definition)
    assert (None if found is None else str(found)) == expected


def test_definition_and_compiled_class_agree() -> None:
    ns, pointer = "https://example.org/m", "/sdfThing/T/sdfObject/o"
    assert vocab.definition_class_iri(f"{ns}#{pointer}") == vocab.model_class_iri(ns, pointer)


@pytest.mark.parametrize("text", ["a b", "ü", "x<y>", "100%", "a#b", "{}|^`"])
def test_every_iri_is_accepted_by_pyoxigraph(text: str) -> None:
    for iri in (
        vocab.tenant_graph(text),
        vocab.twin_iri(text, text),
        vocab.feature_iri(text, text, text),
        vocab.key_iri(text),
        vocab.size_iri(text),
        vocab.relationship_iri(text, text),
        vocab.relationship_type_iri(text),
        vocab.model_class_iri("urn:x", "/" + text),
    ):
        ox.NamedNode(str(iri))
