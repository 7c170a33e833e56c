"""What the user did not commit never reaches a commit, and nobody's commit is lost.

A run records HEAD once, plans from that commit's blobs, builds its commits on it, and
moves the branch with a compare-and-swap. The races are made deterministic with a `git`
on PATH that pauses before or after one subcommand (`tests/pausing_git.py`): the test acts
as a teammate, or as the user's editor, at exactly that moment.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import optimize.git
from tests.gitrepo import IDENTITY, git, make_repo, run_cli, snapshot
from tests.pausing_git import PausingGit

DB = "from sqlalchemy import create_engine\n\nengine = create_engine(url)\n"
SETTINGS = "from sqlalchemy import create_engine\n\nPASSWORD = 'committed'\nengine = create_engine(url)\n"
FILES = {"app/__init__.py": "", "app/db.py": DB}
SECRET = "local-secret-7f3a"


def _repo(tmp_path: Path, files=FILES) -> Path:
    return make_repo(tmp_path / "r", files)


def _objects_containing(repo: Path, text: str) -> list[str]:
    """Every object in the repository (reachable or not) whose content holds ``text``."""
    listing = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
    blobs = [line.split()[0] for line in listing.splitlines() if line.endswith(" blob")]
    found = []
    for sha in blobs:
        if text in git(repo, "cat-file", "blob", sha):
            found.append(sha)
    return found


def _finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def _trailers(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split()


# --- 1: local-only edits ----------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--skip-worktree", "--assume-unchanged"])
def test_apply_refuses_a_flagged_file_to_rewrite_and_its_local_edit_reaches_no_object(tmp_path, flag) -> None:
    repo = _repo(tmp_path, {**FILES, "app/settings.py": SETTINGS})
    git(repo, "update-index", flag, "app/settings.py")
    (repo / "app/settings.py").write_text(SETTINGS.replace("committed", SECRET))
    assert git(repo, "status", "--porcelain") == ""  # git hides the edit
    before = snapshot(repo)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "app/settings.py" in result.stderr
    assert "skip-worktree or assume-unchanged" in result.stderr and "nothing was changed" in result.stderr
    assert snapshot(repo) == before
    assert _objects_containing(repo, SECRET) == []


def test_pr_plans_from_the_commit_so_a_skip_worktree_edit_is_never_pushed(tmp_path) -> None:
    repo = _repo(tmp_path, {**FILES, "app/settings.py": SETTINGS})
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "update-index", "--skip-worktree", "app/settings.py")
    (repo / "app/settings.py").write_text(SETTINGS.replace("committed", SECRET))
    result = run_cli("pr", str(repo), "--branch", "opt")
    assert result.exit_code == 0, result.output
    pushed = git(remote, "show", "opt:app/settings.py")
    assert SECRET not in pushed and "PASSWORD = 'committed'" in pushed and "pool_pre_ping=True" in pushed
    assert _objects_containing(remote, SECRET) == [] and _objects_containing(repo, SECRET) == []
    assert (repo / "app/settings.py").read_text() == SETTINGS.replace("committed", SECRET)


# --- 3, 4: a commit made during the run ----------------------------------------------------


def _teammate_edits_db(repo: Path) -> None:
    (repo / "app/db.py").write_text(DB + "# teammate's line\n")
    git(repo, "commit", "-qam", "teammate")


@pytest.mark.parametrize("mode", ["apply", "interactive"])
def test_a_commit_made_while_the_run_plans_is_kept_and_nothing_is_landed(tmp_path, mode) -> None:
    """The pause is where the files to plan are listed (ls-tree of the recorded commit;
    ls-files of the working tree in a run that would read it)."""
    repo = _repo(tmp_path)
    pausing = PausingGit(tmp_path, "before:ls-tree", "after:ls-files")
    args = ["apply", "-i"] if mode == "interactive" else ["apply"]
    process = pausing.start(repo, *args, stdin="A\n" * 10)
    assert pausing.reached("before:ls-tree", timeout=60) or pausing.reached("after:ls-files", timeout=1)
    _teammate_edits_db(repo)
    teammate = git(repo, "rev-parse", "HEAD")
    pausing.release("before:ls-tree")
    pausing.release("after:ls-files")
    code, out, err = _finish(process)
    assert code == 2, out + err
    assert "HEAD moved while optimize was running: nothing was changed" in err
    assert git(repo, "rev-parse", "HEAD") == teammate
    assert (repo / "app/db.py").read_text() == DB + "# teammate's line\n"
    assert git(repo, "status", "--porcelain") == ""


def test_a_commit_made_just_before_the_branch_moves_is_kept(tmp_path) -> None:
    repo = _repo(tmp_path)
    pausing = PausingGit(tmp_path, "before:update-ref", "before:reset")
    process = pausing.start(repo, "apply")
    assert pausing.reached("before:update-ref", timeout=60) or pausing.reached("before:reset", timeout=1)
    (repo / "NOTES").write_text("meanwhile\n")
    git(repo, "add", "NOTES")
    git(repo, "commit", "-qm", "meanwhile")
    teammate = git(repo, "rev-parse", "HEAD")
    pausing.release("before:update-ref")
    pausing.release("before:reset")
    code, out, err = _finish(process)
    assert code == 2 and "HEAD moved while optimize was running: nothing was changed" in err, out + err
    assert git(repo, "rev-parse", "HEAD") == teammate
    assert (repo / "NOTES").read_text() == "meanwhile\n"
    assert (repo / "app/db.py").read_text() == DB
    assert git(repo, "status", "--porcelain") == ""


# --- 5: an edit saved and undone while the run plans ---------------------------------------


def test_an_edit_saved_and_undone_during_the_run_is_never_committed(tmp_path) -> None:
    repo = _repo(tmp_path)
    pausing = PausingGit(tmp_path, "after:status", "before:worktree-add")
    process = pausing.start(repo, "apply")
    assert pausing.reached("after:status")
    (repo / "app/db.py").write_text(DB + f"PASSWORD = '{SECRET}'\n")  # saved...
    pausing.release("after:status")
    assert pausing.reached("before:worktree-add")
    (repo / "app/db.py").write_text(DB)  # ...and undone
    pausing.release("before:worktree-add")
    code, out, err = _finish(process)
    assert code == 0, out + err
    assert _trailers(repo) == ["pool-pre-ping"]
    assert SECRET not in (repo / "app/db.py").read_text()
    assert _objects_containing(repo, SECRET) == []
    assert git(repo, "status", "--porcelain") == ""


# --- a local change in the way of the checkout update ---------------------------------------


def test_a_local_edit_in_the_way_is_named_and_the_branch_swapped_back(tmp_path) -> None:
    repo = _repo(tmp_path)
    head = git(repo, "rev-parse", "HEAD")
    pausing = PausingGit(tmp_path, "before:read-tree")
    process = pausing.start(repo, "apply")
    assert pausing.reached("before:read-tree")
    (repo / "app/db.py").write_text(DB + "# typing...\n")
    pausing.release("before:read-tree")
    code, out, err = _finish(process)
    assert code == 2, out + err
    assert "app/db.py" in err and "nothing was changed" in err and len(err.strip().splitlines()) == 1
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / "app/db.py").read_text() == DB + "# typing...\n"


# --- 9: hooks under a relative core.hooksPath in an ignored directory ----------------------


def test_hooks_run_from_a_relative_hooks_path_in_an_ignored_directory(tmp_path) -> None:
    repo = _repo(tmp_path, {**FILES, ".gitignore": ".husky/_\n"})
    hooks = repo / ".husky" / "_"
    hooks.mkdir(parents=True)
    ran = tmp_path / "hook-ran"
    (hooks / "pre-commit").write_text(f"#!/bin/sh\necho ran >> '{ran}'\n")
    (hooks / "pre-commit").chmod(0o755)
    git(repo, "config", "core.hooksPath", ".husky/_")
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    assert ran.read_text() == "ran\n"


def test_a_relative_hooks_path_that_rejects_drops_the_commit_and_exits_non_zero(tmp_path) -> None:
    repo = _repo(tmp_path, {**FILES, ".gitignore": ".husky/_\n"})
    hooks = repo / ".husky" / "_"
    hooks.mkdir(parents=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho 'lint failed' >&2\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    git(repo, "config", "core.hooksPath", ".husky/_")
    before = snapshot(repo)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 1, result.output
    assert "lint failed" in result.output and "every commit was dropped" in result.output
    assert "Undo with" not in result.output
    assert snapshot(repo)["head"] == before["head"]


# --- 12: nothing landed is not a success --------------------------------------------------


def test_no_committer_identity_is_refused_up_front(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", FILES, identity=True)
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    git(repo, "config", "user.useConfigOnly", "true")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_AUTHOR_NAME="A", GIT_AUTHOR_EMAIL="a@example.invalid", XDG_CONFIG_HOME=str(home))
    done = subprocess.run(
        [sys.executable, "-m", "optimize", "apply", str(repo)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "git cannot tell who the commits are by" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert git(repo, "log", "--format=%s") == "initial\n"


# --- 11: Ctrl-C ----------------------------------------------------------------------------


def test_ctrl_c_during_the_branch_move_finishes_the_move_and_says_so(tmp_path) -> None:
    repo = _repo(tmp_path)
    pausing = PausingGit(tmp_path, "before:update-ref", "before:reset")
    process = pausing.start(repo, "apply")
    assert pausing.reached("before:update-ref", timeout=60) or pausing.reached("before:reset", timeout=1)
    process.send_signal(signal.SIGINT)
    pausing.release("before:update-ref")
    pausing.release("before:reset")
    code, out, err = _finish(process)
    assert code == 130 and "Traceback" not in err, out + err
    assert _trailers(repo) == ["pool-pre-ping"]
    assert "interrupted: the commits had landed on main" in err
    assert git(repo, "status", "--porcelain") == ""
    assert "pool_pre_ping=True" in (repo / "app/db.py").read_text()


def test_ctrl_c_while_the_private_worktree_is_added_leaves_no_worktree(tmp_path) -> None:
    repo = _repo(tmp_path)
    before = snapshot(repo)
    pausing = PausingGit(tmp_path, "after:worktree-add")
    process = pausing.start(repo, "apply")
    assert pausing.reached("after:worktree-add")
    process.send_signal(signal.SIGINT)
    pausing.release("after:worktree-add")
    code, out, err = _finish(process)
    assert code == 130 and "Traceback" not in err and "nothing was changed" in err, out + err
    assert snapshot(repo) == before
    area = repo / ".git" / "optimize"
    assert not area.exists() or not any(area.iterdir())


STARTUP_INTERRUPT = r"""
import sys
MODULE = sys.argv[1]
class Interrupting:
    def find_spec(self, name, path=None, target=None):
        if name == MODULE:
            raise KeyboardInterrupt
        return None
sys.meta_path.insert(0, Interrupting())
sys.argv = ["optimize", "scan", "."]
from optimize.__main__ import main
main()
"""


@pytest.mark.parametrize("module", ["typer", "rich", "libcst", "git"])
def test_ctrl_c_during_start_up_is_one_line(tmp_path, module) -> None:
    # In a repository: outside one, a scan never imports GitPython.
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    done = subprocess.run(
        [sys.executable, "-c", STARTUP_INTERRUPT, module], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr == "interrupted: nothing was changed\n"


# --- smaller -------------------------------------------------------------------------------


def test_a_dollar_name_in_the_repository_path_is_not_expanded(tmp_path, monkeypatch) -> None:
    # Other content, so the two repositories never share a commit id (equal files committed
    # in the same second would) and a read from the wrong one cannot pass unseen.
    other = make_repo(tmp_path / "other", {**FILES, "app/other.py": "X = 1\n"})
    literal = make_repo(tmp_path / "$OTHER_REPO", FILES)
    monkeypatch.setenv("OTHER_REPO", "other")
    before_other = snapshot(other)
    result = run_cli("apply", str(literal))
    assert result.exit_code == 0, result.output
    assert _trailers(literal) == ["pool-pre-ping"]
    assert snapshot(other) == before_other


def test_a_dollar_name_in_the_path_reads_the_named_repository(tmp_path, monkeypatch) -> None:
    """The dirty check, the log and HEAD come from the repository opened, not the one an
    environment variable of the same name points at."""
    other = make_repo(tmp_path / "other", {**FILES, "app/other.py": "X = 1\n"})
    literal = make_repo(tmp_path / "$OTHER_REPO", FILES)
    (other / "app" / "db.py").write_text("# edited\n")
    monkeypatch.setenv("OTHER_REPO", "other")
    repo = optimize.git.open_repo(literal)
    assert optimize.git.has_commits(repo)
    assert repo.head.commit.hexsha == git(literal, "rev-parse", "HEAD").strip()
    assert optimize.git.dirty_paths(repo) == []


def test_a_private_worktree_removed_mid_run_is_one_line(tmp_path, monkeypatch) -> None:
    repo = _repo(tmp_path, {**FILES, "app/tasks.py": "import asyncio\n\n\nasync def f(c):\n    asyncio.create_task(c())\n"})
    before = snapshot(repo)
    real = optimize.git.build_commits

    def removing(*args, **kwargs):
        def before_each(spec):
            for wt in (repo / ".git" / "optimize").iterdir():
                if wt.is_dir():
                    subprocess.run(["rm", "-rf", str(wt)], check=True)
        return real(*args, **{**kwargs, "before_each": before_each})

    monkeypatch.setattr(optimize.git, "build_commits", removing)
    result = run_cli("apply", str(repo))
    monkeypatch.undo()
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "was removed while optimize was running: nothing was changed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    after = snapshot(repo)
    for key in ("head", "branch", "index", "status", "files", "refs"):
        assert after[key] == before[key], key


def test_a_live_runs_worktree_is_kept_even_when_its_pid_is_not_visible(tmp_path) -> None:
    """A run in another PID namespace has a pid this one cannot see: its lock, not a pid
    probe, says it is alive."""
    repo = _repo(tmp_path)
    area = repo / ".git" / "optimize"
    area.mkdir()
    alive = area / "wt-999999-0badc0de"  # no such pid here
    git(repo, "worktree", "add", "--detach", "--quiet", str(alive), "HEAD")
    with open(area / (alive.name + ".lock"), "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run_cli("apply", str(repo))
        assert result.exit_code == 0, result.output
        assert alive.is_dir() and str(alive) in git(repo, "worktree", "list")
    # The lock is released: now it is a leftover, removed by the next run that needs a worktree.
    assert optimize.git.clean_leftovers(optimize.git.open_repo(repo)) == [alive.name]
    assert not alive.exists() and str(alive) not in git(repo, "worktree", "list")


def test_disk_full_while_committing_is_an_error_not_a_dropped_commit(tmp_path) -> None:
    repo = _repo(tmp_path)
    before = snapshot(repo)
    bindir = tmp_path / "full-bin"
    bindir.mkdir()
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True).stdout.strip()
    (bindir / "git").write_text(
        "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in commit)"
        " echo 'error: unable to write file: No space left on device' >&2; exit 128;; esac; done\n"
        f"exec '{real}' \"$@\"\n"
    )
    (bindir / "git").chmod(0o755)
    env = {**os.environ, **IDENTITY, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "optimize", "apply", str(repo)], env=env, capture_output=True, text=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no space left on device" in done.stderr and "nothing was changed" in done.stderr
    assert "dropped" not in done.stdout
    assert snapshot(repo)["head"] == before["head"]


def test_disk_full_while_writing_is_one_line(tmp_path, monkeypatch) -> None:
    repo = _repo(tmp_path)
    before = snapshot(repo)
    real = Path.write_bytes

    def full(self, data):
        if ".git/optimize" in str(self):
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    result = run_cli("apply", str(repo))
    monkeypatch.undo()
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert "no space left on device" in result.stderr and "nothing was changed" in result.stderr
    after = snapshot(repo)
    for key in ("head", "index", "status", "files", "refs"):
        assert after[key] == before[key], key


# --- 7: interactive dry run -------------------------------------------------------------------


def test_interactive_dry_run_commits_nothing_and_shows_the_keys(tmp_path) -> None:
    repo = _repo(tmp_path)
    before = snapshot(repo)
    result = run_cli("apply", str(repo), "--interactive", "--dry-run", input="A\nA\nA\n")
    assert result.exit_code == 0, result.output
    assert "[a,s,A,S,q]" in result.output
    assert "pool_pre_ping=True" in result.output and "nothing was committed" in result.output
    assert snapshot(repo) == before


def test_interactive_diff_prints_the_accepted_patch_only(tmp_path) -> None:
    repo = _repo(tmp_path)
    before = snapshot(repo)
    result = run_cli("apply", str(repo), "--interactive", "--diff", input="a\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("diff --git a/app/db.py b/app/db.py")
    assert "[a,s,A,S,q]" in result.stderr
    assert snapshot(repo) == before
    check = subprocess.run(["git", "apply", "--check", "-"], cwd=repo, input=result.stdout, text=True)
    assert check.returncode == 0


def test_a_blob_git_cannot_read_is_one_line(tmp_path) -> None:
    """A commit whose file git cannot supply now (a corrupt object store, a partial clone
    offline): one line, nothing changed."""
    repo = _repo(tmp_path)
    blob = git(repo, "rev-parse", "HEAD:app/db.py").strip()
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    head = git(repo, "rev-parse", "HEAD")
    result = run_cli("apply", str(repo))
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert f"git cannot read object {blob}" in result.stderr and "nothing was changed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert git(repo, "rev-parse", "HEAD") == head
