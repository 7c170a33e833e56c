"""`optimize pr --branch` with real git and a real bare remote: which branches it may
write, the names it accepts, and what a failed push says."""

from __future__ import annotations

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
def origin(tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    return origin


@pytest.fixture
def repo(tmp_path: Path, origin: Path) -> Path:
    repo = make_repo(tmp_path / "work", FILES)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return repo


def teammate_pushes(tmp_path: Path, origin: Path, branch: str, start: str | None = None) -> str:
    """A teammate's clone commits a plain change (no trailer) on ``branch`` (made from
    ``start`` if given) and pushes it; returns the commit."""
    clone = tmp_path / "teammate"
    if not clone.exists():
        git(tmp_path, "clone", "-q", str(origin), str(clone))
        git(clone, "config", "user.name", "Teammate")
        git(clone, "config", "user.email", "teammate@example.invalid")
    git(clone, "fetch", "-q", "origin")
    git(clone, "checkout", "-q", "-B", branch, f"origin/{start or branch}")
    (clone / "app" / "teammate.py").write_text("WORK = 'in progress'\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "teammate: work in progress")
    git(clone, "push", "-q", "origin", f"{branch}:{branch}")
    return git(clone, "rev-parse", "HEAD").strip()


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- which branches may be written -------------------------------------------------------------


def test_a_teammates_commit_on_the_remote_branch_is_refused_not_overwritten(
    repo: Path, origin: Path, tmp_path: Path
) -> None:
    assert run_cli("pr", str(repo), "--branch", "optimize/test", "--only", "pool-pre-ping").exit_code == 0
    theirs = teammate_pushes(tmp_path, origin, "optimize/test")
    git(repo, "fetch", "-q", "origin")  # the tracking ref is current: a plain lease would hold
    before, remote_before = snapshot(repo), git(origin, "for-each-ref")
    result = run_cli("pr", str(repo), "--branch", "optimize/test")
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert "optimize/test" in line and theirs[:10] in line and "not optimize's" in line
    assert snapshot(repo) == before
    assert git(origin, "for-each-ref") == remote_before
    assert git(origin, "rev-parse", "optimize/test").strip() == theirs


def test_a_remote_branch_never_fetched_is_checked_too(repo: Path, origin: Path, tmp_path: Path) -> None:
    theirs = teammate_pushes(tmp_path, origin, "shared", start="main")
    before, remote_before = snapshot(repo), git(origin, "for-each-ref")
    result = run_cli("pr", str(repo), "--branch", "shared")
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert "shared on origin" in line and theirs[:10] in line
    assert snapshot(repo) == before  # the check fetched no remote-tracking branch either
    assert git(origin, "for-each-ref") == remote_before


def test_a_local_branch_with_other_commits_is_refused(repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "feature")
    (repo / "app" / "feature.py").write_text("FEATURE = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature: started")
    mine = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "main")
    before = snapshot(repo)
    result = run_cli("pr", str(repo), "--branch", "feature", "--no-push")
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert "feature" in line and mine[:10] in line
    assert snapshot(repo) == before


def test_a_branch_checked_out_in_another_worktree_is_refused(repo: Path, tmp_path: Path) -> None:
    assert run_cli("pr", str(repo), "--branch", "optimize/test", "--no-push").exit_code == 0
    git(repo, "worktree", "add", "-q", str(tmp_path / "other"), "optimize/test")
    before = snapshot(repo)
    result = run_cli("pr", str(repo), "--branch", "optimize/test", "--no-push")
    assert result.exit_code == 2 and "checked out in" in one_line(result)
    assert snapshot(repo) == before


def test_optimizes_own_branch_is_updated_locally_and_remotely(repo: Path, origin: Path) -> None:
    assert run_cli("pr", str(repo), "--branch", "optimize/test", "--only", "pool-pre-ping").exit_code == 0
    git(repo, "branch", "-q", "-D", "optimize/test")  # only the remote has it now
    result = run_cli("pr", str(repo), "--branch", "optimize/test")
    assert result.exit_code == 0, result.output
    log = git(origin, "log", "main..optimize/test", "--format=%(trailers:key=Optimize-Codemod,valueonly)")
    assert log.split() == ["dangling-task", "pool-pre-ping"]
    assert git(repo, "rev-parse", "optimize/test") == git(origin, "rev-parse", "optimize/test")


def test_a_commit_pushed_while_optimize_runs_is_not_overwritten(
    repo: Path, origin: Path, tmp_path: Path, monkeypatch
) -> None:
    """The lease is the commit that was checked, not the remote-tracking branch, which a
    background fetch (an editor's, say) may have moved to the teammate's commit meanwhile."""
    from optimize import git as gitops

    assert run_cli("pr", str(repo), "--branch", "optimize/test", "--only", "pool-pre-ping").exit_code == 0
    pushed = []
    real = gitops.build_commits

    def build_while_a_teammate_pushes(*args, **kwargs):
        pushed.append(teammate_pushes(tmp_path, origin, "optimize/test"))
        git(repo, "fetch", "-q", "origin")
        return real(*args, **kwargs)

    monkeypatch.setattr(gitops, "build_commits", build_while_a_teammate_pushes)
    result = run_cli("pr", str(repo), "--branch", "optimize/test")
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert "push to origin failed" in line and "stale info" in line
    assert "the commits are on local branch optimize/test" in line
    assert git(origin, "rev-parse", "optimize/test").strip() == pushed[0]


# --- branch names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["-x", "--delete", "a..b", "HEAD", "x y", "x.lock", "refs/heads/main", "@", "foo@{1}", "@{-1}"]
)
def test_a_branch_name_git_would_misread_is_refused(repo: Path, origin: Path, name: str) -> None:
    before, remote_before = snapshot(repo), git(origin, "for-each-ref")
    result = run_cli("pr", str(repo), f"--branch={name}")
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert "not a valid branch name" in line and repr(name) in line
    assert snapshot(repo) == before
    assert git(origin, "for-each-ref") == remote_before


# --- a failed push -----------------------------------------------------------------------------


def test_a_rejected_push_says_why_and_where_the_commits_are(
    repo: Path, origin: Path, monkeypatch
) -> None:
    token = "ghp_pushHookToken0123456789"
    monkeypatch.setenv("GH_TOKEN", token)
    hook = origin / "hooks" / "pre-receive"
    hook.write_text('#!/bin/sh\necho "branch protected (token $GH_TOKEN)" >&2\nexit 1\n')
    hook.chmod(0o755)
    result = run_cli("pr", str(repo), "--branch", "optimize/test")
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert "push to origin failed" in line and "remote: branch protected" in line
    assert token not in line and "(token ***)" in line
    assert "the commits are on local branch optimize/test, created by this run" in line
    created = git(repo, "rev-parse", "optimize/test").strip()
    assert "Optimize-Codemod:" in git(repo, "log", "-1", "--format=%B", created)
    again = run_cli("pr", str(repo), "--branch", "optimize/test")
    assert again.exit_code == 2
    assert f"the commits are on local branch optimize/test, which was at {created[:10]} before this run" in one_line(again)
