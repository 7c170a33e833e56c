"""Published FastAPI + SQLAlchemy applications, unpacked from their wheels into a git
repository and run through `scan` and `apply --unsafe-fixes` with the CLI.

Guarantees checked: no crash and no internal-error refusal; every rewritten file compiles;
every file not rewritten is byte-identical to the wheel's; every change `scan` reports is
listed with its location in its commit message; a second `apply` changes nothing; `revert
--all` restores every byte.

Needs the package index (`pip download --no-deps`, cached in ~/.cache/optimize-corpus) and
several minutes of LibCST per application, so it runs on request: OPTIMIZE_CORPUS=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.gitrepo import git, run_cli

CACHE = Path(os.environ.get("OPTIMIZE_CORPUS_CACHE", Path.home() / ".cache" / "optimize-corpus"))
# (distribution, the parts of it unpacked): prefect's database settings and its server;
# all of lnbits.
APPS = {
    "prefect": ("prefect/server/", "prefect/settings/"),
    "lnbits": ("lnbits/",),
}


def _download(package: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(f"{package}-*.whl"))
    if not found:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q",
                 "-d", str(CACHE), package],
                capture_output=True, text=True, timeout=300,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"could not download {package} from the package index: {exc}")
        found = sorted(CACHE.glob(f"{package}-*.whl"))
        if done.returncode != 0 or not found:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"could not download {package} from the package index (no network?): {last}")
    return found[-1]


def _unpack(wheel: Path, prefixes: tuple[str, ...], repo: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith(prefixes) and not m.endswith("/")]
        archive.extractall(repo, members)
        original = {m: archive.read(m) for m in members}
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "t")
    git(repo, "config", "user.email", "t@example.invalid")
    git(repo, "config", "core.autocrlf", "false")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", wheel.name)
    return original


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("OPTIMIZE_CORPUS"),
    reason="several minutes per application: set OPTIMIZE_CORPUS=1 to run the published-application corpus",
)
@pytest.mark.parametrize("package", list(APPS))
def test_published_application(package: str, tmp_path: Path) -> None:
    wheel = _download(package)
    repo = tmp_path / package
    original = _unpack(wheel, APPS[package], repo)
    base = git(repo, "rev-parse", "HEAD").strip()

    scan = run_cli("scan", str(repo), "--format", "json")
    assert scan.exit_code == 0 and "Traceback" not in scan.output, scan.output
    data = json.loads(scan.stdout)
    assert not [r for r in data["refusals"] if "internal error" in r["reason"]]

    applied = run_cli("apply", str(repo), "--unsafe-fixes", "--no-verify")
    assert applied.exit_code == 0 and "Traceback" not in applied.output, applied.output
    assert git(repo, "status", "--porcelain") == ""
    changed = set(git(repo, "diff", "--name-only", base, "HEAD").split("\n")) - {""}
    for path in changed:
        if path.endswith(".py") and (repo / path).exists():
            compile((repo / path).read_bytes(), path, "exec", dont_inherit=True)
    for path, data_bytes in original.items():
        if path not in changed:
            assert (repo / path).read_bytes() == data_bytes, path

    # Every change scan reported is listed, with its location, in its codemod's commit.
    messages = git(repo, "log", f"{base}..HEAD", "--format=%B%x00").split("\0")
    for change in data["changes"]:
        where = f"{change['path']}:{change['line']}"
        assert any(
            f"Optimize-Codemod: {change['codemod']}" in m and where in m for m in messages
        ), (change, messages)

    head = git(repo, "rev-parse", "HEAD")
    again = run_cli("apply", str(repo), "--unsafe-fixes", "--no-verify")
    assert again.exit_code == 0 and git(repo, "rev-parse", "HEAD") == head

    if head.strip() != base:
        assert run_cli("revert", str(repo), "--all", "--no-verify").exit_code == 0
        assert git(repo, "diff", base, "HEAD") == ""

    lines = [
        f"{wheel.name} ({', '.join(APPS[package])}): {data['files_scanned']} files, "
        f"{data['files_parsed']} parsed, {len(data['changes'])} rewrites, "
        f"{len(data['refusals'])} refusals, {len(changed)} files changed",
        *(f"  {c['codemod']} {c['path']}:{c['line']} [{c['tier']}] {c['rationale']}" for c in data["changes"]),
    ]
    (tmp_path / f"{package}-summary.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
