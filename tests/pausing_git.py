"""A `git` on PATH that pauses before or after one subcommand, to make races deterministic.

A test starts `optimize` in a subprocess with `PausingGit.env()`, waits until the run
reaches the chosen git command, does what a teammate (or the user) would do at that moment,
and lets the run go on. Everything else is the real git.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

_SCRIPT = r"""#!/bin/sh
# Rules: "before:update-ref", "after:status", "before:worktree-add" (subcommand-argument).
sub=""; arg=""; skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in
    -c|-C) skip=1 ;;
    -*) [ -n "$sub" ] && continue ;;
    *) if [ -z "$sub" ]; then sub="$a"; elif [ -z "$arg" ]; then arg="$a"; break; fi ;;
  esac
done
pause_at() {
  for rule in $FAKEGIT_RULES; do
    when=${rule%%:*}; name=${rule#*:}
    [ "$when" = "$1" ] || continue
    [ "$name" = "$sub" ] || [ "$name" = "$sub-$arg" ] || continue
    mark="$FAKEGIT_DIR/$rule"
    [ -e "$mark.done" ] && continue
    : > "$mark.done"
    : > "$mark.reached"
    i=0
    while [ ! -e "$mark.go" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
  done
}
pause_at before
"$REAL_GIT" "$@"
rc=$?
pause_at after
exit $rc
"""


class PausingGit:
    def __init__(self, tmp_path: Path, *rules: str) -> None:
        self.rules = rules
        self.bindir = tmp_path / "pausing-bin"
        self.marks = tmp_path / "pausing-marks"
        self.bindir.mkdir(exist_ok=True)
        self.marks.mkdir(exist_ok=True)
        script = self.bindir / "git"
        script.write_text(_SCRIPT)
        script.chmod(0o755)
        self.real = shutil.which("git")

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        from tests.gitrepo import IDENTITY

        return {
            **os.environ, **IDENTITY, **(extra or {}),
            "PATH": f"{self.bindir}{os.pathsep}{os.environ['PATH']}",
            "FAKEGIT_DIR": str(self.marks), "FAKEGIT_RULES": " ".join(self.rules), "REAL_GIT": self.real,
        }

    def start(self, cwd: Path, *args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "optimize", *args], cwd=cwd, env=self.env(env),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=default_sigint,
        )
        if stdin is not None:
            process.stdin.write(stdin)
        process.stdin.close()
        process.stdin = None  # communicate() must not flush it
        return process

    def reached(self, rule: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (self.marks / f"{rule}.reached").exists():
                return True
            time.sleep(0.02)
        return False

    def release(self, rule: str) -> None:
        (self.marks / f"{rule}.go").touch()


def default_sigint() -> None:
    """Give the run Ctrl-C's default meaning: a suite started in the background by a
    non-interactive shell inherits SIGINT ignored, and Python then never raises
    KeyboardInterrupt, so the tests that press Ctrl-C would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
