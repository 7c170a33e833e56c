"""`optimize` never imports or runs the target's code; config values are data; paths from
config stay inside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import git, make_repo, run_cli

ENGINE = "from sqlalchemy import create_engine\nengine = create_engine(url)\n"


def test_the_target_code_is_never_imported_or_run(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    hostile = f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n"
    repo = make_repo(
        tmp_path / "r",
        {
            "hostile_pkg/__init__.py": hostile,
            "hostile_pkg/db.py": hostile + ENGINE,
            "hostile_pkg/models.py": "from sqlalchemy.orm import DeclarativeBase\n" + hostile,
            "hostile_pkg/__main__.py": hostile,
            "conftest.py": hostile,
            "setup.py": hostile,
            "sitecustomize.py": hostile,
            "usercustomize.py": hostile,
            "pyproject.toml": "[tool.black]\n",
        },
    )
    for args in (["scan"], ["apply", "--dry-run"], ["apply", "--unsafe-fixes"], ["log"], ["revert", "--all"]):
        result = run_cli(*[args[0], str(repo), *args[1:]])
        assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert not [m for m in sys.modules if m.startswith("hostile_pkg")]


def test_config_values_are_data_not_code(tmp_path: Path) -> None:
    marker = tmp_path / "evaluated"
    repo = make_repo(
        tmp_path / "r",
        {
            "app/__init__.py": "",
            "app/main.py": "from fastapi import FastAPI\nfrom app.mw import TimingMiddleware\napp = FastAPI()\napp.add_middleware(TimingMiddleware)\n",
            "pyproject.toml": (
                "[tool.optimize.debug-middleware]\n"
                f"debug_flag = \"__import__('pathlib').Path({str(marker)!r}).touch() or True\"\n"
            ),
        },
    )
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert "__import__" in (repo / "app/main.py").read_text()  # written as text, never run


def test_exclude_globs_cannot_reach_outside_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(ENGINE)
    repo = make_repo(
        tmp_path / "r",
        {"db.py": ENGINE, "pyproject.toml": "[tool.optimize]\nexclude = ['../*', '/etc/*', '**/../../*']\n"},
    )
    assert run_cli("apply", str(repo)).exit_code == 0
    assert "pool_pre_ping=True" in (repo / "db.py").read_text()
    assert outside.read_text() == ENGINE


TOKEN = "ghp_s3cretTokenValue0123456789"


@pytest.fixture
def with_origin(tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    repo = make_repo(
        tmp_path / "work",
        {"app/__init__.py": "", "app/db.py": ENGINE, "app/tasks.py": "import asyncio\n\nasync def f(c):\n    asyncio.create_task(c())\n"},
    )
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return repo


def _fake_gh(bindir: Path, script: str) -> None:
    bindir.mkdir(exist_ok=True)
    gh = bindir / "gh"
    gh.write_text("#!/bin/sh\n" + script)
    gh.chmod(0o755)


def _no_token_anywhere(repo: Path, *results) -> None:
    for result in results:
        assert TOKEN not in result.output and TOKEN not in result.stderr
    assert TOKEN not in git(repo, "log", "--all", "--format=%B")
    for path in (repo / ".git" / "optimize").glob("*"):
        if path.is_file() and path.suffix == ".md":
            assert TOKEN not in path.read_text(), path


def test_the_pull_request_token_is_never_printed(with_origin: Path, tmp_path: Path, monkeypatch) -> None:
    """gh that echoes the token, a push URL that carries it, a commit hook that prints the
    environment: the token appears in no output, no commit message, no pull-request body."""
    repo = with_origin
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    bindir = tmp_path / "bin"
    _fake_gh(bindir, 'if [ "$1" = "pr" ] && [ "$2" = "view" ]; then exit 1; fi\n'
                     'if [ "$1" = "pr" ]; then echo "https://example.invalid/pr/1?t=$GH_TOKEN"; echo "$GH_TOKEN" >&2; fi\n')
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    # a hook that prints the environment and rejects the pool-pre-ping commit
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nenv\nif git diff --cached | grep -q pool_pre_ping; then echo \"token $GH_TOKEN\"; exit 1; fi\n")
    hook.chmod(0o755)
    opened = run_cli("pr", str(repo), "--branch", "optimize/t", "--open")
    assert opened.exit_code == 0, opened.output
    assert "dropped pool-pre-ping" in opened.output
    # gh failing with the token in its error
    _fake_gh(bindir, 'if [ "$1" = "auth" ]; then exit 0; fi\necho "bad credentials $GH_TOKEN" >&2\nexit 1\n')
    failed = run_cli("pr", str(repo), "--branch", "optimize/u", "--open")
    assert failed.exit_code == 2 and "gh failed" in failed.stderr
    # a push URL that embeds the token and cannot be reached
    git(repo, "remote", "add", "leaky", f"https://x-access-token:{TOKEN}@127.0.0.1:9/r.git")
    pushed = run_cli("pr", str(repo), "--branch", "optimize/v", "--remote", "leaky")
    assert pushed.exit_code == 2 and "push to leaky failed" in pushed.stderr
    applied = run_cli("apply", str(repo))
    assert "dropped pool-pre-ping" in applied.output
    _no_token_anywhere(repo, opened, failed, pushed, applied)


def test_a_verify_command_that_prints_the_token_does_not_leak_it(with_origin: Path, monkeypatch) -> None:
    repo = with_origin
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    check = "echo $GITHUB_TOKEN; ! grep -rq pool_pre_ping app"
    result = run_cli("pr", str(repo), "--branch", "optimize/w", "--no-push", "--verify", check)
    assert result.exit_code == 0, result.output
    assert "dropped pool-pre-ping: --verify failed" in result.output
    baseline = run_cli("apply", str(repo), "--verify", "echo $GITHUB_TOKEN; exit 1")
    assert baseline.exit_code == 1 and "--verify fails on the untouched tree" in baseline.stderr
    _no_token_anywhere(repo, result, baseline)


def test_a_new_helper_module_is_never_written_through_a_symlink(tmp_path: Path) -> None:
    """A dangling symlink where a codemod would create its helper module: the codemod leaves
    the file alone and says why; nothing is written outside the repository."""
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = make_repo(
        tmp_path / "r",
        {"app/__init__.py": "", "app/tasks.py": "import asyncio\n\nasync def f(c):\n    asyncio.create_task(c())\n"},
    )
    (repo / "app" / "background_tasks.py").symlink_to(outside / "planted.py")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    scan = run_cli("scan", str(repo), "--format", "json")
    assert any("symlink" in r["reason"] for r in __import__("json").loads(scan.stdout)["refusals"])
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0 and "No commit created" in result.output
    assert not (outside / "planted.py").exists()
    assert git(repo, "status", "--porcelain") == ""


def test_a_symlinked_directory_is_not_entered(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "db.py").write_text(ENGINE)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "vendor").symlink_to(outside, target_is_directory=True)
    (plain / "db.py").write_text(ENGINE)
    result = run_cli("apply", str(plain), "--diff", "--exit-zero")
    assert result.exit_code == 0
    assert "a/db.py" in result.stdout and "vendor" not in result.stdout
    assert (outside / "db.py").read_text() == ENGINE


@pytest.mark.parametrize("name", ["-rf.py", "--help.py", "$(touch pwned).py", "a;b.py", "new\nline.py", "ünï cødé.py"])
def test_hostile_file_names_are_just_names(tmp_path: Path, name: str) -> None:
    repo = make_repo(tmp_path / "r", {name: ENGINE})
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    assert "pool_pre_ping=True" in (repo / name).read_text()
    assert not (repo / "pwned").exists() and not Path("pwned").exists()
    assert git(repo, "status", "--porcelain") == ""
    assert run_cli("revert", str(repo), "--all").exit_code == 0
    assert (repo / name).read_text() == ENGINE
