"""The bundled example app (fixtures/taskboard): copy it, run its own test suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "taskboard"


def copy_fixture(dest: Path) -> Path:
    shutil.copytree(
        FIXTURE, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.db")
    )
    return dest


def run_fixture_suite(app_dir: Path, log_path: Path, extra_env: dict | None = None) -> dict:
    """Run the app's own tests; assert they pass; return its per-request statement log."""
    env = {**os.environ, "TASKBOARD_QUERY_LOG": str(log_path), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("TASKBOARD_DATABASE__URL", None)
    env.update(extra_env or {})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"fixture suite failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    return json.loads(log_path.read_text())
