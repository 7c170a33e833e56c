"""Odd repositories: refused with one clear line and untouched, or handled correctly."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


from tests.gitrepo import IDENTITY, git, make_repo, run_cli, snapshot

ENGINE = "from sqlalchemy import create_engine\nengine = create_engine(url)\n"


def refused(repo: Path, message: str, *args: str) -> None:
    before = snapshot(repo)
    result = run_cli("apply", str(repo), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(repo) == before


def test_an_empty_repository_without_commits(tmp_path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "db.py").write_text(ENGINE)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 2 and "no commits yet" in result.stderr
    assert run_cli("apply", str(repo), "--dry-run").exit_code == 0


def test_not_a_repository_apply_points_to_dry_run_which_works(tmp_path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "db.py").write_text(ENGINE)
    result = run_cli("apply", str(plain))
    assert result.exit_code == 2 and "not inside a git repository" in result.stderr
    assert "--dry-run" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    for args in (["apply", "--dry-run"], ["scan"], ["apply", "--diff", "--exit-zero"]):
        result = run_cli(*args, str(plain))
        assert result.exit_code == 0 and "pool_pre_ping=True" in result.output
    assert (plain / "db.py").read_text() == ENGINE
    assert not (plain / ".git").exists()


def test_a_bare_repository_is_refused(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    result = run_cli("apply", str(bare))
    assert result.exit_code == 2 and "bare repositories" in result.stderr


def test_detached_head_is_optimized_in_place(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    git(repo, "checkout", "-q", "--detach")
    base = git(repo, "rev-parse", "HEAD").strip()
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0
    assert "HEAD is detached" in result.output and "git switch -c" in result.output
    assert "pool_pre_ping=True" in (repo / "db.py").read_text()
    assert git(repo, "symbolic-ref", "-q", "HEAD", check=False) == ""
    assert git(repo, "rev-parse", "HEAD~1").strip() == base  # HEAD moved by one commit
    assert git(repo, "rev-parse", "main").strip() == base  # no branch moved
    assert git(repo, "status", "--porcelain") == ""


def test_a_merge_in_progress_is_refused(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "a.txt": "base\n"})
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.txt").write_text("other\n")
    git(repo, "commit", "-qam", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text("main\n")
    git(repo, "commit", "-qam", "main")
    git(repo, "merge", "other", check=False)
    assert (repo / ".git" / "MERGE_HEAD").exists()
    refused(repo, "a merge is in progress")


def _diverged(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.txt").write_text("other\n")
    git(repo, "commit", "-qam", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text("main\n")
    git(repo, "commit", "-qam", "main")


def test_a_rebase_in_progress_is_refused(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "a.txt": "base\n"})
    _diverged(repo)
    git(repo, "checkout", "-q", "other")
    git(repo, "rebase", "main", check=False)
    assert (repo / ".git" / "rebase-merge").exists() or (repo / ".git" / "rebase-apply").exists()
    refused(repo, "rebase")


def test_a_cherry_pick_in_progress_is_refused(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "a.txt": "base\n"})
    _diverged(repo)
    git(repo, "cherry-pick", "other", check=False)
    assert (repo / ".git" / "CHERRY_PICK_HEAD").exists()
    refused(repo, "a cherry-pick is in progress")


def test_a_leftover_index_lock_is_refused_with_its_path(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    (repo / ".git" / "index.lock").write_text("")
    refused(repo, str(repo.resolve() / ".git" / "index.lock"))


def test_no_identity_is_explained_and_author_works(tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in IDENTITY:
        monkeypatch.delenv(name, raising=False)
    repo = tmp_path / "r"
    repo.mkdir()
    env = {**os.environ, **IDENTITY}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "db.py").write_text(ENGINE)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=repo, check=True, env=env)
    refused(repo, "user.name/user.email are not configured")
    result = run_cli("apply", str(repo), "--author", "Dev <dev@example.invalid>")
    assert result.exit_code == 0, result.output
    assert subprocess.run(["git", "log", "-1", "--format=%an <%ae>"], cwd=repo, capture_output=True, text=True).stdout.strip() == "Dev <dev@example.invalid>"


def _hook(repo: Path, body: str) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\n" + body)
    hook.chmod(0o755)


def test_commit_hooks_run_and_a_failing_hook_drops_the_codemod(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    marker = tmp_path / "hook-ran"
    _hook(repo, f"touch {marker}\nexit 1\n")
    before = snapshot(repo)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 1, result.output  # every commit dropped: not a success
    assert marker.exists() and "dropped pool-pre-ping" in result.output
    assert "every commit was dropped" in result.output and "Undo with" not in result.output
    assert snapshot(repo) == before
    result = run_cli("apply", str(repo), "--no-verify")
    assert result.exit_code == 0 and "pool_pre_ping=True" in (repo / "db.py").read_text()


def test_a_passing_hook_runs_on_every_commit(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "tasks.py": "import asyncio\n\nasync def f(c):\n    asyncio.create_task(c())\n"})
    log = tmp_path / "hook-log"
    _hook(repo, f"echo ran >> {log}\n")
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    assert git(repo, "rev-list", "--count", "main").strip() == "3"  # initial + two codemods
    assert log.read_text().count("ran") == 2


def test_a_hook_that_rejects_one_codemod_drops_only_that_one(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "tasks.py": "import asyncio\n\nasync def f(c):\n    asyncio.create_task(c())\n"})
    # rejects any commit that stages pool_pre_ping
    _hook(repo, "if git diff --cached | grep -q pool_pre_ping; then echo 'no pre-ping here' >&2; exit 1; fi\n")
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    assert "dropped pool-pre-ping: commit failed: no pre-ping here" in result.output
    assert (repo / "db.py").read_text() == ENGINE
    assert "_background_tasks.add" in (repo / "tasks.py").read_text()
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "log", "-1", "--format=%(trailers:key=Optimize-Codemod,valueonly)").strip() == "dangling-task"


def test_commit_signing_without_a_key_drops_cleanly(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    git(repo, "config", "commit.gpgsign", "true")
    git(repo, "config", "gpg.program", str(tmp_path / "no-such-gpg"))
    before = snapshot(repo)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "dropped pool-pre-ping: commit failed" in result.output and "every commit was dropped" in result.output
    assert snapshot(repo) == before


def test_submodules_are_not_entered(tmp_path) -> None:
    sub = make_repo(tmp_path / "sub", {"db.py": ENGINE})
    repo = make_repo(tmp_path / "r", {"app.py": ENGINE})
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendor/sub")
    git(repo, "commit", "-qm", "sub")
    assert run_cli("apply", str(repo)).exit_code == 0
    assert "pool_pre_ping=True" in (repo / "app.py").read_text()
    assert (repo / "vendor/sub/db.py").read_text() == ENGINE


def test_a_shallow_clone(tmp_path) -> None:
    origin = make_repo(tmp_path / "origin", {"db.py": ENGINE})
    (origin / "x.txt").write_text("1")
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "second")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], check=True)
    git(clone, "config", "user.name", "T")
    git(clone, "config", "user.email", "t@example.invalid")
    assert run_cli("apply", str(clone)).exit_code == 0
    assert "pool_pre_ping=True" in (clone / "db.py").read_text()


def test_inside_a_linked_worktree(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(linked))
    main_before = snapshot(repo)
    assert run_cli("apply", str(linked)).exit_code == 0
    assert "pool_pre_ping=True" in (linked / "db.py").read_text()
    assert git(linked, "status", "--porcelain") == ""
    assert git(linked, "symbolic-ref", "HEAD").strip() == "refs/heads/feature"
    main_after = snapshot(repo)  # the main checkout and its branch are untouched
    assert {k: v for k, v in main_after.items() if k not in ("refs", "worktrees")} == {
        k: v for k, v in main_before.items() if k not in ("refs", "worktrees")
    }
    assert git(repo, "rev-parse", "main") == main_before["head"] + "\n"
    assert main_after["worktrees"].count("worktree ") == 2  # no private worktree left
    assert not any((repo / ".git" / "optimize").iterdir())


def test_a_subdirectory_is_optimized_alone(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"svc/db.py": ENGINE, "other/db.py": ENGINE})
    result = run_cli("apply", ".", cwd=repo / "svc")
    assert result.exit_code == 0, result.output
    assert "pool_pre_ping=True" in (repo / "svc/db.py").read_text()
    assert (repo / "other/db.py").read_text() == ENGINE
    assert "svc/db.py" in git(repo, "show", "--stat", "HEAD")


def test_line_ending_attributes_are_respected(tmp_path) -> None:
    """`eol=crlf`: CRLF in the working tree, LF in the repository; both stay so."""
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, ".gitattributes": "*.py text eol=crlf\n"})
    git(repo, "rm", "-q", "--cached", "-r", ".")
    git(repo, "reset", "-q", "--hard")
    assert (repo / "db.py").read_bytes() == ENGINE.replace("\n", "\r\n").encode()
    assert run_cli("apply", str(repo)).exit_code == 0
    assert (repo / "db.py").read_bytes().count(b"\r\n") == 2
    assert b"pool_pre_ping=True" in (repo / "db.py").read_bytes()
    assert "\r" not in git(repo, "show", "HEAD:db.py")
    assert git(repo, "status", "--porcelain") == ""


def test_paths_with_spaces_and_non_ascii_names(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"my app/base de données.py": ENGINE})
    assert run_cli("apply", str(repo)).exit_code == 0
    assert "pool_pre_ping=True" in (repo / "my app/base de données.py").read_text()
    assert run_cli("revert", str(repo), "--all").exit_code == 0
    assert (repo / "my app/base de données.py").read_text() == ENGINE
