"""A scan answered from the cache, without importing what planning needs.

A scan's result is kept (`optimize.cache`) under a key of every input it was made from:
each file's path and hash, the project files, the skips, the configuration, the selected
codemods and checks. Two of those inputs cost LibCST and the codemod registry to compute:
the validated configuration and the selection it resolves to. So the cold run that keeps a
result also keeps them, under a key of what they are made of (the directory, its
`pyproject.toml`, the command line's selection); a warm run reads them back, lists and
hashes the files exactly as the cold run did, and shows the kept result when its key is
found. Anything else (no entry, a file changed, an unreadable cache) is a miss, and the
scan is planned as usual, which also reports any real error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Mapping

from optimize.cache import Cache
from optimize.config import Config, config_files, lint_files_digest
from optimize.errors import ConfigError
from optimize.files import discover, project_files
from optimize.results import CodemodInfo, Plan, Skip


@dataclass(frozen=True)
class Front:
    """What a scan resolved its command line and configuration to."""

    config: Config
    prefix: str  # the directory relative to the repository top, as `runner.Target` has it
    codemods: tuple[str, ...]
    checks: tuple[str, ...]
    unsafe_allowed: bool


def front_key(cache: Cache, root: Path, only: Iterable[str], exclude: Iterable[str]) -> str | None:
    """The key of a scan's `Front`: the directory, the configuration's candidate files
    (`config.config_files`, its only sources) and the selection; None when one cannot be
    read."""
    try:
        files = config_files(root)
    except ConfigError:
        return None
    return cache.scan_key("front", str(root), tuple(files), lint_files_digest(root), tuple(only), tuple(exclude))


def plan_key(
    cache: Cache,
    root: Path,
    current: Mapping[str, bytes],
    projects: Mapping[str, bytes],
    skips: list[Skip],
    config: Config,
    codemods: Iterable[str],
    checks: Iterable[str],
    unsafe_allowed: bool,
    only_paths: Iterable[str] | None,
) -> str:
    """The key a scan's result is kept under: every input it was planned from."""
    return cache.scan_key(
        str(root), sorted((p, hashlib.sha1(d).hexdigest()) for p, d in current.items()),
        sorted(projects.items()), skips, repr(config), list(codemods), list(checks),
        unsafe_allowed, None if only_paths is None else sorted(only_paths),
    )


def reused_scan(path: Path, only: list[str], exclude: list[str]) -> tuple[Plan, str] | None:
    """(the kept result, the directory's prefix) of the scan of ``path`` with this
    selection, when nothing it was made from has changed; None otherwise."""
    try:
        root = Path(path).expanduser().resolve()
        if not root.is_dir():
            return None
        cache = Cache.open(root)
        key = front_key(cache, root, only, exclude)
        front = cache.load_front(key) if key is not None else None
        if not isinstance(front, Front):
            return None
        files, skips = discover(root, front.config)
        current = {f.path: f.data for f in files}
        kept = cache.load_scan(
            plan_key(
                cache, root, current, project_files(root), skips, front.config,
                front.codemods, front.checks, front.unsafe_allowed, None,
            )
        )
    except Exception:  # noqa: BLE001 - any failure is a miss: planning reports real errors
        return None
    if not isinstance(kept, Plan):
        return None
    kept.from_cache = True
    kept.files_parsed = kept.files_reused = 0  # this run parsed nothing
    kept.parsed_by = {}
    return kept, front.prefix


def keep_front(cache: Cache, root: Path, only: list[str], exclude: list[str], front: Front) -> None:
    key = front_key(cache, root, only, exclude)
    if key is not None:
        cache.save_front(key, front)


def as_kept(plan: Plan) -> Plan:
    """``plan`` as the cache keeps it: each codemod class replaced by what reports read
    of it (`CodemodInfo`), so that reading it back imports no codemod."""
    return replace(plan, outcomes=[replace(o, codemod=CodemodInfo.of(o.codemod)) for o in plan.outcomes])
