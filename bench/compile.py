"""Compile the whole OneDM corpus to every target and time model loading at start-up.

Prints files/s for the 372 corpus files (load, validate, resolve, then SHACL, WoT TM,
Ditto and JSON Schema) and the time the server needs to load our own models. The
baseline in the same run is loading + resolving alone, so the ratio shows what the
compilers add.

    .venv/bin/python bench/compile.py [--corpus ../shared/corpus/onedm] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder leads sys.path, where bench/http.py and bench/grpc.py would
# shadow the standard library's http and the grpc package: put the repository first instead.
sys.path[:] = [str(ROOT)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]

from server.core.catalog import ModelCatalog  # noqa: E402
from server.core.validation.compiled import CompiledValidator  # noqa: E402
from server.modeling.compilers import ditto, jsonschema, shacl, wot  # noqa: E402
from server.modeling.registry import ModelRegistry  # noqa: E402
from server.modeling.resolve import resolve_registry  # noqa: E402
from server.modeling.validate import validate_paths  # noqa: E402

TARGETS = {
    "shacl": shacl.compile_document,
    "wot-tm": wot.compile_document,
    "ditto": ditto.compile_document,
    "jsonschema": jsonschema.compile_document,
}


def corpus_run(corpus: Path) -> tuple[float, float, int, int, dict[str, int]]:
    """(seconds resolve-only, seconds full, files, resolved docs, failures per target)."""
    start = time.perf_counter()
    registry = ModelRegistry.from_paths([corpus])
    resolve_registry(registry)
    resolve_only = time.perf_counter() - start

    start = time.perf_counter()
    report = validate_paths([corpus])
    failures = dict.fromkeys(TARGETS, 0)
    for doc in report.resolved:
        for name, compile_document in TARGETS.items():
            try:
                compile_document(doc)
            except Exception:  # counted, never hidden: the figure must say so
                failures[name] += 1
    full = time.perf_counter() - start
    return resolve_only, full, len(report.files), len(report.resolved), failures


def startup_run() -> float:
    start = time.perf_counter()
    CompiledValidator(ModelCatalog.load())
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus/onedm")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [corpus_run(args.corpus) for _ in range(args.repeat)]
    base = statistics.median(r[0] for r in runs)
    full = statistics.median(r[1] for r in runs)
    files, resolved, failures = runs[0][2], runs[0][3], runs[0][4]
    print(f"corpus: {files} files, {resolved} valid and resolved, compiled to {', '.join(TARGETS)}")
    print(f"  load+resolve only (baseline): {base:.2f} s  ({files / base:.0f} files/s)")
    print(
        f"  validate+resolve+compile all: {full:.2f} s  ({files / full:.0f} files/s)  "
        f"ratio {full / base:.1f}x of baseline"
    )
    print(f"  compile failures per target: {failures}")
    startup = statistics.median(startup_run() for _ in range(args.repeat))
    print(f"server start: load, validate and compile our models: {startup:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
