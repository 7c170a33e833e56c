"""`apply --verify`: the user's command runs before and after each codemod's commit."""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import git, make_repo, run_cli, snapshot

FILES = {
    "app/__init__.py": "",
    "app/db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL, max_overflow=5)\n",
    "app/tasks.py": "import asyncio\n\nasync def ping(c):\n    asyncio.create_task(c())\n",
}


def trailers(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split()


def test_a_codemod_that_breaks_the_checks_is_dropped_and_the_others_land(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    check = "! grep -rq pool_pre_ping=True app"
    result = run_cli("apply", str(repo), "--unsafe-fixes", "--verify", check)
    assert result.exit_code == 0, result.output
    assert "dropped pool-pre-ping" in result.output and "--verify failed" in result.output
    # pool-overflow edited the same file after pool-pre-ping: it carried its change, so it goes too.
    assert "dropped pool-overflow" in result.output and "planned on top of dropped pool-pre-ping" in result.output
    assert trailers(repo) == ["dangling-task"]
    assert "pool_pre_ping" not in (repo / "app/db.py").read_text()
    logs = list((repo / ".git" / "optimize").glob("verify-*.log"))
    assert logs and "baseline" in logs[0].read_text()


def test_a_failing_baseline_stops_the_run(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    before = snapshot(repo)
    result = run_cli("apply", str(repo), "--verify", "exit 3")
    assert result.exit_code == 1
    assert "fails on the untouched tree" in result.stderr
    assert snapshot(repo)["files"] == before["files"] and snapshot(repo)["head"] == before["head"]
    allowed = run_cli("apply", str(repo), "--verify", "exit 3", "--allow-failing-baseline")
    # Every commit then fails the check too: all are dropped, and a run that lands nothing exits 1.
    assert allowed.exit_code == 1 and "--verify failed" in allowed.output
    assert snapshot(repo)["head"] == before["head"]


def test_a_hanging_check_times_out(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    result = run_cli("apply", str(repo), "--verify", "sleep 30", "--verify-timeout", "0.5")
    assert result.exit_code == 1 and "timed out" in result.stderr
