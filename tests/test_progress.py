"""Progress is drawn on a terminal's stderr for a run that lasts, and never elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from optimize import progress, runner
from tests.gitrepo import make_repo, run_cli

ENGINE = "from sqlalchemy import create_engine\n\nengine = create_engine(URL)\n"


def _scan(tmp_path: Path, console: Console, delay: float) -> None:
    repo = make_repo(tmp_path / "r", {f"app/db{n}.py": ENGINE for n in range(3)})
    target = runner.Target.open(repo, need_repo=False)
    with progress.shown(console, delay=delay):
        runner.scan_plan(target, runner.Selection(), use_cache=False)


def test_a_terminal_sees_the_phases(tmp_path: Path) -> None:
    stream = io.StringIO()
    _scan(tmp_path, Console(file=stream, force_terminal=True, width=100), delay=0)
    assert "planning files" in stream.getvalue()


def test_nothing_is_drawn_in_a_pipe_or_for_a_short_run(tmp_path: Path) -> None:
    piped = io.StringIO()
    _scan(tmp_path / "a", Console(file=piped, force_terminal=False), delay=0)
    assert piped.getvalue() == ""
    quick = io.StringIO()
    _scan(tmp_path / "b", Console(file=quick, force_terminal=True), delay=60)
    assert quick.getvalue() == ""


def test_the_cli_prints_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app/db.py": ENGINE})
    result = run_cli("scan", str(repo), "--output-format", "concise")
    assert result.exit_code == 0 and result.stderr == ""
    assert progress.phase("anything", 3).advance() is None  # no display open: a no-op
