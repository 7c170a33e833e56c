"""Commits pass the repository's own linter: in a repository that configures ruff with
`select = ["F", "E", "W", "I"]` and runs it as a pre-commit hook, every codemod lands on
the example app and `ruff check` passes on every commit (real ruff, real pre-commit)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optimize.linting import ruff_binary, ruff_tidy
from tests.fixture_app import copy_fixture
from tests.gitrepo import git, run_cli

RUFF_CONFIG = '\n[tool.ruff]\nline-length = 120\n\n[tool.ruff.lint]\nselect = ["F", "E", "W", "I"]\n'


def _ruff(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ruff_binary(), "check", "--no-cache", *args], cwd=repo, capture_output=True, text=True)


@pytest.fixture
def linted_app(tmp_path: Path) -> Path:
    if ruff_binary() is None:
        pytest.skip("ruff is not installed")
    pytest.importorskip("pre_commit")
    repo = copy_fixture(tmp_path / "app")
    with open(repo / "pyproject.toml", "a") as f:
        f.write(RUFF_CONFIG)
    _ruff(repo, "--fix", "-q", ".")  # the team's tree is lint-clean before the run
    assert _ruff(repo, ".").returncode == 0
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: local\n    hooks:\n      - id: ruff\n        name: ruff\n"
        f"        entry: {ruff_binary()} check --no-cache\n        language: system\n        types: [python]\n"
    )
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "t")
    git(repo, "config", "user.email", "t@t")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "app")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, check=True, capture_output=True)
    return repo


def test_every_codemod_lands_through_a_ruff_hook_and_every_commit_passes_ruff(linted_app: Path) -> None:
    repo = linted_app
    expected = {
        c["codemod"]
        for c in __import__("json").loads(run_cli("scan", str(repo), "--output-format", "json").stdout)["changes"]
    }
    result = run_cli("apply", str(repo), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert "dropped" not in result.stdout
    landed = git(repo, "log", "--format=%H %s", "HEAD~%d..HEAD" % len(expected)).splitlines()
    assert {line.split("perf(", 1)[1].split(")", 1)[0] for line in landed} == expected
    for line in landed:
        sha = line.split()[0]
        git(repo, "checkout", "-q", sha)
        checked = _ruff(repo, ".")
        assert checked.returncode == 0, f"{line}\n{checked.stdout}"
    shutil.rmtree(repo / ".git" / "hooks", ignore_errors=True)


def test_only_what_the_file_passed_before_is_fixed(tmp_path: Path) -> None:
    if ruff_binary() is None:
        pytest.skip("ruff is not installed")
    (tmp_path / "pyproject.toml").write_text(RUFF_CONFIG)
    clean = b"import os\nimport sys\n\nprint(os.sep, sys.argv)\n"
    # The rewrite dropped the last use of sys: the import it left unused goes.
    after = b"import os\nimport sys\n\nprint(os.sep)\n"
    assert ruff_tidy(tmp_path, "m.py", clean, after) == b"import os\n\nprint(os.sep)\n"
    # A file that already had an unused import keeps its imports: not the rewrite's doing.
    messy = b"import json\nimport os\nimport sys\n\nprint(os.sep, sys.argv)\n"
    assert ruff_tidy(tmp_path, "m.py", messy, after.replace(b"import os", b"import json\nimport os")) == (
        b"import json\nimport os\nimport sys\n\nprint(os.sep)\n"
    )
    # An import added after the block is moved into it, in isort order.
    added = b"import sys\nimport os\n\nprint(os.sep, sys.argv)\n"
    assert ruff_tidy(tmp_path, "m.py", clean, added) == clean
    # A file the repository's ruff excludes is left as the rewrite made it.
    (tmp_path / "pyproject.toml").write_text(RUFF_CONFIG.replace("[tool.ruff]\n", "[tool.ruff]\nextend-exclude = [\"legacy\"]\n"))
    assert ruff_tidy(tmp_path, "legacy/m.py", clean, after) == after


def test_a_ruff_formatted_repository_stays_ruff_formatted(tmp_path: Path) -> None:
    if ruff_binary() is None:
        pytest.skip("ruff is not installed")
    from tests.gitrepo import make_repo

    clean = 'from sqlalchemy import create_engine\n\nengine = create_engine(\n    "postgresql://db/app", pool_size=10, max_overflow=5, echo=False, future=True\n)\n'
    messy = "from sqlalchemy import create_engine\nother=create_engine( URL )\n"
    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": "[tool.ruff]\nline-length = 88\n\n[tool.ruff.format]\nquote-style = 'double'\n",
        "clean.py": clean,
        "messy.py": messy,
    })
    assert subprocess.run([ruff_binary(), "format", "--check", "clean.py"], cwd=repo).returncode == 0
    assert run_cli("apply", str(repo)).exit_code == 0
    after = (repo / "clean.py").read_text()
    assert "pool_pre_ping=True" in after
    assert subprocess.run([ruff_binary(), "format", "--check", "clean.py"], cwd=repo).returncode == 0
    # A file that was not ruff-formatted is not reformatted: only the rewrite changes it.
    assert (repo / "messy.py").read_text() == "from sqlalchemy import create_engine\nother=create_engine( URL, pool_pre_ping=True )\n"


def test_a_rewritten_line_too_long_is_formatted_alone_to_fit(tmp_path: Path) -> None:
    if ruff_binary() is None:
        pytest.skip("ruff is not installed")
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 60\n\n[tool.ruff.lint]\nselect = [\"E\"]\n")
    untouched = "x = {'a':1}  # not formatted: not the rewrite's line\n"
    before = (untouched + "engine = create_engine(URL)\n").encode()
    after = (untouched + "engine = create_engine(URL, pool_size=10, max_overflow=20, pool_pre_ping=True)\n").encode()
    fitted = ruff_tidy(tmp_path, "m.py", before, after).decode()
    assert fitted.startswith(untouched)  # only the rewritten statement is formatted
    assert max(len(line) for line in fitted.splitlines()[1:]) <= 60 and "pool_pre_ping=True" in fitted
    compile(fitted, "m.py", "exec")


def test_a_changed_ruff_toml_is_planned_again(tmp_path: Path) -> None:
    if ruff_binary() is None:
        pytest.skip("ruff is not installed")
    import json

    from tests.gitrepo import make_repo

    source = "import sys\nfrom sqlalchemy import create_engine\n\nengine = create_engine(URL)\nprint(sys.argv)\n"
    repo = make_repo(tmp_path / "r", {"app/db.py": source, "ruff.toml": 'line-length = 120\n[lint]\nselect = ["E501"]\n'})

    def edits() -> str:
        data = json.loads(run_cli("scan", str(repo), "--output-format", "json", "--only", "pool-pre-ping").stdout)
        return "".join(e["content"] for c in data["changes"] for e in c["edit"]["edits"])

    assert "pool_pre_ping=True" in edits()
    (repo / "ruff.toml").write_text('line-length = 30\n[lint]\nselect = ["E501"]\n')  # now it must be wrapped
    wrapped = edits()
    assert "\n" in wrapped.strip() and all(len(line) <= 30 for line in wrapped.splitlines())
