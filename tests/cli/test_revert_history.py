"""`optimize log` and `optimize revert` on histories `optimize` did not make itself: squash
merges of its commits, and reverts that fail for a reason other than a conflict."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.gitrepo import git, make_repo, run_cli, snapshot

FILES = {
    "app/__init__.py": "",
    "app/db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL)\n",
    "app/tasks.py": "import asyncio\n\nasync def ping(c):\n    asyncio.create_task(c())\n",
}
BOTH = {"pool-pre-ping", "dangling-task"}


def squash_merged(tmp_path: Path, style: str) -> Path:
    """A repository whose main has the optimisation commits of a feature branch squashed
    into one commit: with GitHub's message (every message, oldest first, `* `-prefixed) or
    with `git merge --squash`'s own (indented)."""
    repo = make_repo(tmp_path / "repo", FILES)
    git(repo, "switch", "-q", "-c", "optimize")
    assert run_cli("apply", str(repo)).exit_code == 0
    messages = git(repo, "log", "--reverse", "--format=%B%x00", "main..optimize").split("\0")
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--squash", "optimize")
    if style == "github":
        body = "\n\n".join(f"* {m.strip()}" for m in messages if m.strip())
        (tmp_path / "message").write_text(f"Optimize the database and tasks (#7)\n\n{body}\n")
        git(repo, "commit", "-q", "-F", str(tmp_path / "message"))
    else:
        git(repo, "commit", "-q", "--no-edit")
    git(repo, "branch", "-q", "-D", "optimize")
    return repo


@pytest.fixture(params=["github", "git-merge-squash"])
def squashed(request, tmp_path: Path) -> Path:
    return squash_merged(tmp_path, request.param)


def test_every_codemod_of_a_squash_merge_is_read(squashed: Path) -> None:
    from optimize import git as gitops

    commits = gitops.optimisation_commits(gitops.open_repo(squashed))
    assert len(commits) == 1 and set(commits[0].codemods) == BOTH
    shown = run_cli("log", str(squashed))
    assert shown.exit_code == 0
    assert "pool-pre-ping" in shown.output and "dangling-task" in shown.output


@pytest.mark.parametrize("named", ["pool-pre-ping", "dangling-task"])
def test_reverting_part_of_a_squash_merge_is_refused(squashed: Path, named: str) -> None:
    sha = git(squashed, "rev-parse", "HEAD").strip()
    before = snapshot(squashed)
    result = run_cli("revert", str(squashed), named)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert sha[:10] in lines[0] and "name all of them to revert it" in lines[0]
    assert "pool-pre-ping" in lines[0] and "dangling-task" in lines[0]
    assert snapshot(squashed) == before


@pytest.mark.parametrize("args", [["pool-pre-ping", "dangling-task"], ["--all"]], ids=["both", "all"])
def test_naming_every_codemod_reverts_the_squash_merge_whole(tmp_path: Path, args: list[str]) -> None:
    repo = squash_merged(tmp_path, "github")
    squash = git(repo, "rev-parse", "HEAD").strip()
    result = run_cli("revert", str(repo), *args)
    assert result.exit_code == 0, result.output
    assert {p: (repo / p).read_text() for p in FILES} == FILES
    message = git(repo, "log", "-1", "--format=%B")
    assert f"This reverts commit {squash}." in message
    assert "Optimize-Reverts: pool-pre-ping" in message and "Optimize-Reverts: dangling-task" in message
    assert "reverted by" in run_cli("log", str(repo)).output
    assert "Nothing to revert" in run_cli("revert", str(repo), "--all").output


# --- reverts that fail ---------------------------------------------------------------------------


def test_a_conflicting_revert_names_the_conflicting_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    assert run_cli("apply", str(repo), "--only", "pool-pre-ping").exit_code == 0
    (repo / "app/db.py").write_text("from sqlalchemy import create_engine\nengine = create_engine(URL2, pool_pre_ping=True)\n")
    git(repo, "commit", "-q", "-am", "use URL2")
    before = snapshot(repo)
    result = run_cli("revert", str(repo), "pool-pre-ping")
    assert result.exit_code == 2, result.output
    assert "conflicts with later changes in app/db.py" in result.stderr
    assert snapshot(repo) == before


def test_a_revert_that_fails_without_a_conflict_quotes_git(tmp_path: Path) -> None:
    """A partial clone whose promisor remote is gone cannot read the blobs a revert needs:
    that is no conflict, and git's own reason is what the user needs to see."""
    upstream = make_repo(tmp_path / "upstream", FILES)
    git(upstream, "config", "uploadpack.allowFilter", "true")
    assert run_cli("apply", str(upstream), "--only", "pool-pre-ping").exit_code == 0
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{upstream}", str(clone))
    git(clone, "config", "user.name", "Test User")
    git(clone, "config", "user.email", "test@example.invalid")
    shutil.move(str(upstream), str(tmp_path / "gone"))
    before = snapshot(clone)
    result = run_cli("revert", str(clone), "pool-pre-ping")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "conflict" not in lines[0]
    assert "could not fetch" in lines[0] and "promisor remote" in lines[0]
    assert snapshot(clone) == before
