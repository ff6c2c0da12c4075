"""``ndtwin models ...``: exit codes, output formats, the compiler and importer seams."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from server.cli import main
from server.modeling import targets
from server.modeling.resolve import ResolvedDocument

ROOT = Path(__file__).resolve().parents[3]
NDTWIN = ROOT / ".venv" / "bin" / "ndtwin"
FIXTURES = ROOT / "tests" / "fixtures" / "sdf"
VALID = FIXTURES / "valid"
REGISTRY = FIXTURES / "registry"
BROKEN = FIXTURES / "broken"
LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<pointer>/\S*): (?P<severity>error|warning) "
    r"\[(?P<rule>[a-z0-9-]+)\] (?P<message>\S.*)$"
)


def ndtwin(
    *args: str | Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script, as a user would."""
    environment = {k: v for k, v in os.environ.items() if k != "NDTWIN_MODEL_PATH"}
    environment.update(env or {})
    return subprocess.run(
        [str(NDTWIN), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
        check=False,
    )


pytestmark = pytest.mark.skipif(not NDTWIN.exists(), reason="console script not installed")


# -- exit codes through the console script ------------------------------------------


def test_validate_valid_models_exits_0() -> None:
    run = ndtwin("models", "validate", VALID, "--registry", REGISTRY)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == ""
    assert "1 file checked: 0 errors, 0 warnings" in run.stderr


def test_validate_broken_models_exits_1_with_one_line_per_issue() -> None:
    run = ndtwin("models", "validate", BROKEN)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert len(lines) >= len(list(BROKEN.glob("*.sdf.json")))
    for line in lines:
        assert LINE.match(line), line
    files_with_errors = {
        LINE.match(line).group("file")  # type: ignore[union-attr]
        for line in lines
        if " error [" in line
    }
    # Every fixture except the two warning-only ones is rejected.
    assert len(files_with_errors) == len(list(BROKEN.glob("*.sdf.json"))) - 2


def test_validate_json_format_is_one_document() -> None:
    run = ndtwin(
        "models",
        "validate",
        BROKEN / "range-empty.sdf.json",
        BROKEN / "info-missing.sdf.json",
        "--format",
        "json",
    )
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert report["valid"] is False
    assert (report["errors"], report["warnings"]) == (1, 1)
    assert {(i["rule"], i["severity"], i["pointer"]) for i in report["issues"]} == {
        ("range-empty", "error", "/sdfObject/Thing/sdfProperty/p/maximum"),
        ("info-missing", "warning", ""),
    }


def test_registry_comes_from_the_environment_too() -> None:
    assert ndtwin("models", "validate", VALID).returncode == 1
    env = {"NDTWIN_MODEL_PATH": os.pathsep.join([str(ROOT / "no-such-dir"), str(REGISTRY)])}
    run = ndtwin("models", "validate", VALID, env=env)
    assert run.returncode == 0, run.stdout + run.stderr


def test_missing_file_exits_1_with_a_precise_line() -> None:
    run = ndtwin("models", "validate", "no/such/model.sdf.json")
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        "no/such/model.sdf.json:/: error [file-unreadable] cannot read file: "
        "No such file or directory"
    ]


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("models",),
        ("models", "validate"),
        ("models", "validate", "x.sdf.json", "--format", "xml"),
        ("models", "compile", "x.sdf.json", "--to", "shacl"),
        ("models", "compile", "x.sdf.json", "--to", "rdfs", "-o", "out"),
        ("models", "import-tm", "tm.json"),
        ("models", "frobnicate"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    run = ndtwin(*args)
    assert run.returncode == 2
    assert "usage:" in run.stderr


def test_compile_refuses_invalid_input(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = ndtwin("models", "compile", BROKEN / "range-empty.sdf.json", "--to", "shacl", "-o", out)
    assert run.returncode == 1
    assert "[range-empty]" in run.stdout
    assert "not compiled" in run.stderr
    assert not out.exists()


# -- compile and import-tm through the seams (in-process) ------------------------------


def _fake_compiler(doc: ResolvedDocument) -> Mapping[str, str | bytes]:
    objects = sorted(doc.body.get("sdfObject", {}))
    stem = doc.source.stem
    return {f"{stem}.txt": "\n".join(objects) + "\n", f"bin/{stem}.bin": b"\x00\x01"}


def test_compile_writes_every_output_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(targets.TARGETS, "shacl", _fake_compiler)
    out = tmp_path / "out"
    code = main(
        [
            "models",
            "compile",
            str(VALID),
            "--registry",
            str(REGISTRY),
            "--to",
            "shacl",
            "-o",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr()
    assert (out / "lamp.txt").read_text(encoding="utf-8") == "Lamp\n"
    assert (out / "bin" / "lamp.bin").read_bytes() == b"\x00\x01"
    assert "compiled 1 document(s) to shacl: 2 file(s)" in capsys.readouterr().err


def test_compile_reports_a_compiler_that_does_not_exist_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = targets._lazy("server.modeling.compilers.not_written_yet:compile_document")
    monkeypatch.setitem(targets.TARGETS, "wot-tm", missing)
    code = main(
        [
            "models",
            "compile",
            str(VALID),
            "--registry",
            str(REGISTRY),
            "--to",
            "wot-tm",
            "-o",
            str(tmp_path),
        ]
    )
    assert code == 1
    assert (
        "the 'wot-tm' compiler is not available: module "
        "server.modeling.compilers.not_written_yet is not available yet" in capsys.readouterr().err
    )


@pytest.mark.parametrize("name", ["../escape.ttl", "/abs.ttl", ""])
def test_compile_refuses_unsafe_output_names(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(targets.TARGETS, "ditto", lambda doc: {name: "x"})
    code = main(
        [
            "models",
            "compile",
            str(VALID),
            "--registry",
            str(REGISTRY),
            "--to",
            "ditto",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    assert code == 1
    assert "unsafe output file name" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_compile_reports_a_failing_compiler_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(doc: ResolvedDocument) -> Mapping[str, str | bytes]:
        raise KeyError("sdfObject")

    monkeypatch.setitem(targets.TARGETS, "jsonschema", broken)
    code = main(
        [
            "models",
            "compile",
            str(VALID),
            "--registry",
            str(REGISTRY),
            "--to",
            "jsonschema",
            "-o",
            str(tmp_path),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "the 'jsonschema' compiler failed on" in err
    assert "KeyError: 'sdfObject'" in err


def test_load_entry_point_distinguishes_missing_modules_from_broken_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ndt_broken_importer.py").write_text("import ndt_no_such_dependency\n")
    (tmp_path / "ndt_no_function.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(targets.TargetUnavailableError, match="not available yet"):
        targets.load_entry_point("ndt_absent_module:f")
    with pytest.raises(targets.TargetUnavailableError, match="has no function f"):
        targets.load_entry_point("ndt_no_function:f")
    with pytest.raises(ModuleNotFoundError, match="ndt_no_such_dependency"):
        targets.load_entry_point("ndt_broken_importer:f")


IMPORTER = """
def import_tm(tm):
    props = {name: {"type": p.get("type", "string")} for name, p in tm["properties"].items()}
    return {"info": {"title": tm["title"]}, "sdfObject": {tm["title"]: {"sdfProperty": props}}}
"""


@pytest.fixture
def fake_importer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "ndt_fake_tm_importer.py").write_text(IMPORTER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(targets.IMPORTERS, "tm", "ndt_fake_tm_importer:import_tm")
    sys.modules.pop("ndt_fake_tm_importer", None)
    return tmp_path


def test_import_tm_writes_a_validated_sdf_document(
    fake_importer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tm = fake_importer / "lamp.tm.json"
    tm.write_text(json.dumps({"title": "Lamp", "properties": {"on": {"type": "boolean"}}}))
    out = fake_importer / "out"
    assert main(["models", "import-tm", str(tm), "-o", str(out)]) == 0, capsys.readouterr()
    written = json.loads((out / "lamp.sdf.json").read_text(encoding="utf-8"))
    assert written == {
        "info": {"title": "Lamp"},
        "sdfObject": {"Lamp": {"sdfProperty": {"on": {"type": "boolean"}}}},
    }


def test_import_tm_refuses_to_write_invalid_sdf(
    fake_importer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tm = fake_importer / "odd.json"
    tm.write_text(json.dumps({"title": "Odd", "properties": {"x": {"type": "null"}}}))
    out = fake_importer / "out"
    assert main(["models", "import-tm", str(tm), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "/sdfObject/Odd/sdfProperty/x/type: error [schema-enum]" in captured.out
    assert not out.exists()


def test_import_tm_rejects_a_file_that_is_not_json(
    fake_importer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tm = fake_importer / "bad.tm.json"
    tm.write_text("{ nope")
    assert main(["models", "import-tm", str(tm), "-o", str(fake_importer / "out")]) == 1
    assert f"{tm}:/: error [json-syntax] invalid JSON at line 1" in capsys.readouterr().out


def test_import_tm_without_an_importer_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(targets.IMPORTERS, "tm", "server.modeling.importers.gone:import_tm")
    tm = tmp_path / "t.json"
    tm.write_text("{}")
    assert main(["models", "import-tm", str(tm), "-o", str(tmp_path / "out")]) == 1
    assert "the Thing Model importer is not available" in capsys.readouterr().err
