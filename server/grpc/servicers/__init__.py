"""Face-neutral implementations of the ``ndtwin.v1`` services.

Each servicer method takes the request message and a `server.grpc.call.Call` and returns
the response message (or, for server streaming, an async iterator of them); it raises
`server.core.errors.NdtError` on failure. The gRPC binding and the ``/v1`` REST
transcoder both call these same methods, so the two faces share one behaviour.
"""
