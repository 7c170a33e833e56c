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


def test_detached_head_is_optimized_in_place(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    git(repo, "checkout", "-q", "--detach")
    assert run_cli("apply", str(repo)).exit_code == 0
    assert "pool_pre_ping=True" in (repo / "db.py").read_text()
    assert git(repo, "symbolic-ref", "-q", "HEAD", check=False) == ""
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
    before = snapshot(repo)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 2 and ("merge is in progress" in result.stderr or "uncommitted" in result.stderr)
    assert snapshot(repo) == before


def test_a_leftover_index_lock_is_refused_with_its_path(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    (repo / ".git" / "index.lock").write_text("")
    refused(repo, "index.lock")


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
    assert result.exit_code == 0
    assert marker.exists() and "dropped pool-pre-ping" in result.output
    assert snapshot(repo) == before
    result = run_cli("apply", str(repo), "--no-verify")
    assert result.exit_code == 0 and "pool_pre_ping=True" in (repo / "db.py").read_text()


def test_commit_signing_without_a_key_drops_cleanly(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    git(repo, "config", "commit.gpgsign", "true")
    git(repo, "config", "gpg.program", str(tmp_path / "no-such-gpg"))
    before = snapshot(repo)
    result = run_cli("apply", str(repo))
    assert "Traceback" not in result.output
    assert "dropped pool-pre-ping" in result.output
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
    assert run_cli("apply", str(linked)).exit_code == 0
    assert "pool_pre_ping=True" in (linked / "db.py").read_text()
    assert (repo / "db.py").read_text() == ENGINE  # main checkout untouched
    assert git(linked, "status", "--porcelain") == ""


def test_paths_with_spaces_and_non_ascii_names(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"my app/base de données.py": ENGINE})
    assert run_cli("apply", str(repo)).exit_code == 0
    assert "pool_pre_ping=True" in (repo / "my app/base de données.py").read_text()
    assert run_cli("revert", str(repo), "--all").exit_code == 0
    assert (repo / "my app/base de données.py").read_text() == ENGINE
