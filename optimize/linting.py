"""Keep a repository that lints with ruff lint-clean after a rewrite.

A codemod's edit can leave an import unused (`select` once a query became `session.get`),
add an import outside its sorted block, or leave trailing whitespace. In a repository that
configures ruff (`[tool.ruff]`, `ruff.toml`), the rules ruff can fix that the file passed
before the rewrite and fails after it are fixed with ruff itself, with the repository's
own settings (isort sections, first-party packages, line length): the commit passes the
repository's ruff hook. A rule the file already failed before is left to the team, as
black is only run on files that were black-clean (`optimize.formatting`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

# Fixable by ruff and made by rewrites: unused import, unsorted imports, trailing whitespace.
FIXED = ("F401", "I001", "W291", "W293")
_TIMEOUT = 60


def configures_ruff(root: Path, pyproject_has_ruff: bool) -> bool:
    return pyproject_has_ruff or (root / "ruff.toml").is_file() or (root / ".ruff.toml").is_file()


@lru_cache(maxsize=1)
def ruff_binary() -> str | None:
    """The `ruff` on PATH (the repository's, in its environment), else the one installed
    with Python packages, else None (the rewrite is kept as it is)."""
    found = shutil.which("ruff")
    if found:
        return found
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-not-found]

        return str(find_ruff_bin())
    except Exception:  # noqa: BLE001 - not installed
        return None


def _run(root: Path, path: str, source: bytes, *args: str) -> subprocess.CompletedProcess | None:
    ruff = ruff_binary()
    if ruff is None:
        return None
    try:
        return subprocess.run(
            [ruff, "check", "--no-cache", "--stdin-filename", path, *args, "-"],
            cwd=root, input=source, capture_output=True, timeout=_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def violations(root: Path, path: str, source: bytes) -> set[str] | None:
    """The codes ruff reports on ``source`` as the file ``path`` of ``root`` (None: ruff
    could not tell)."""
    done = _run(root, path, source, "--output-format", "json", "--exit-zero")
    if done is None or done.returncode != 0:
        return None
    try:
        return {item.get("code") or "" for item in json.loads(done.stdout or b"[]")}
    except (ValueError, AttributeError):
        return None


def ruff_tidy(root: Path, path: str, before: bytes, after: bytes) -> bytes:
    """``after`` with the `FIXED` rules that ``before`` passed and it fails fixed by ruff."""
    was = violations(root, path, before)
    now = violations(root, path, after) if was is not None else None
    if was is None or now is None:
        return after
    new = sorted(code for code in now - was if code in FIXED)
    if not new:
        return after
    done = _run(root, path, after, "--fix-only", "--exit-zero", "--select", ",".join(new))
    if done is None or done.returncode != 0 or not done.stdout:
        return after
    try:
        compile(done.stdout, path, "exec")
    except (SyntaxError, ValueError):
        return after
    return done.stdout


@lru_cache(maxsize=8)
def formats_with_ruff(root: Path) -> bool:
    """Whether the repository runs `ruff format` as a pre-commit hook (a `[tool.ruff.format]`
    table says so too: `Config.uses_ruff_format`)."""
    try:
        return "ruff-format" in (root / ".pre-commit-config.yaml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def ruff_reformat(root: Path, path: str, before: bytes, after: bytes) -> bytes:
    """``after`` formatted by `ruff format` if ``before`` was ruff-format-clean, with the
    repository's settings; else ``after`` as it is (as black is used, `optimize.formatting`)."""
    ruff = ruff_binary()
    if ruff is None:
        return after
    try:
        check = subprocess.run(
            [ruff, "format", "--no-cache", "--check", "--stdin-filename", path, "-"],
            cwd=root, input=before, capture_output=True, timeout=_TIMEOUT,
        )
        if check.returncode != 0:
            return after  # not ruff-formatted before (or ruff refused it): left as the team has it
        done = subprocess.run(
            [ruff, "format", "--no-cache", "--stdin-filename", path, "-"],
            cwd=root, input=after, capture_output=True, timeout=_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return after
    return done.stdout if done.returncode == 0 and done.stdout else after
