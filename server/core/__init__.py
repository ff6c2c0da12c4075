"""The twin service core: typed ids, the error tree, RQL, stores, and the signal handlers.

Nothing here imports a web or gRPC framework; the faces call into the core.
"""

__all__: list[str] = []
