"""`scan --output-format`: every format says the same as the plan, in its own shape, with
positions of the file as committed; SARIF is valid against the SARIF 2.1.0 schema and its
fixes apply to the committed files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from optimize.reports.diagnostics import Replacement, apply_replacements
from tests.fixture_app import copy_fixture
from tests.gitrepo import git, make_repo, run_cli

SCHEMA = Path(__file__).resolve().parent.parent / "data" / "sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Path:
    """The example app, committed: every codemod and most checks have something to say."""
    root = copy_fixture(tmp_path_factory.mktemp("formats") / "app")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "app")
    return root


def _scan(app: Path, fmt: str) -> str:
    result = run_cli("scan", str(app), "--output-format", fmt, "--no-cache")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def document(app: Path) -> dict:
    return json.loads(_scan(app, "json"))


def test_sarif_is_valid_and_each_fix_applies_to_the_committed_file(app: Path, document: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    sarif = json.loads(_scan(app, "sarif"))
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    run = sarif["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["pool-pre-ping"]["properties"]["fix_safety"] == "safe"
    assert rules["fire-and-forget-broadcast"]["properties"]["fix_safety"] == "unsafe"
    assert "## What it does" in rules["pool-pre-ping"]["help"]["markdown"]
    results = run["results"]
    assert len(results) == len(document["findings"]) + len(document["changes"]) + len(document["refusals"])
    fixed = [r for r in results if r.get("fixes")]
    assert {r["ruleId"] for r in fixed} >= {"pool-pre-ping", "debug-middleware", "in-memory-requery"}
    for result in fixed:
        change = result["fixes"][0]["artifactChanges"][0]
        path = change["artifactLocation"]["uri"]
        committed = (app / path).read_text() if (app / path).exists() else ""
        found = tuple(
            Replacement(r["deletedRegion"]["startLine"], r["deletedRegion"]["endLine"], r["insertedContent"]["text"])
            for r in change["replacements"]
        )
        fixed_text = apply_replacements(committed, found)
        assert fixed_text != committed
        compile(fixed_text, path, "exec")  # each fix alone leaves a module that compiles
        region = result["locations"][0]["physicalLocation"]["region"]
        assert 1 <= region["startLine"] <= len(committed.splitlines())


def test_a_fix_alone_is_the_codemods_edit_when_no_other_codemod_touched_the_file(tmp_path: Path) -> None:
    source = "import sqlalchemy as sa\n\nengine = sa.create_engine(URL)\n"
    repo = make_repo(tmp_path / "r", {"app/db.py": source})
    data = json.loads(run_cli("scan", str(repo), "--output-format", "json", "--only", "pool-pre-ping").stdout)
    (change,) = data["changes"]
    found = tuple(Replacement(e["start"], e["end"], e["content"]) for e in change["edit"]["edits"])
    assert apply_replacements(source, found) == source.replace("create_engine(URL)", "create_engine(URL, pool_pre_ping=True)")
    assert (change["line"], change["column"], change["end_line"]) == (3, 10, 3)
    assert source.splitlines()[2][change["column"] - 1 :].startswith("sa.create_engine(")


def test_json_has_a_schema_version_positions_and_edits(document: dict) -> None:
    assert document["schema_version"] == 2
    change = next(c for c in document["changes"] if c["codemod"] == "pool-pre-ping")
    assert change["column"] >= 1 and change["end_line"] >= change["line"]
    assert change["edit"]["applicability"] == "safe" and change["edit"]["edits"]
    for kind in ("findings", "changes", "refusals"):
        assert all({"path", "line", "column", "end_line", "end_column"} <= set(i) for i in document[kind])


def test_json_lines_is_one_diagnostic_per_line(app: Path, document: dict) -> None:
    lines = _scan(app, "json-lines").splitlines()
    items = [json.loads(line) for line in lines]
    assert len(items) == len(document["findings"]) + len(document["changes"]) + len(document["refusals"])
    assert {i["kind"] for i in items} == {"finding", "change", "refusal"}
    assert all({"code", "path", "line", "column", "message"} <= set(i) for i in items)


GITHUB = re.compile(r"^::(warning|notice) file=[^,:]+(,line=\d+(,col=\d+)?(,endLine=\d+(,endColumn=\d+)?)?)?,title=[^:,]+::\S.*$")


def test_github_prints_one_workflow_command_per_diagnostic(app: Path, document: dict) -> None:
    lines = _scan(app, "github").splitlines()
    assert len(lines) == len(document["findings"]) + len(document["changes"]) + len(document["refusals"])
    for line in lines:
        assert GITHUB.match(line), line
    assert any(line.startswith("::notice ") for line in lines)  # the refusals


@pytest.mark.parametrize("fmt", ["concise", "full"])
def test_line_formats_cut_nothing_in_a_pipe_at_80_columns(app: Path, document: dict, fmt: str, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = _scan(app, fmt)
    for refusal in document["refusals"]:
        assert f"{refusal['codemod']} (left alone) {' '.join(refusal['reason'].split())}" in out
    lines = [line for line in out.splitlines() if not line.startswith("  ")]
    assert len(lines) == len(document["findings"]) + len(document["changes"]) + len(document["refusals"]) + 1
    assert lines[-1].startswith("Found ")


def test_the_default_in_a_pipe_is_concise_and_output_file_writes_the_report(app: Path, tmp_path: Path) -> None:
    piped = run_cli("scan", str(app))
    assert re.match(r"^\S+\.py:\d+:\d+: [a-z-]+ ", piped.stdout)
    target = tmp_path / "report.sarif"
    written = run_cli("scan", str(app), "--output-format", "sarif", "-o", str(target))
    assert written.exit_code == 0 and written.stdout == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"
    bad = run_cli("scan", str(app), "--output-format", "xml")
    assert bad.exit_code == 2 and "--output-format" in bad.stderr
    assert run_cli("scan", "-h").exit_code == 0
