"""Configuration as ruff finds and reads its own: the nearest `optimize.toml` or
`pyproject.toml` with `[tool.optimize]`, from the scanned directory up to the repository's
top; excludes with gitignore semantics; `extend-exclude` and `per-file-ignores`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import git, make_repo, run_cli

ENGINE = "from sqlalchemy import create_engine\n\nengine = create_engine(URL)\n"


def _changed(repo: Path, *args: str) -> set[str]:
    result = run_cli("scan", *args, "--output-format", "json", "--only", "pool-pre-ping")
    assert result.exit_code == 0, result.output
    return {c["path"] for c in json.loads(result.stdout)["changes"]}


def test_the_nearest_configuration_above_the_scanned_directory_is_used(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": '[tool.optimize]\nexclude = ["legacy"]\n',
        "backend/pyproject.toml": "[project]\nname = 'b'\n",  # no [tool.optimize]: not the one
        "backend/app/db.py": ENGINE,
        "backend/legacy/db.py": ENGINE,
    })
    # Globs are relative to the configuration's directory; `legacy` matches at any depth.
    assert _changed(repo, str(repo / "backend")) == {"backend/app/db.py"}
    (repo / "backend/optimize.toml").write_text('exclude = ["app/"]\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "nearer")
    assert _changed(repo, str(repo / "backend")) == {"backend/legacy/db.py"}  # nearer wins, warm cache or not


def test_excludes_have_gitignore_semantics(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": '[tool.optimize]\nexclude = ["tests", "scripts/*.py"]\nextend-exclude = ["tasks.py"]\n',
        "tests/db.py": ENGINE,
        "app/tests/db.py": ENGINE,
        "scripts/db.py": ENGINE,
        "scripts/sub/db.py": ENGINE,  # `*` does not cross a directory
        "app/tasks.py": ENGINE,
        "app/db.py": ENGINE,
    })
    assert _changed(repo, str(repo)) == {"scripts/sub/db.py", "app/db.py"}


def test_per_file_ignores_turn_codemods_and_checks_off_by_glob(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": '[tool.optimize.per-file-ignores]\n"legacy/**" = ["pool-pre-ping"]\n',
        "legacy/db.py": ENGINE,
        "app/db.py": ENGINE,
    })
    assert _changed(repo, str(repo)) == {"app/db.py"}
    bad = run_cli("scan", str(repo), "--no-cache")
    assert bad.exit_code == 0
    (repo / "pyproject.toml").write_text('[tool.optimize.per-file-ignores]\n"legacy/**" = ["no-such-id"]\n')
    bad = run_cli("scan", str(repo))
    assert bad.exit_code == 2 and "unknown codemod or check id 'no-such-id'" in bad.stderr


def test_apply_reads_the_configuration_above_from_the_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": '[tool.optimize]\ndisable = ["pool-pre-ping"]\n',
        "backend/app/db.py": ENGINE,
        "backend/app/other.py": ENGINE.replace("create_engine(URL)", "create_engine(URL, max_overflow=1)"),
    })
    result = run_cli("apply", str(repo / "backend"), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    subjects = git(repo, "log", "--format=%s").splitlines()
    assert any(s.startswith("perf(pool-overflow)") for s in subjects)
    assert not any(s.startswith("perf(pool-pre-ping)") for s in subjects)  # disabled two levels up


def test_a_broken_file_further_up_that_is_not_needed_is_not_read(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {
        "pyproject.toml": "[tool.optimize\n",  # broken, but the nearer files answer everything
        "backend/pyproject.toml": "[tool.optimize]\ndisable = []\n",
        "backend/app/db.py": ENGINE,
    })
    assert _changed(repo, str(repo / "backend")) == {"backend/app/db.py"}
    broken = run_cli("scan", str(repo))
    assert broken.exit_code == 2 and broken.stderr.startswith("error: pyproject.toml: cannot be read")
    (repo / "backend/pyproject.toml").write_text("tool = 3\n")
    bad = run_cli("scan", str(repo / "backend"))
    assert bad.exit_code == 2 and "pyproject.toml: tool: expected a table" in bad.stderr
