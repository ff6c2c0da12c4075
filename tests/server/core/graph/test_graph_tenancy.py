"""The query-path checks of `server.core.graph.tenancy`, and a differential test against
pyoxigraph: no query the checks let through makes the engine call a SERVICE endpoint."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core.graph.errors import (
    SparqlQueryForbidden,
    SparqlQueryInvalid,
    SparqlQueryTooLarge,
)
from server.core.graph.tenancy import QueryForm, inspect_query


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", QueryForm.SELECT),
        ("select ?s where { ?s ?p ?o }", QueryForm.SELECT),
        ("ASK {}", QueryForm.ASK),
        ("CONSTRUCT WHERE { ?s ?p ?o }", QueryForm.CONSTRUCT),
        ("DESCRIBE <urn:x>", QueryForm.DESCRIBE),
        ("PREFIX ex: <http://ex/> BASE <http://b/> PREFIX : <urn:> SELECT * {}", QueryForm.SELECT),
        ("PREFIX a.b: <urn:x:> PREFIX é: <urn:y:> ASK {}", QueryForm.ASK),
        ("# a comment naming SERVICE and FROM\nSELECT * {}", QueryForm.SELECT),
        ("SELECT * WHERE { ?s ?p 'service' . ?s ?p \"FROM\" }", QueryForm.SELECT),
        ('SELECT * WHERE { ?s ?p """multi\nline SERVICE <x> {}""" }', QueryForm.SELECT),
        ("SELECT * WHERE { ?s <https://w3id.org/ndtwin/key/serviceUuids> ?o }", QueryForm.SELECT),
        ("SELECT * WHERE { ?s <https://example.org/ns#serviceArea> ?o }", QueryForm.SELECT),
        ("PREFIX ex: <urn:ex:> SELECT ?from WHERE { ?from ex:from $from }", QueryForm.SELECT),
        ("SELECT * WHERE { ?s ?p ?o FILTER(?o < 3 && ?o > 1) }", QueryForm.SELECT),
        ("SELECT * WHERE { ?s ?p ?o FILTER(?o<?b&&?c>?d) }", QueryForm.SELECT),
        ("SELECT * WHERE { ?s ?p 'it''s' }", QueryForm.SELECT),
        ("SELECT * WHERE { ?s ?p 'a\\'b' }", QueryForm.SELECT),
    ],
)
def test_plain_queries_pass_and_report_their_form(text: str, form: QueryForm) -> None:
    assert inspect_query(text) is form


SERVICE_TRICKS = [
    "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }",
    "SELECT * WHERE { service silent <http://x/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o . \\u0053ERVICE <http://x/> { } }",
    "SELECT * WHERE { ?s ?p ?o . \\U00000053ERVICE <http://x/> { } }",
    "SELECT * WHERE { ?s ?p ?o . SERV\\u0049CE <http://x/> { } }",
    # oxigraph reads these as SERVICE X:q and as 1 then SERVICE:
    "PREFIX X: <http://x/> SELECT * WHERE { ?s ?p ?o . serviceX:q { } }",
    "SELECT * WHERE { ?s ?p 1SERVICE <http://x/> { } }",
    # '<' as less-than, with '#' hiding the end of an IRI-looking token in a comment:
    "SELECT * WHERE { ?s ?p ?o FILTER(?o<?b)SERVICE?e#>\n{ ?s ?p ?o } }",
    # '<' as less-than, with a quote opening a string in the IRI reading:
    "SELECT * WHERE { ?s ?p ?o FILTER(?o<'x>') SERVICE <http://x/> { } FILTER(?o != ')') }",
    # a PN_LOCAL escape of '#' is not a comment:
    "PREFIX ex: <urn:ex:> SELECT * WHERE { ?s ex:a\\#b ?o . SERVICE <http://x/> { } }",
    # conservative: the word in variables and prefixed names is refused too
    "SELECT ?service WHERE { ?service ?p ?o }",
    "PREFIX key: <urn:k:> SELECT * WHERE { ?s key:serviceUuids ?o }",
]


@pytest.mark.parametrize("text", SERVICE_TRICKS)
def test_service_is_refused_in_every_disguise(text: str) -> None:
    with pytest.raises((SparqlQueryForbidden, SparqlQueryInvalid)) as info:
        inspect_query(text)
    assert info.type is SparqlQueryForbidden or "string" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM <urn:g> WHERE { ?s ?p ?o }",
        "SELECT * FROM NAMED <urn:g> WHERE { GRAPH ?g { ?s ?p ?o } }",
        "select * from<urn:g>where{?s ?p ?o}",
        "CONSTRUCT { ?s ?p ?o } FROM <urn:g> WHERE { ?s ?p ?o }",
        "SELECT * \\u0046ROM <urn:g> WHERE { ?s ?p ?o }",
    ],
)
def test_from_clauses_are_refused(text: str) -> None:
    with pytest.raises(SparqlQueryForbidden, match="FROM"):
        inspect_query(text)


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "DELETE DATA { <urn:a> <urn:b> <urn:c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "LOAD <http://x/data.ttl>",
        "CLEAR ALL",
        "DROP GRAPH <urn:g>",
        "CREATE GRAPH <urn:g>",
        "ADD <urn:a> TO <urn:b>",
        "MOVE DEFAULT TO <urn:b>",
        "COPY <urn:a> TO DEFAULT",
        "PREFIX ex: <urn:x:> BASE <urn:b> insert data { ex:a ex:b ex:c }",
        "# comment\n  Drop  Silent  All",
    ],
)
def test_updates_are_refused(text: str) -> None:
    with pytest.raises(SparqlQueryForbidden, match="Updates"):
        inspect_query(text)


@pytest.mark.parametrize("text", ["", "   ", "PREFIX ex: <urn:x:>", "HELLO", "{ ?s ?p ?o }"])
def test_text_without_a_query_form_is_invalid(text: str) -> None:
    with pytest.raises(SparqlQueryInvalid):
        inspect_query(text)


def test_unterminated_strings_are_invalid() -> None:
    with pytest.raises(SparqlQueryInvalid, match="unterminated"):
        inspect_query("SELECT * WHERE { ?s ?p 'open }")


def test_bad_codepoint_escapes_are_invalid() -> None:
    with pytest.raises(SparqlQueryInvalid):
        inspect_query("SELECT * WHERE { ?s ?p '\\uD800' }")


def test_length_limit() -> None:
    text = "ASK {}" + " " * 100
    assert inspect_query(text, max_length=len(text)) is QueryForm.ASK
    with pytest.raises(SparqlQueryTooLarge):
        inspect_query(text + " ", max_length=len(text))


# --- differential: the engine never calls out for an accepted query -----------------------


class _Recorder(BaseHTTPRequestHandler):
    hits = 0

    def _answer(self) -> None:
        type(self).hits += 1
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def service_url() -> Iterator[str]:
    """A loopback SPARQL endpoint that counts the calls it gets."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def engine() -> ox.Store:
    store = ox.Store()
    p = ox.NamedNode("urn:p")
    store.add(ox.Quad(ox.NamedNode("urn:s"), p, ox.Literal(1)))
    store.add(ox.Quad(ox.NamedNode("urn:s"), p, ox.Literal("x")))
    return store


def _calls_out(engine: ox.Store, text: str) -> bool:
    """Run ``text`` on pyoxigraph unchecked; True if it reached the recording endpoint."""
    before = _Recorder.hits
    try:
        result = engine.query(text)
        if not isinstance(result, ox.QueryBoolean):
            list(result)
    except Exception:  # syntax or evaluation errors: only the calls matter here
        pass
    return _Recorder.hits > before


def _wrap(service_url: str, body: str) -> str:
    return f"PREFIX X: <{service_url}/> PREFIX ex: <urn:ex:> SELECT * WHERE {{ ?s ?p ?o . {body} }}"


def test_the_harness_sees_service_calls(service_url: str, engine: ox.Store) -> None:
    """The tricks do reach the endpoint when unchecked, so the fuzz below can notice a miss."""
    for body in (
        f"SERVICE <{service_url}> {{ }}",
        f"service<{service_url}>{{ }}",
        "serviceX:sparql { }",
        f"FILTER(?o<?b)SERVICE<{service_url}>{{ }}",
    ):
        text = _wrap(service_url, body)
        assert _calls_out(engine, text), text
        with pytest.raises(SparqlQueryForbidden):
            inspect_query(text)


_PIECES = [
    "SERVICE", "service", "SeRvIcE", "\\u0053ERVICE", "\\u0073ervice", "serviceX:sparql",
    "X:sparql", "SILENT", "{", "}", "{ }", "?s", "?o", "?b", "?e", ".", "#", "\n", "'", '"',
    "'''", '"""', "<", ">", "<{url}>", "FILTER(", ")", "1", " ", "\\#", "ex:a", "?service",
    "<?b", "#>", "\\", "$service", "OPTIONAL", "UNION", "GRAPH", "?g",
]  # fmt: skip


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pieces=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=14))
def test_accepted_queries_never_reach_a_service(
    service_url: str, engine: ox.Store, pieces: list[str]
) -> None:
    body = "".join(pieces).replace("{url}", service_url)
    text = _wrap(service_url, body)
    try:
        inspect_query(text)
    except (SparqlQueryForbidden, SparqlQueryInvalid):
        return
    assert not _calls_out(engine, text), text


# Slots of a structured SERVICE clause; the product holds real calls (in several spellings
# and after tokens that end without a space) and decoys (the word in strings, comments, IRIs).
_KEYWORDS = [
    "SERVICE", "service", "SeRvIcE", "\\u0053ERVICE", "SERV\\u0049CE", "\\u0073ervice",
    "'SERVICE'", "#SERVICE\n", "<urn:SERVICE>", "<urn:x#SERVICE>", '"""SERVICE"""',
    "<urn:x'SERVICE>",
]  # fmt: skip
_BEFORE = [
    "", " . ", ".", "1", "'x'", "FILTER(?o<?b)", "FILTER(?o<2)", "FILTER(?o<'x>')",
    "OPTIONAL {", "{ } UNION {", "#c\n", "ex:a\\#b ?o .", "ex:a ?o",
]  # fmt: skip
_SEPARATORS = [" ", "", "\n", " #c>\n", " SILENT ", "SILENT", "\t"]
_ENDPOINTS = ["<{url}>", "X:sparql", "?e", "ex:e"]
_AFTER = ["", "}", " } FILTER(?o != ')')", "#>", "'", " . ?s ?p ?o"]


def test_no_spelling_of_a_service_clause_gets_through(service_url: str, engine: ox.Store) -> None:
    accepted = called = 0
    for before, keyword, sep, endpoint, after in itertools.product(
        _BEFORE, _KEYWORDS, _SEPARATORS, _ENDPOINTS, _AFTER
    ):
        body = f"BIND(<{{url}}> AS ?e) {before}{keyword}{sep}{endpoint}{{ ?s ?p ?o }}{after}"
        text = _wrap(service_url, body.replace("{url}", service_url))
        calls = _calls_out(engine, text)
        called += calls
        try:
            inspect_query(text)
        except (SparqlQueryForbidden, SparqlQueryInvalid):
            continue
        accepted += 1
        assert not calls, text
    # The product is meaningful: unchecked, hundreds of its queries do call out, and the
    # decoys are let through.
    assert called > 500
    assert accepted > 5000
