"""The seam between the toolchain and its compilers: target name -> compile function.

Each compiler module exposes ``compile_document(doc: ResolvedDocument) ->
dict[str, str | bytes]`` returning ``{relative output file name: content}``;
the importer exposes ``import_tm(tm: dict) -> dict`` returning an SDF
document. Modules are imported only when a target is used, by dotted path, so
the command line works (and says clearly what is missing) before every
compiler exists.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from server.modeling.resolve import ResolvedDocument

__all__ = [
    "IMPORTERS",
    "TARGETS",
    "TARGET_SPECS",
    "CompileFunction",
    "TargetUnavailableError",
    "check_output_name",
    "load_entry_point",
]

CompileFunction = Callable[[ResolvedDocument], Mapping[str, str | bytes]]


class TargetUnavailableError(Exception):
    """The module or function behind a target cannot be imported."""


def load_entry_point(spec: str) -> Callable[..., Any]:
    """Import ``package.module:function`` and return the function.

    Only a missing module *itself* counts as "not available"; an import error
    raised inside an existing module is a bug there and propagates.
    """
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (
            module_name == exc.name or module_name.startswith(exc.name + ".")
        ):
            raise TargetUnavailableError(f"module {module_name} is not available yet") from exc
        raise
    function = getattr(module, attribute, None)
    if not callable(function):
        raise TargetUnavailableError(f"{module_name} has no function {attribute}()")
    return function


def _lazy(spec: str) -> CompileFunction:
    def compile_document(doc: ResolvedDocument) -> Mapping[str, str | bytes]:
        result = load_entry_point(spec)(doc)
        if not isinstance(result, Mapping):
            raise TypeError(f"{spec} returned {type(result).__name__}, not a mapping")
        return result

    compile_document.__qualname__ = compile_document.__name__ = spec.rpartition(":")[2]
    compile_document.__doc__ = f"Compile through {spec} (imported on first use)."
    return compile_document


#: Entry points, by target name, of ``ndtwin models compile --to``.
TARGET_SPECS: dict[str, str] = {
    "shacl": "server.modeling.compilers.shacl:compile_document",
    "wot-tm": "server.modeling.compilers.wot:compile_document",
    "ditto": "server.modeling.compilers.ditto:compile_document",
    "jsonschema": "server.modeling.compilers.jsonschema:compile_document",
}
TARGETS: dict[str, CompileFunction] = {name: _lazy(spec) for name, spec in TARGET_SPECS.items()}

#: Entry points of importers, by source format.
IMPORTERS: dict[str, str] = {"tm": "server.modeling.importers.tm:import_tm"}


def check_output_name(name: str) -> PurePosixPath:
    """A compiler's output name as a safe relative path (no absolute path, no ``..``)."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise ValueError(f"unsafe output file name {name!r}")
    return path
