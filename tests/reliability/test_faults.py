"""A failure or Ctrl-C at any step of `apply` leaves branch, index and files as they were;
a run killed hard leaves nothing the next run trips over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.gitrepo import git, make_repo, run_cli, snapshot

FILES = {
    "app/__init__.py": "",
    "app/db.py": "from sqlalchemy import create_engine\nengine = create_engine(url, max_overflow=5)\n",
    "app/tasks.py": "import asyncio\n\nasync def f(c):\n    asyncio.create_task(c())\n",
}

# (module attribute to replace, what it stands for)
STEPS = [
    ("optimize.files.discover", "discovery"),
    ("optimize.analyzers.index.RepoIndex.build", "index"),
    ("optimize.engine.run_codemod", "a codemod's transform"),
    ("optimize.engine._compiles", "the compile check"),
    ("optimize.git._run", "a git command in the private worktree"),
    ("optimize.git.move_branch", "moving the branch"),
    ("optimize.messages.commit_message", "the commit message"),
]


def _resolve(dotted: str):
    module_name, _, attr = dotted.rpartition(".")
    owner = None
    parts = module_name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            owner = __import__(".".join(parts[:i]), fromlist=["x"])
            for name in parts[i:]:
                owner = getattr(owner, name)
            break
        except ImportError:
            continue
    return owner, attr


@pytest.mark.parametrize("error", [RuntimeError("injected"), KeyboardInterrupt()], ids=["exception", "ctrl-c"])
@pytest.mark.parametrize("step, label", STEPS, ids=[s[1] for s in STEPS])
def test_a_failure_at_any_step_changes_nothing(tmp_path, monkeypatch, step, label, error) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    before = snapshot(repo)
    owner, attr = _resolve(step)
    real = getattr(owner, attr)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= 2 or step.endswith(("discover", "build", "move_branch", "commit_message")):
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, attr, failing)
    # the engine imports some names directly: patch those bindings too
    import optimize.engine as engine
    import optimize.runner as runner

    for module in (engine, runner):
        if hasattr(module, attr) and getattr(module, attr) is real:
            monkeypatch.setattr(module, attr, failing)
    result = run_cli("apply", str(repo), "--unsafe-fixes")
    assert "Traceback" not in result.output
    assert calls["n"] >= 1, f"{label} was never reached"
    monkeypatch.undo()
    if step.endswith("run_codemod") and isinstance(error, Exception):
        # A codemod that crashes on a file is reported and skipped; the run goes on.
        assert result.exit_code == 0 and git(repo, "status", "--porcelain") == ""
        scan = run_cli("scan", str(repo))
        assert "Traceback" not in scan.output
        return
    assert snapshot(repo) == before, label
    # and the next run works
    assert run_cli("apply", str(repo), "--unsafe-fixes").exit_code == 0


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
sys.argv = ["optimize", "apply", sys.argv[1]]
main()
"""


def test_a_run_killed_hard_leaves_nothing_the_next_run_trips_over(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    before = snapshot(repo)
    process = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(repo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    area = repo / ".git" / "optimize"
    deadline = time.time() + 60
    while time.time() < deadline and not (area.is_dir() and any(area.iterdir())):
        time.sleep(0.1)
    assert area.is_dir() and any(area.iterdir()), "the run never reached its private worktree"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    leftovers = snapshot(repo)
    assert leftovers["head"] == before["head"] and leftovers["files"] == before["files"]
    assert leftovers["index"] == before["index"]
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    assert not any(area.iterdir()), "the leftover worktree was not cleaned"
    assert str(area) not in git(repo, "worktree", "list")
