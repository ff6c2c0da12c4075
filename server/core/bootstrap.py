"""Build a :class:`Core` from settings: the one place that chooses implementations.

``store``: ``"sqlite"`` (a file in the data directory), ``sqlite:///path`` or a
``postgresql://`` URL. ``graph``: ``"embedded"`` (pyoxigraph on disk in the data
directory), ``"memory"``, or the ``http(s)://`` base URL of a SPARQL 1.1 endpoint.
``validation``: ``"compiled"`` (JSON Schema compiled from the models, the hot path) or
``"shacl"`` (pyshacl, the reference).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from server.core.catalog import DEFAULT_MODEL_DIR, ModelCatalog
from server.core.graph.factory import open_graph_store
from server.core.service import Core, CoreSettings
from server.core.stores.factory import create_store
from server.core.validation.base import TwinValidator

__all__ = ["build_core", "build_validator"]


def build_validator(catalog: ModelCatalog, validation: str = "compiled") -> TwinValidator:
    if validation == "shacl":
        from server.core.validation.shacl import ShaclValidator

        return ShaclValidator(catalog)
    if validation == "compiled":
        from server.core.validation.compiled import CompiledValidator

        return CompiledValidator(catalog)
    raise ValueError(f"unknown validation mode {validation!r} (compiled or shacl)")


def build_core(
    store: str = "sqlite",
    graph: str = "embedded",
    data_dir: str | Path = ".ndtwin",
    model_dirs: Sequence[str | Path] | None = None,
    validation: str = "compiled",
    catalog: ModelCatalog | None = None,
    settings: CoreSettings | None = None,
) -> Core:
    """A core over the chosen stores and models; call ``open()`` before use."""
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    catalog = catalog or ModelCatalog.load(list(model_dirs or [DEFAULT_MODEL_DIR]))
    twin_store = create_store(None if store == "sqlite" else store, data_dir=data)
    graph_store = open_graph_store(graph, data_dir=data)
    return Core(
        twin_store, graph_store, build_validator(catalog, validation), settings, catalog=catalog
    )
