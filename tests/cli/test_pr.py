"""`optimize pr` with real git: a local bare repository as origin, a fake `gh` on PATH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.gitrepo import git, make_repo, run_cli, snapshot

FILES = {
    "app/__init__.py": "",
    "app/db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL)\n",
    "app/tasks.py": "import asyncio\n\nasync def ping(c):\n    asyncio.create_task(c())\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    repo = make_repo(tmp_path / "work", FILES)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    (repo / "notes.txt").write_text("untracked work in progress\n")
    return repo


def test_pr_pushes_a_branch_and_leaves_the_checkout_alone(repo: Path, tmp_path: Path) -> None:
    before = snapshot(repo)
    result = run_cli("pr", str(repo), "--branch", "optimize/test")
    assert result.exit_code == 0, result.output
    after = snapshot(repo)
    for key in ("head", "branch", "index", "status", "files", "worktrees"):
        assert after[key] == before[key], key
    origin = tmp_path / "origin.git"
    log = git(origin, "log", "optimize/test", "--format=%(trailers:key=Optimize-Codemod,valueonly)")
    assert log.split() == ["dangling-task", "pool-pre-ping"]
    body = next((repo / ".git" / "optimize").glob("pr-optimize-test.md")).read_text()
    assert "| codemod | safety | files | locations | expected effect |" in body
    assert "### `pool-pre-ping`" in body and "### `dangling-task`" in body
    assert "git revert" in body and "optimize revert pool-pre-ping" in body


def test_rerunning_updates_the_branch(repo: Path, tmp_path: Path) -> None:
    assert run_cli("pr", str(repo), "--branch", "optimize/test", "--only", "pool-pre-ping").exit_code == 0
    first = git(tmp_path / "origin.git", "rev-parse", "optimize/test")
    result = run_cli("pr", str(repo), "--branch", "optimize/test")
    assert result.exit_code == 0, result.output
    second = git(tmp_path / "origin.git", "rev-parse", "optimize/test")
    assert first != second
    assert "dangling-task" in git(tmp_path / "origin.git", "log", "-1", "optimize/test", "--format=%B")


def test_open_calls_gh_with_the_exact_arguments(repo: Path, tmp_path: Path, monkeypatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "gh-calls"
    gh = bindir / "gh"
    gh.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {calls}\n'
        'if [ "$1" = "pr" ] && [ "$2" = "view" ]; then [ -f ' + str(tmp_path / "exists") + " ] || exit 1; fi\n"
        'if [ "$1" = "pr" ] && [ "$2" = "create" ]; then touch ' + str(tmp_path / "exists") + "; echo https://example.invalid/pr/1; fi\n"
    )
    gh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GH_TOKEN", "secret-token-value")
    body = tmp_path / "body.md"
    result = run_cli("pr", str(repo), "--branch", "optimize/test", "--open", "--body-file", str(body))
    assert result.exit_code == 0, result.output
    lines = calls.read_text().splitlines()
    assert lines[0] == "auth status"
    assert lines[1] == "pr view optimize/test --json number"
    title = body.read_text().splitlines()[0][2:]
    assert lines[2] == f"pr create --title {title} --body-file {body} --base main --head optimize/test"
    result = run_cli("pr", str(repo), "--branch", "optimize/test", "--open", "--body-file", str(body))
    assert result.exit_code == 0
    assert calls.read_text().splitlines()[-1] == f"pr edit optimize/test --title {title} --body-file {body}"
    assert "secret-token-value" not in result.output


def test_open_without_gh_is_one_line(repo: Path, tmp_path: Path, monkeypatch) -> None:
    import shutil

    only_git = tmp_path / "only-git"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(only_git))
    result = run_cli("pr", str(repo), "--branch", "optimize/x", "--open", "--no-push")
    assert result.exit_code == 2 and "GitHub CLI" in result.stderr


def test_no_push_and_missing_remote(repo: Path) -> None:
    result = run_cli("pr", str(repo), "--branch", "optimize/local", "--no-push")
    assert result.exit_code == 0 and "local only" in result.output
    assert git(repo, "rev-parse", "--verify", "optimize/local").strip()
    missing = run_cli("pr", str(repo), "--remote", "upstream")
    assert missing.exit_code == 2 and "no remote named 'upstream'" in missing.stderr
