"""`--verify "<command>"`: run the user's checks on the untouched tree, then after each
codemod's commit, in the private worktree; a commit that makes them fail is dropped."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from optimize import git
from optimize.errors import OptimizeError


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
        process = subprocess.Popen(
            self.command, shell=True, cwd=top / self.subdir, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=self.timeout)
            passed = process.returncode == 0
            status = f"exit {process.returncode}"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            passed, status = False, f"timed out after {self.timeout:g} s"
        text = output.decode("utf-8", "replace")
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"=== {label}: {self.command} ({status}, {time.monotonic() - started:.1f} s)\n{text}\n")
        tail = " | ".join([l for l in text.splitlines() if l.strip()][-5:]) or "no output"
        return passed, f"{status}: {tail}"

    def baseline(self, repo, allow_failing: bool) -> None:
        with git.private_worktree(repo, repo.head.commit.hexsha) as wt:
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


def log_path(repo) -> Path:
    area = Path(repo.common_dir) / "optimize"
    area.mkdir(parents=True, exist_ok=True)
    return area / f"verify-{time.strftime('%Y%m%d-%H%M%S')}.log"
