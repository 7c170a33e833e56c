"""Keep a repository that lints with ruff lint-clean after a rewrite.

A codemod's edit can leave an import unused (`select` once a query became `session.get`),
add an import outside its sorted block, or leave trailing whitespace. In a repository that
configures ruff (`[tool.ruff]`, `ruff.toml`), the rules ruff can fix that the file passed
before the rewrite and fails after it are fixed with ruff itself, with the repository's
own settings (isort sections, first-party packages, line length): the commit passes the
repository's ruff hook. A rule the file already failed before is left to the team, as
black is only run on files that were black-clean (`optimize.formatting`). A rewritten line
too long for the repository (E501, which ruff cannot fix) has its statement formatted with
`ruff format --range`: that statement alone, with the repository's line length.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from optimize.linediff import opcodes

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
            # --force-exclude: a file the repository's ruff excludes (migrations, vendored
            # code) is not its business, here either.
            [ruff, "check", "--no-cache", "--force-exclude", "--stdin-filename", path, *args, "-"],
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
    """``after`` with the `FIXED` rules that ``before`` passed and it fails fixed by ruff,
    and, when a rewritten line is now too long for the repository (E501), the rewritten
    statements alone formatted by `ruff format --range` to fit."""
    was = violations(root, path, before)
    now = violations(root, path, after) if was is not None else None
    if was is None or now is None:
        return after
    tidy = after
    new = sorted(code for code in now - was if code in FIXED)
    if new:
        done = _run(root, path, after, "--fix-only", "--exit-zero", "--select", ",".join(new))
        if done is not None and done.returncode == 0 and done.stdout and _compiles(done.stdout, path):
            tidy = done.stdout
    if "E501" in now:
        tidy = _fit_long_lines(root, path, before, tidy)
    return tidy


def _compiles(source: bytes, path: str) -> bool:
    try:
        compile(source, path, "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _long_lines(root: Path, path: str, source: bytes) -> set[int] | None:
    done = _run(root, path, source, "--output-format", "json", "--exit-zero", "--select", "E501")
    if done is None or done.returncode != 0:
        return None
    try:
        return {item["location"]["row"] for item in json.loads(done.stdout or b"[]")}
    except (ValueError, KeyError, TypeError):
        return None


def _fit_long_lines(root: Path, path: str, before: bytes, after: bytes) -> bytes:
    """The hunks of ``after`` (against ``before``) that hold a line too long, each formatted
    by `ruff format --range` (bottom up, so that the lines above keep their numbers)."""
    long = _long_lines(root, path, after)
    ruff = ruff_binary()
    if not long or ruff is None:
        return after
    old, new = before.split(b"\n"), after.split(b"\n")
    hunks = [
        (j1 + 1, j2)
        for tag, _i1, _i2, j1, j2 in opcodes(old, new)
        if tag in ("replace", "insert") and any(j1 < line <= j2 for line in long)
    ]
    result = after
    for start, end in reversed(hunks):
        try:
            done = subprocess.run(
                [ruff, "format", "--no-cache", "--force-exclude", "--range", f"{start}-{end + 1}", "--stdin-filename", path, "-"],
                cwd=root, input=result, capture_output=True, timeout=_TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired):
            return after
        if done.returncode != 0 or not done.stdout or not _compiles(done.stdout, path):
            return after
        result = done.stdout
    return result


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
            [ruff, "format", "--no-cache", "--force-exclude", "--check", "--stdin-filename", path, "-"],
            cwd=root, input=before, capture_output=True, timeout=_TIMEOUT,
        )
        if check.returncode != 0:
            return after  # not ruff-formatted before (or ruff refused it): left as the team has it
        done = subprocess.run(
            [ruff, "format", "--no-cache", "--force-exclude", "--stdin-filename", path, "-"],
            cwd=root, input=after, capture_output=True, timeout=_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return after
    return done.stdout if done.returncode == 0 and done.stdout else after
