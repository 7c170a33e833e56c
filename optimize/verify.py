"""`--verify "<command>"`: run the user's checks on the untouched tree, then after each
codemod's commit, in the private worktree; a commit that makes them fail is dropped.

The command's output goes straight into the log file, never through a pipe: a process it
leaves behind holding the output cannot keep us waiting, and a command that prints a lot
costs disk, not memory. Only the log's last few KiB are read back for the message."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from optimize import git, progress
from optimize.errors import OptimizeError

TAIL_BYTES = 64 * 1024  # how much of a run's output is read back for the message
TAIL_LINES = 5
LINE_CHARS = 500  # one very long line must not become the whole message
KEEP_LOGS = 10  # verify-*.log files kept in .git/optimize/

_log_serial = itertools.count()  # tells apart the logs this process names in one second


class VerificationFailed(OptimizeError):
    exit_code = 1


@dataclass
class Verification:
    command: str
    timeout: float
    log: Path
    subdir: str = ""  # where to run it, relative to the repository top

    def run(self, top: Path, label: str) -> tuple[bool, str]:
        """Run the command in ``top``/subdir; (passed, last lines of output)."""
        started = time.monotonic()
        step = progress.phase(f"--verify {label}", 1)
        with self.log.open("ab") as log:
            log.write(f"=== {label}: {self.command}\n".encode())
            log.flush()  # before the command's own writes land after it
            output_from = log.tell()
            passed, status = self._execute(top, log)
            output_to = log.seek(0, os.SEEK_END)
            tail = _tail(self.log, output_from, output_to)
            log.write(f"\n=== {label}: {status}, {time.monotonic() - started:.1f} s\n".encode())
        step.advance()
        return passed, f"{status}: {tail}"

    def _execute(self, top: Path, log: BinaryIO) -> tuple[bool, str]:
        """Run the command with its output going to ``log``; (passed, status)."""
        process = subprocess.Popen(
            self.command, shell=True, cwd=top / self.subdir, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            # The shell's own exit decides: a process it left running (detached or in the
            # background) may hold the output open, but is not waited for.
            returncode = process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
            return False, f"timed out after {self.timeout:g} s"
        except BaseException:  # Ctrl-C: the check must not go on in a worktree being removed
            _kill_group(process.pid)
            process.wait()
            raise
        return returncode == 0, f"exit {returncode}"

    def baseline(self, repo, allow_failing: bool, base: str | None = None) -> None:
        """Run on ``base`` (HEAD by default) untouched; a failure stops the run unless allowed."""
        with git.private_worktree(repo, base or repo.head.commit.hexsha) as wt:
            passed, tail = self.run(wt, "baseline (untouched tree)")
        if not passed and not allow_failing:
            raise VerificationFailed(
                f"--verify fails on the untouched tree ({tail}); fix it first or pass --allow-failing-baseline "
                f"(log: {self.log})"
            )

    def verifier(self):
        def check(worktree: Path, spec: git.CommitSpec) -> str | None:
            passed, tail = self.run(worktree, f"after {spec.key}")
            return None if passed else f"--verify failed after this commit ({tail})"

        return check


def _kill_group(pgid: int) -> None:
    # The whole group: the shell and whatever it started that did not leave it.
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nothing left in it


def _tail(log: Path, start: int, end: int) -> str:
    """The last non-empty lines written to ``log`` between ``start`` and ``end``, joined
    with " | "; reads at most TAIL_BYTES whatever the run printed."""
    begin = max(start, end - TAIL_BYTES)
    with log.open("rb") as text:
        text.seek(begin)
        data = text.read(end - begin)
    lines = data.decode("utf-8", "replace").splitlines()
    if begin > start and lines:
        lines = lines[1:]  # probably cut mid-line
    kept = [_shorten(line) for line in lines if line.strip()][-TAIL_LINES:]
    return " | ".join(kept) or "no output"


def _shorten(line: str) -> str:
    return line if len(line) <= LINE_CHARS else "..." + line[-LINE_CHARS:]


def log_path(repo) -> Path:
    """A new, empty log file of its own under .git/optimize/; older logs beyond the newest
    KEEP_LOGS are removed."""
    area = Path(repo.common_dir) / "optimize"
    area.mkdir(parents=True, exist_ok=True)
    path = _create_log(area)
    _prune_logs(area, keep=path)
    return path


def _create_log(area: Path) -> Path:
    # Sortable by time; pid and serial keep runs in the same second (or process) apart.
    stamp = time.strftime("%Y%m%d-%H%M%S")
    while True:
        path = area / f"verify-{stamp}-{os.getpid()}-{next(_log_serial):04d}.log"
        try:
            path.open("x").close()  # exclusive: never share a file with another run
            return path
        except FileExistsError:
            continue


def _prune_logs(area: Path, keep: Path) -> None:
    others = []
    for path in area.glob("verify-*.log"):
        if path == keep:
            continue
        try:
            others.append((path.stat().st_mtime_ns, path.name, path))
        except FileNotFoundError:
            continue  # another run pruned it first
    # Newest by last write (a log another run still writes to stays), then by name.
    others.sort(reverse=True)
    for *_, path in others[KEEP_LOGS - 1:]:
        try:
            path.unlink()
        except OSError:
            pass  # gone already, or not ours to remove: never a reason to fail the run
