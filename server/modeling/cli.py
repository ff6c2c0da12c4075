"""``ndtwin models ...``: validate, compile and import SDF models from the shell.

Exit codes: 0 success, 1 invalid input (or a tool that is not available),
2 usage error (argparse). Findings go to stdout, one line each (or one JSON
document with ``--format json``); the summary goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from server.modeling.issues import ERROR, Issue, sort_issues
from server.modeling.registry import SdfDocument, load_document
from server.modeling.schema import SchemaUnavailableError
from server.modeling.targets import (
    IMPORTERS,
    TARGETS,
    TargetUnavailableError,
    check_output_name,
    load_entry_point,
)
from server.modeling.validate import (
    MODEL_PATH_ENV,
    Report,
    load_registry,
    model_path_from_env,
    validate_data,
    validate_paths,
)

__all__ = ["register"]

EXIT_OK, EXIT_INVALID = 0, 1


def register(subparsers: Any) -> None:
    """Add ``models`` and its subcommands to the top-level ``ndtwin`` parser."""
    models = subparsers.add_parser(
        "models",
        help="validate, compile and import OneDM SDF models (RFC 9880)",
        description="Validate, compile and import OneDM SDF models (RFC 9880).",
    )
    commands = models.add_subparsers(dest="models_command", metavar="COMMAND", required=True)

    registry_help = (
        f"directory of SDF documents that cross-document sdfRefs may name "
        f"(repeatable; also ${MODEL_PATH_ENV})"
    )
    validate = commands.add_parser(
        "validate",
        help="check SDF files: strict schema, references, semantics",
        description="Check SDF files against the strict RFC 9880 schema and ndtwin's "
        "semantic rules (see docs/models.md).",
    )
    validate.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="*.sdf.json file or directory (searched recursively)",
    )
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument(
        "--registry", action="append", default=[], metavar="DIR", help=registry_help
    )
    validate.set_defaults(handler=run_validate)

    compile_ = commands.add_parser(
        "compile",
        help="compile resolved SDF models to a target format",
        description="Validate, resolve and compile SDF files; invalid input is refused.",
    )
    compile_.add_argument("paths", nargs="+", metavar="PATH")
    compile_.add_argument("--to", required=True, choices=sorted(TARGETS), dest="target")
    compile_.add_argument("-o", "--output", required=True, metavar="DIR", type=Path)
    compile_.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="format of the findings when input is refused",
    )
    compile_.add_argument(
        "--registry", action="append", default=[], metavar="DIR", help=registry_help
    )
    compile_.set_defaults(handler=run_compile)

    import_tm = commands.add_parser(
        "import-tm",
        help="import a W3C WoT Thing Model as an SDF document",
        description="Convert a WoT Thing Model (TD 1.1) to SDF and validate the result.",
    )
    import_tm.add_argument("file", metavar="FILE", type=Path)
    import_tm.add_argument("-o", "--output", required=True, metavar="DIR", type=Path)
    import_tm.add_argument("--format", choices=("text", "json"), default="text")
    import_tm.add_argument(
        "--registry", action="append", default=[], metavar="DIR", help=registry_help
    )
    import_tm.set_defaults(handler=run_import_tm)


def _fail(message: str) -> int:
    print(f"ndtwin: {message}", file=sys.stderr)
    return EXIT_INVALID


def _print_issues(issues: list[Issue], fmt: str, report: Report | None = None) -> None:
    if fmt == "json":
        payload = (
            report.to_json()
            if report is not None
            else {
                "valid": not any(i.is_error for i in issues),
                "issues": [i.to_json() for i in issues],
            }
        )
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for issue in issues:
            print(issue.render())


def _summary(report: Report) -> str:
    files = len(report.files)
    return (
        f"{files} file{'s' if files != 1 else ''} checked: {report.errors} error"
        f"{'s' if report.errors != 1 else ''}, {report.warnings} warning"
        f"{'s' if report.warnings != 1 else ''}"
    )


def _registry_dirs(args: argparse.Namespace) -> list[str]:
    return [*args.registry, *model_path_from_env()]


def _validated(args: argparse.Namespace) -> Report | int:
    try:
        return validate_paths(args.paths, _registry_dirs(args))
    except SchemaUnavailableError as exc:
        return _fail(str(exc))


def run_validate(args: argparse.Namespace) -> int:
    """``ndtwin models validate``: 0 when no file has an error, else 1."""
    report = _validated(args)
    if isinstance(report, int):
        return report
    _print_issues(report.issues, args.format, report)
    print(_summary(report), file=sys.stderr)
    return EXIT_OK if report.valid else EXIT_INVALID


def _write_outputs(output: Path, files: dict[Path, str | bytes]) -> None:
    for relative, content in files.items():
        path = output / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        print(path)


def run_compile(args: argparse.Namespace) -> int:
    """``ndtwin models compile``: validate, then write each compiler output under ``-o``."""
    report = _validated(args)
    if isinstance(report, int):
        return report
    if not report.valid:
        _print_issues(report.issues, args.format, report)
        return _fail(f"not compiled: {_summary(report)}")
    compile_document = TARGETS[args.target]
    outputs: dict[Path, str | bytes] = {}
    origin: dict[Path, str] = {}
    for doc in report.resolved:
        source = str(doc.source.path)
        try:
            produced = compile_document(doc)
        except TargetUnavailableError as exc:
            return _fail(f"the {args.target!r} compiler is not available: {exc}")
        except Exception as exc:  # a compiler bug must still end in one clear line
            return _fail(
                f"the {args.target!r} compiler failed on {source}: {type(exc).__name__}: {exc}"
            )
        for name, content in produced.items():
            try:
                relative = Path(check_output_name(name))
            except ValueError as exc:
                return _fail(f"the {args.target!r} compiler, on {source}: {exc}")
            if relative in outputs:
                return _fail(f"{source} and {origin[relative]} both produce {relative}")
            outputs[relative], origin[relative] = content, source
    _write_outputs(args.output, outputs)
    print(
        f"compiled {len(report.resolved)} document(s) to {args.target}: "
        f"{len(outputs)} file(s) in {args.output}",
        file=sys.stderr,
    )
    return EXIT_OK


def _output_stem(path: Path) -> str:
    name = path.name
    for suffix in (".tm.jsonld", ".tm.json", ".jsonld", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return path.stem or "model"


def run_import_tm(args: argparse.Namespace) -> int:
    """``ndtwin models import-tm``: TM in, validated SDF document out."""
    try:
        tm_doc: SdfDocument = load_document(args.file)
    except Exception as exc:  # DocumentLoadError and anything the file system raises
        rule = getattr(exc, "rule", "file-unreadable")
        message = getattr(exc, "message", str(exc)).replace("an SDF document", "a Thing Model")
        print(Issue(str(args.file), "", rule, ERROR, message).render())
        return _fail("not imported")
    try:
        import_tm = load_entry_point(IMPORTERS["tm"])
    except TargetUnavailableError as exc:
        return _fail(f"the Thing Model importer is not available: {exc}")
    try:
        sdf = import_tm(tm_doc.data)
    except Exception as exc:  # an unmappable TM or an importer bug: one clear line
        return _fail(f"cannot import {args.file}: {type(exc).__name__}: {exc}")
    target = args.output / f"{_output_stem(args.file)}.sdf.json"
    try:
        registry, _, _ = load_registry([], _registry_dirs(args))
        issues = sort_issues(validate_data(sdf, str(target), registry))
    except SchemaUnavailableError as exc:
        return _fail(str(exc))
    if any(i.is_error for i in issues):
        _print_issues(issues, args.format)
        return _fail(f"not imported: the SDF produced from {args.file} is invalid")
    _print_issues(issues, args.format)
    args.output.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(sdf, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(target, file=sys.stderr)
    return EXIT_OK
