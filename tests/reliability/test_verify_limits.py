"""`--verify` stays within its limits: the timeout holds even when the check leaves a
detached process holding its output, a check that prints a lot does not grow our memory,
old logs do not pile up under `.git/optimize/`, and a timed-out check's process group dies.

Real processes and real git throughout; a leftover detached `sleep` writes its pid to a
file so that the test can kill it afterwards."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import git as gitpython
import pytest

from optimize.verify import Verification, log_path
from tests.gitrepo import git, make_repo, run_cli

# One codemod applies (dangling-task): the check runs twice, on the baseline and after it.
FILES = {
    "app/__init__.py": "",
    "app/tasks.py": "import asyncio\n\nasync def ping(c):\n    asyncio.create_task(c())\n",
}
needs_setsid = pytest.mark.skipif(shutil.which("setsid") is None, reason="setsid (util-linux) not installed")


def detached_sleep(pids: Path, seconds: int = 30) -> str:
    """Shell text that starts a sleep in its own session (out of reach of our process-group
    kill) which keeps the check's output open, appending its pid to ``pids``."""
    return f"setsid sh -c 'echo $$ >> {pids}; exec sleep {seconds}' &"


def alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (a killed child not yet reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_dead(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def read_pids(path: Path, count: int, within: float = 5.0) -> list[int]:
    """The pids written to ``path``; waits a little since the writer runs in the background."""
    deadline = time.monotonic() + within
    while True:
        pids = [int(p) for p in path.read_text().split()] if path.exists() else []
        if len(pids) >= count or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


@pytest.fixture
def leftovers(tmp_path):
    """A file the checks append leftover pids to; whatever is listed is killed afterwards."""
    pids = tmp_path / "leftover.pids"
    yield pids
    for pid in read_pids(pids, 0, within=0):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@needs_setsid
def test_a_detached_grandchild_holding_the_output_does_not_stall_a_passing_check(tmp_path, leftovers) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    started = time.monotonic()
    result = run_cli(
        "apply", str(repo), "--verify", f"{detached_sleep(leftovers)} echo started", "--verify-timeout", "3"
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output + result.stderr
    assert elapsed < 15, f"took {elapsed:.1f} s: waited for the detached sleep"
    assert "timed out" not in result.output + result.stderr
    trailers = git(repo, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split()
    assert trailers == ["dangling-task"]
    assert len(read_pids(leftovers, 2)) == 2  # both runs (baseline, after the commit) really detached one


MEASURE = """
import json, resource, sys
from pathlib import Path
from optimize.verify import Verification
top, log = Path(sys.argv[1]), Path(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
passed, message = Verification(sys.argv[3], 60, log).run(top, "big output")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"passed": passed, "message": message, "grown_kib": after - before}))
"""


def test_a_check_printing_200_mb_keeps_memory_bounded_and_the_output_in_the_log(tmp_path) -> None:
    # A fresh interpreter, so that its peak RSS reflects this one run only.
    size = 200_000_000
    log = tmp_path / "verify.log"
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(tmp_path), str(log), f"yes | head -c {size}; echo last line"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] is True
    assert report["grown_kib"] < 150 * 1024, f"peak RSS grew by {report['grown_kib'] // 1024} MiB"
    assert report["message"] == "exit 0: y | y | y | y | last line"
    assert log.stat().st_size > size  # the output itself, plus the header and footer lines
    with log.open("rb") as text:
        assert text.readline().startswith(b"=== big output: ")


def test_only_the_newest_ten_logs_are_kept_and_names_never_collide(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", FILES)
    handle = gitpython.Repo(repo)
    made = []
    for n in range(12):
        path = log_path(handle)
        with path.open("a") as log:  # what a run does with it
            log.write(f"run {n}\n")
        made.append(path)
    assert made[0] != made[1], "two runs in the same second got the same log"
    assert len(set(made)) == 12
    kept = sorted((repo / ".git" / "optimize").glob("verify-*.log"))
    assert len(kept) == 10
    assert set(kept) == set(made[2:])


def test_a_timeout_kills_the_process_group_and_is_reported_promptly(tmp_path, leftovers) -> None:
    # The shell waits on a sleep in its own group; a detached one also holds the output open.
    in_group = tmp_path / "group.pid"
    detached = detached_sleep(leftovers) if shutil.which("setsid") else ""
    command = f"sleep 30 & echo $! > {in_group}; {detached} echo waiting; wait"
    log = tmp_path / "verify.log"
    started = time.monotonic()
    passed, message = Verification(command, 1, log).run(tmp_path, "hanging")
    elapsed = time.monotonic() - started
    assert passed is False
    assert message == "timed out after 1 s: waiting", message
    assert elapsed < 10, f"took {elapsed:.1f} s after a 1 s timeout"
    assert wait_dead(int(in_group.read_text())), "the sleep in the check's process group survived"
    assert "timed out after 1 s" in log.read_text()
