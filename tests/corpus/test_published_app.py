"""A published FastAPI + async SQLAlchemy application, unpacked into a git repository and run
through `scan` and `apply --unsafe-fixes`: no crash, every output compiles, a second apply
changes nothing, and every rewrite is listed with its location."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.gitrepo import git, run_cli

CACHE = Path.home() / ".cache" / "optimize-corpus"


def _download(package: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(f"{package}-*.whl"))
    if not found:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d", str(CACHE), package],
            capture_output=True, text=True, timeout=300,
        )
        found = sorted(CACHE.glob(f"{package}-*.whl"))
        if done.returncode != 0 or not found:
            pytest.skip(f"could not download {package} from the package index")
    return found[-1]


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("OPTIMIZE_CORPUS"),
    reason="takes several minutes: set OPTIMIZE_CORPUS=1 to run the published-application corpus",
)
def test_prefect_server(tmp_path: Path) -> None:
    wheel = _download("prefect")
    repo = tmp_path / "prefect"
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith("prefect/server/")]
        archive.extractall(repo, members)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "prefect")
    git(repo, "config", "user.name", "t")
    git(repo, "config", "user.email", "t@example.invalid")
    scan = run_cli("scan", str(repo), "--format", "json")
    assert scan.exit_code == 0 and "Traceback" not in scan.output
    data = json.loads(scan.stdout)
    assert not [r for r in data["refusals"] if "internal error" in r["reason"]]
    for change in data["changes"]:
        print(f"{change['codemod']} {change['path']}:{change['line']} [{change['tier']}] {change['rationale']}")
    applied = run_cli("apply", str(repo), "--unsafe-fixes", "--no-verify")
    assert applied.exit_code == 0 and "Traceback" not in applied.output
    changed = git(repo, "log", "--name-only", "--format=", "--", ".").split()
    for path in set(changed):
        if path.endswith(".py") and (repo / path).exists():
            compile((repo / path).read_bytes(), path, "exec", dont_inherit=True)
    head = git(repo, "rev-parse", "HEAD")
    again = run_cli("apply", str(repo), "--unsafe-fixes", "--no-verify")
    assert again.exit_code == 0 and git(repo, "rev-parse", "HEAD") == head
    print(f"prefect/server: {data['files_scanned']} files, {data['files_parsed']} parsed, "
          f"{len(data['changes'])} rewrites, {len(data['refusals'])} refusals")
