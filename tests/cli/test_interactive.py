"""`apply --interactive` driven by scripted answers commits exactly the accepted changes."""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import git, make_repo, run_cli

FILES = {
    "app/__init__.py": "",
    "app/a.py": "from sqlalchemy import create_engine\nfirst = create_engine(A)\n\n\nsecond = create_engine(B)\n",
    "app/tasks.py": "import asyncio\n\nasync def ping(c):\n    asyncio.create_task(c())\n",
}


def trailers(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split()


def test_accept_one_skip_one_then_skip_a_codemod(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    result = run_cli("apply", str(repo), "--interactive", input="a\ns\nS\n")
    assert result.exit_code == 0, result.output
    text = (repo / "app/a.py").read_text()
    assert "first = create_engine(A, pool_pre_ping=True)" in text
    assert "second = create_engine(B)\n" in text
    assert trailers(repo) == ["pool-pre-ping"]
    assert (repo / "app/tasks.py").read_text() == FILES["app/tasks.py"]
    assert git(repo, "status", "--porcelain") == ""
    message = git(repo, "log", "-1", "--format=%B")
    assert "app/a.py:2" in message and "app/a.py:5" not in message


def test_accept_all_of_a_codemod_and_quit_keeps_what_was_accepted(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    result = run_cli("apply", str(repo), "--interactive", input="A\nq\n")
    assert result.exit_code == 0, result.output
    assert (repo / "app/a.py").read_text().count("pool_pre_ping=True") == 2
    assert trailers(repo) == ["pool-pre-ping"]
    assert "quit" in result.output


def test_end_of_input_is_quit_with_nothing_accepted(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    head = git(repo, "rev-parse", "HEAD")
    result = run_cli("apply", str(repo), "--interactive", input="")
    assert result.exit_code == 0 and "No commit created" in result.output
    assert git(repo, "rev-parse", "HEAD") == head


def test_accepting_everything_equals_apply(tmp_path) -> None:
    reviewed = make_repo(tmp_path / "r1", FILES)
    plain = make_repo(tmp_path / "r2", FILES)
    assert run_cli("apply", str(reviewed), "--interactive", input="A\nA\n").exit_code == 0
    assert run_cli("apply", str(plain)).exit_code == 0
    for name in ("app/a.py", "app/tasks.py", "app/background_tasks.py"):
        assert (reviewed / name).read_bytes() == (plain / name).read_bytes()
    assert trailers(reviewed) == trailers(plain)
