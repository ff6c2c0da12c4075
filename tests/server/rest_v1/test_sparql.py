"""``/v1/sparql``: the SPARQL 1.1 Protocol query operation over the caller's graph."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import httpx
import pytest

from tests.server.rest_v1.conftest import bearer

pytestmark = pytest.mark.anyio

SELECT = "SELECT ?t ?r WHERE { ?t <https://w3id.org/ndtwin/ns#revision> ?r } ORDER BY ?t"


@pytest.fixture
async def seeded(http: httpx.AsyncClient, keys: dict[str, str]) -> httpx.AsyncClient:
    for thing_id in ("org.s:a", "org.s:b"):
        response = await http.post(
            "/v1/tenants/alpha/twins", params={"twin_id": thing_id}, json={"attributes": {"n": 1}}
        )
        assert response.status_code == 200
    await http.post(
        "/v1/tenants/beta/twins",
        params={"twin_id": "org.s:theirs"},
        json={"attributes": {"n": 1}},
        headers=bearer(keys["beta"]),
    )
    return http


async def test_get_json_results(seeded: httpx.AsyncClient) -> None:
    response = await seeded.get("/v1/sparql", params={"query": SELECT})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-results+json; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    body = response.json()
    assert body["head"]["vars"] == ["t", "r"]
    assert [b["t"]["value"] for b in body["results"]["bindings"]] == [
        "urn:ndtwin:alpha:twin:org.s:a",
        "urn:ndtwin:alpha:twin:org.s:b",
    ]


async def test_form_post_with_csv(seeded: httpx.AsyncClient) -> None:
    response = await seeded.post(
        "/v1/sparql",
        content=urlencode({"query": SELECT}),
        headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [
        ["t", "r"],
        ["urn:ndtwin:alpha:twin:org.s:a", "1"],
        ["urn:ndtwin:alpha:twin:org.s:b", "1"],
    ]


async def test_direct_post_construct_as_ntriples(seeded: httpx.AsyncClient) -> None:
    response = await seeded.post(
        "/v1/sparql",
        content="CONSTRUCT { ?t <urn:x:rev> ?r } WHERE { ?t "
        "<https://w3id.org/ndtwin/ns#revision> ?r }",
        headers={"content-type": "application/sparql-query", "accept": "application/n-triples"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/n-triples")
    lines = sorted(line for line in response.text.splitlines() if line)
    assert lines == [
        "<urn:ndtwin:alpha:twin:org.s:a> <urn:x:rev> "
        '"1"^^<http://www.w3.org/2001/XMLSchema#integer> .',
        "<urn:ndtwin:alpha:twin:org.s:b> <urn:x:rev> "
        '"1"^^<http://www.w3.org/2001/XMLSchema#integer> .',
    ]


async def test_only_the_callers_graph(seeded: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await seeded.get(
        "/v1/sparql", params={"query": SELECT}, headers=bearer(keys["beta"])
    )
    assert [b["t"]["value"] for b in response.json()["results"]["bindings"]] == [
        "urn:ndtwin:beta:twin:org.s:theirs"
    ]


@pytest.mark.parametrize(
    ("method", "kwargs", "status"),
    [
        ("GET", {"params": {"query": "INSERT DATA { <a:b> <a:b> <a:b> }"}}, 403),
        (
            "POST",
            {
                "content": "update=INSERT%20DATA%20%7B%7D",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            403,
        ),
        (
            "POST",
            {
                "content": "INSERT DATA { <a:b> <a:b> <a:b> }",
                "headers": {"content-type": "application/sparql-update"},
            },
            403,
        ),
        (
            "GET",
            {"params": {"query": "SELECT * WHERE {?s ?p ?o}", "default-graph-uri": "urn:x"}},
            403,
        ),
        ("GET", {"params": {"query": "SELECT * FROM <urn:x> WHERE {?s ?p ?o}"}}, 403),
        ("GET", {}, 400),
        ("GET", {"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400),
        ("GET", {"params": {"query": "SELEKT"}}, 400),
        ("POST", {"content": "ASK {}", "headers": {"content-type": "text/plain"}}, 415),
        ("GET", {"params": {"query": "ASK {}"}, "headers": {"accept": "text/csv"}}, 406),
        (
            "GET",
            {"params": {"query": "ASK {}"}, "headers": {"authorization": "Bearer nope.x"}},
            401,
        ),
    ],
)
async def test_refusals(seeded: httpx.AsyncClient, method: str, kwargs: dict, status: int) -> None:
    response = await seeded.request(method, "/v1/sparql", **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == status
    count = await seeded.get(
        "/v1/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    )
    assert count.json()["results"]["bindings"][0]["n"]["value"] != "0"
    assert (
        "a:b"
        not in (
            await seeded.get("/v1/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o }"})
        ).text
    )
