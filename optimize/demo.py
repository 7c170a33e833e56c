"""`optimize demo`: the product at work on the bundled example app, in a fresh repository."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from rich.console import Console

from optimize import runner
from optimize.errors import OptimizeError
from optimize.reports import table

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.db")


def fixture_dir() -> Path:
    source = Path(str(resources.files("optimize.fixtures") / "taskboard"))
    if not source.is_dir():
        raise OptimizeError("the bundled example app is missing from this installation")
    return source


def make_demo_repo(directory: Path | None = None) -> Path:
    """Copy the example app into a new git repository with one commit."""
    dest = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="optimize-demo-")) / "taskboard"
    if dest.exists() and any(dest.iterdir()):
        raise OptimizeError(f"{dest} exists and is not empty")
    shutil.copytree(fixture_dir(), dest, ignore=_IGNORE, dirs_exist_ok=True)
    identity = ["-c", "user.name=optimize demo", "-c", "user.email=demo@example.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*identity, "commit", "-qm", "Example app"]):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    subprocess.run(["git", "config", "user.name", "optimize demo"], cwd=dest, check=True)
    subprocess.run(["git", "config", "user.email", "demo@example.invalid"], cwd=dest, check=True)
    return dest


def run_demo(console: Console, directory: Path | None = None) -> Path:
    dest = make_demo_repo(directory)
    console.print(f"Example app copied to [bold]{dest}[/] (a new git repository).")
    # The demo shows every codemod, the unsafe ones too: say so, as `apply` alone would not.
    console.print(
        "Running `optimize apply --unsafe-fixes`: the unsafe codemods' commits need review "
        "in a real repository (`optimize apply` alone lands only the safe ones).\n"
    )
    target = runner.Target.open(dest, need_repo=True)
    result = runner.apply(target, runner.Selection(unsafe_fixes=True))
    table.applied(console, result)
    table.log(console, runner.log(target))
    console.print(
        f"\nLook around: cd {dest} && git log -p    "
        "(`optimize scan` there lists what was left alone and why)"
    )
    return dest
