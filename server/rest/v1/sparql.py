"""``/v1/sparql``: the SPARQL 1.1 Protocol query operation over the caller's graph.

Queries arrive as ``GET ?query=`` (Protocol §2.1.1), as a URL-encoded form POST
(§2.1.2) or as a direct ``application/sparql-query`` POST (§2.1.3); the result format is
negotiated from ``Accept`` (SPARQL JSON/XML/CSV/TSV, Turtle, N-Triples, JSON-LD). The
dataset is always the caller's tenant graph alone: ``default-graph-uri`` and
``named-graph-uri`` are refused, as are updates (``update=`` or
``application/sparql-update``, §2.2) with 403. Errors use the ``/v1`` JSON error body.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.core import errors
from server.core.graph.errors import SparqlQueryForbidden
from server.grpc.binding import authenticate
from server.rest.v1.responses import ERROR_SCHEMA, MediaTypeUnsupported, error_response
from server.rest.v1.routes import v1_services

__all__ = ["MAX_QUERY_BODY", "add_sparql_routes"]

#: Largest request body of a query POST (the graph store caps the query text itself).
MAX_QUERY_BODY = 256 * 1024
_FORM = "application/x-www-form-urlencoded"
_QUERY = "application/sparql-query"
_UPDATE = "application/sparql-update"
_TEXT_TYPES = (
    "text/",
    "application/sparql-results+",
    "application/n-triples",
    "application/ld+json",
)


def _refuse_dataset(pairs: list[tuple[str, str]]) -> None:
    names = {name for name, _ in pairs}
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise SparqlQueryForbidden("SPARQL updates are not accepted here.")
    if "default-graph-uri" in names or "named-graph-uri" in names:
        raise SparqlQueryForbidden(
            "The dataset is the tenant's graph; default-graph-uri and named-graph-uri are "
            "not accepted."
        )


def _one_query(pairs: list[tuple[str, str]]) -> str:
    queries = [value for name, value in pairs if name == "query"]
    if len(queries) != 1:
        raise errors.BadRequest("Send exactly one 'query' parameter (SPARQL 1.1 Protocol §2.1).")
    return queries[0]


async def _query_text(request: Request) -> str:
    pairs = list(request.query_params.multi_items())
    if request.method == "GET":
        _refuse_dataset(pairs)
        return _one_query(pairs)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if len(raw) > MAX_QUERY_BODY:
        raise errors.BadRequest(f"The body exceeds {MAX_QUERY_BODY} bytes.")
    if media == _UPDATE:
        raise SparqlQueryForbidden("SPARQL updates are not accepted here.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.BadRequest("The body is not UTF-8.") from exc
    if media == _FORM:
        form = parse_qsl(text, keep_blank_values=True)
        _refuse_dataset([*pairs, *form])
        return _one_query(form)
    if media == _QUERY:
        _refuse_dataset(pairs)
        return text
    raise MediaTypeUnsupported(f"Send a query as {_FORM} or {_QUERY}, not '{media or 'none'}'.")


async def sparql(request: Request) -> Response:
    """Answer one SPARQL query over the caller's tenant graph."""
    try:
        services = v1_services(request)
        call = await authenticate(services, request.headers, None)
        caller = call.tenant_caller
        text = await _query_text(request)
        result = await call.run(services.core.query, caller, text, request.headers.get("accept"))
    except Exception as exc:
        return error_response(exc, {"Vary": "Accept"})
    media = result.media_type
    if media.startswith(_TEXT_TYPES) or media.endswith("+json"):
        media += "; charset=utf-8"
    return Response(result.body, media_type=media, headers={"Vary": "Accept"})


def add_sparql_routes(router: APIRouter) -> None:
    """``GET`` and ``POST /v1/sparql``."""
    responses = {
        "200": {
            "description": "The result in the negotiated format",
            "content": {
                "application/sparql-results+json": {"schema": {}},
                "text/turtle": {"schema": {"type": "string"}},
            },
        },
        "default": {
            "description": "google.rpc.Status as JSON",
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        },
    }
    query_param = [{"name": "query", "in": "query", "required": True, "schema": {"type": "string"}}]
    router.add_api_route(
        "/v1/sparql",
        sparql,
        methods=["GET"],
        name="sparql.query.get",
        summary="SPARQL 1.1 query (GET)",
        tags=["SPARQL"],
        openapi_extra={"parameters": query_param, "responses": responses},
    )
    router.add_api_route(
        "/v1/sparql",
        sparql,
        methods=["POST"],
        name="sparql.query.post",
        summary="SPARQL 1.1 query (form or direct POST)",
        tags=["SPARQL"],
        openapi_extra={
            "responses": responses,
            "requestBody": {
                "content": {
                    _FORM: {
                        "schema": {
                            "type": "object",
                            "properties": {"query": {"type": "string"}},
                            "required": ["query"],
                        }
                    },
                    _QUERY: {"schema": {"type": "string"}},
                }
            },
        },
    )
