"""The bundled example app (fixtures/taskboard): copy it, run its own test suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "taskboard"

_NOT_SOURCE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.db", "*.db-journal")


def copy_fixture(dest: Path) -> Path:
    """A copy of the app at `dest` (which must not exist), without caches or databases."""
    shutil.copytree(FIXTURE, dest, ignore=_NOT_SOURCE)
    return dest


def run_fixture_suite(
    app_dir: Path, log_path: Path, extra_env: dict | None = None, pytest_args: list[str] | None = None
) -> dict:
    """Runs the app's own tests in a subprocess, asserts they pass, and returns the query
    log they wrote: {request key: {"statements", "status", "body"}}."""
    env = {**os.environ, "TASKBOARD_QUERY_LOG": str(log_path), "PYTHONDONTWRITEBYTECODE": "1"}
    # The suite chooses its own throwaway database; settings from the caller must not leak in.
    for name in [n for n in env if n.startswith("TASKBOARD_") and n != "TASKBOARD_QUERY_LOG"]:
        del env[name]
    env.update(extra_env or {})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning",
         *(pytest_args or [])],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"fixture suite failed (exit {done.returncode}):\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    )
    return json.loads(log_path.read_text())
