"""A failure or Ctrl-C at any step of `apply` leaves branch, index and files as they were;
a run killed hard leaves nothing the next run trips over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import optimize.engine
import optimize.reading
import optimize.git
import optimize.runner
from optimize.analyzers.index import RepoIndex
from optimize.codemods.registry import by_id
from tests.gitrepo import git, make_repo, run_cli, snapshot

FILES = {
    "pyproject.toml": "[tool.black]\n",  # so that black runs on the rewrites
    "app/__init__.py": "",
    "app/db.py": "from sqlalchemy import create_engine\n\nengine = create_engine(url, max_overflow=5)\n",
    "app/tasks.py": "import asyncio\n\n\nasync def f(c):\n    asyncio.create_task(c())\n",
}
# The codemods that rewrite FILES with --unsafe-fixes, one commit each.
CODEMODS = ["pool-pre-ping", "pool-overflow", "dangling-task"]
ERRORS = [RuntimeError("injected"), KeyboardInterrupt()]
ERROR_IDS = ["exception", "ctrl-c"]


class Injected:
    """Replace ``owner.attr`` with a wrapper that raises ``error`` on call number ``at``."""

    def __init__(self, monkeypatch, owner, attr: str, error: BaseException, at: int = 1, when=None) -> None:
        self.calls = 0
        self.raised = False
        real = getattr(owner, attr)

        def wrapper(*args, **kwargs):
            if when is None or when(*args, **kwargs):
                self.calls += 1
                if self.calls == at:
                    self.raised = True
                    raise error
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, attr, wrapper)


def _repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "r", FILES)


def _check_untouched(repo: Path, before: dict, result, error: BaseException) -> None:
    assert "Traceback" not in result.output
    if isinstance(error, KeyboardInterrupt):
        assert result.exit_code == 130 and "interrupted: nothing was changed" in result.stderr
    else:
        assert result.exit_code == 2 and "injected" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert snapshot(repo) == before
    area = repo / ".git" / "optimize"
    assert not area.exists() or not any(area.iterdir()), "a private worktree was left behind"


def _next_run_works(repo: Path) -> None:
    result = run_cli("apply", str(repo), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    landed = git(repo, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split()
    assert sorted(landed) == sorted(CODEMODS)


# (label, how to reach the step): each raises the first time the step is reached.
STEPS = {
    "discovery": lambda mp, e: Injected(mp, optimize.reading, "discover", e),
    "index build": lambda mp, e: Injected(mp, RepoIndex, "build", e),
    "compile check": lambda mp, e: Injected(mp, optimize.engine, "_compiles", e, at=2),
    "black": lambda mp, e: Injected(mp, optimize.engine, "black_reformat", e, at=2),
    "commit message": lambda mp, e: Injected(mp, optimize.runner, "commit_message", e, at=2),
    "private worktree": lambda mp, e: Injected(mp, optimize.git, "private_worktree", e),
    "git add": lambda mp, e: Injected(mp, optimize.git, "_run", e, at=2, when=lambda cwd, args, *a, **k: args[0] == "add"),
    "git commit": lambda mp, e: Injected(mp, optimize.git, "_commit", e, at=3),
    "move_branch": lambda mp, e: Injected(mp, optimize.git, "move_branch", e),
    "git update-ref": lambda mp, e: Injected(mp, optimize.git, "_run", e, when=lambda cwd, args, *a, **k: args[0] == "update-ref"),
    "git read-tree": lambda mp, e: Injected(mp, optimize.git, "_run", e, when=lambda cwd, args, *a, **k: args[0] == "read-tree"),
}


@pytest.mark.parametrize("error", ERRORS, ids=ERROR_IDS)
@pytest.mark.parametrize("step", list(STEPS))
def test_a_failure_at_any_step_changes_nothing(tmp_path, monkeypatch, step, error) -> None:
    repo = _repo(tmp_path)
    before = snapshot(repo)
    with monkeypatch.context() as mp:
        injected = STEPS[step](mp, error)
        result = run_cli("apply", str(repo), "--unsafe-fixes")
    assert injected.raised, f"{step} was never reached"
    _check_untouched(repo, before, result, error)
    _next_run_works(repo)


def _git_runs_in_a_clean_apply(tmp_path_factory) -> int:
    repo = _repo(tmp_path_factory.mktemp("count"))
    count = {"n": 0}
    real = optimize.git._run

    def counting(*args, **kwargs):
        count["n"] += 1
        return real(*args, **kwargs)

    optimize.git._run = counting
    try:
        assert run_cli("apply", str(repo), "--unsafe-fixes").exit_code == 0
    finally:
        optimize.git._run = real
    return count["n"]


@pytest.fixture(scope="module")
def git_runs(tmp_path_factory) -> int:
    return _git_runs_in_a_clean_apply(tmp_path_factory)


@pytest.mark.parametrize("error", ERRORS, ids=ERROR_IDS)
@pytest.mark.parametrize("at", range(1, 11))
def test_a_failure_at_each_git_command_in_the_private_worktree(tmp_path, monkeypatch, git_runs, at, error) -> None:
    if at > git_runs:
        pytest.skip(f"a clean apply runs {git_runs} git commands in its worktree")
    repo = _repo(tmp_path)
    before = snapshot(repo)
    with monkeypatch.context() as mp:
        injected = Injected(mp, optimize.git, "_run", error, at=at)
        result = run_cli("apply", str(repo), "--unsafe-fixes")
    assert injected.raised
    _check_untouched(repo, before, result, error)
    _next_run_works(repo)


@pytest.mark.parametrize("error", ERRORS, ids=ERROR_IDS)
@pytest.mark.parametrize("at", range(1, len(CODEMODS) + 1))
def test_a_failure_in_the_before_each_hook(tmp_path, monkeypatch, at, error) -> None:
    repo = _repo(tmp_path)
    before = snapshot(repo)
    seen = []
    real = optimize.git.build_commits

    def before_each(spec) -> None:
        seen.append(spec.key)
        if len(seen) == at:
            raise error

    monkeypatch.setattr(optimize.git, "build_commits", lambda *a, **k: real(*a, **{**k, "before_each": before_each}))
    result = run_cli("apply", str(repo), "--unsafe-fixes")
    monkeypatch.undo()
    assert len(seen) == at
    _check_untouched(repo, before, result, error)
    _next_run_works(repo)


@pytest.mark.parametrize("error", ERRORS, ids=ERROR_IDS)
@pytest.mark.parametrize("codemod", CODEMODS)
def test_a_failure_in_a_codemods_transform(tmp_path, monkeypatch, codemod, error) -> None:
    """Ctrl-C stops the run with nothing changed. An exception is a bug in that codemod: it
    is reported as an internal-error refusal, it makes no commit, and the others land."""
    repo = _repo(tmp_path)
    before = snapshot(repo)
    with monkeypatch.context() as mp:
        injected = Injected(mp, by_id()[codemod], "transform_module_impl", error)
        result = run_cli("apply", str(repo), "--unsafe-fixes")
    assert injected.raised
    if isinstance(error, KeyboardInterrupt):
        _check_untouched(repo, before, result, error)
        _next_run_works(repo)
        return
    assert result.exit_code == 0 and "Traceback" not in result.output
    landed = git(repo, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split()
    assert sorted(landed) == sorted(c for c in CODEMODS if c != codemod)
    assert git(repo, "status", "--porcelain") == ""
    with monkeypatch.context() as mp:
        Injected(mp, by_id()[codemod], "transform_module_impl", error)
        scan = run_cli("scan", str(repo), "--only", codemod, "--format", "json")
    reasons = [r["reason"] for r in json.loads(scan.stdout)["refusals"]]
    assert "skipped: internal error RuntimeError: injected" in reasons
    _next_run_works(repo)


SLOW_RUN = r"""
import sys, time
from optimize import git
real = git.build_commits
def slow(*args, **kwargs):
    def before_each(spec):
        time.sleep(60)
    return real(*args, **{**kwargs, "before_each": before_each})
git.build_commits = slow
from optimize.cli import main
sys.argv = ["optimize", "apply", "--unsafe-fixes", sys.argv[1]]
main()
"""


def _worktrees(area: Path) -> list[Path]:
    return [p for p in area.iterdir() if p.is_dir()] if area.is_dir() else []


def test_a_run_killed_hard_leaves_nothing_the_next_run_trips_over(tmp_path) -> None:
    """kill -9 while the run is inside its private worktree: the branch, index and files are
    untouched; the next run removes the dead run's worktree and succeeds."""
    repo = _repo(tmp_path)
    before = snapshot(repo)
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, str(repo)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    area = repo / ".git" / "optimize"
    deadline = time.time() + 60
    try:
        while time.time() < deadline and not _worktrees(area):
            time.sleep(0.05)
        assert _worktrees(area), "the run never reached its private worktree"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    leftover = _worktrees(area)[0]
    assert str(leftover) in git(repo, "worktree", "list")
    after_kill = snapshot(repo)
    for key in ("head", "branch", "index", "status", "files", "refs"):
        assert after_kill[key] == before[key], key
    result = run_cli("apply", str(repo), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert not any(area.iterdir()), "the leftover worktree was not cleaned"
    assert str(area) not in git(repo, "worktree", "list")
    landed = git(repo, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split()
    assert sorted(landed) == sorted(CODEMODS)


def _during_the_run(monkeypatch, action) -> None:
    """Run ``action()`` in the user's checkout while the commits are being built."""
    real = optimize.git.build_commits

    def before_each(spec) -> None:
        if spec.key == CODEMODS[-1]:
            action()

    monkeypatch.setattr(optimize.git, "build_commits", lambda *a, **k: real(*a, **{**k, "before_each": before_each}))


def test_a_commit_made_by_someone_else_during_the_run_is_kept(tmp_path, monkeypatch) -> None:
    repo = _repo(tmp_path)

    def commit_elsewhere() -> None:
        (repo / "NOTES").write_text("meanwhile\n")
        git(repo, "add", "NOTES")
        git(repo, "commit", "-qm", "meanwhile")

    _during_the_run(monkeypatch, commit_elsewhere)
    result = run_cli("apply", str(repo), "--unsafe-fixes")
    monkeypatch.undo()
    assert result.exit_code == 2 and "HEAD moved while optimize was running: nothing was changed" in result.stderr
    assert git(repo, "log", "-1", "--format=%s").strip() == "meanwhile"
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / "app/db.py").read_text() == FILES["app/db.py"]


def test_an_edit_made_during_the_run_is_never_overwritten(tmp_path, monkeypatch) -> None:
    repo = _repo(tmp_path)
    edited = "# edited while optimize ran\n" + FILES["app/db.py"]
    _during_the_run(monkeypatch, lambda: (repo / "app/db.py").write_text(edited))
    before = snapshot(repo)
    result = run_cli("apply", str(repo), "--unsafe-fixes")
    monkeypatch.undo()
    assert result.exit_code == 2 and "nothing was changed" in result.stderr and "Traceback" not in result.output
    assert (repo / "app/db.py").read_text() == edited
    after = snapshot(repo)
    assert after["head"] == before["head"] and after["index"] == before["index"]
