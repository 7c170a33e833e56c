"""The flow of one run: discover -> prefilter -> parse -> index -> plan.

`plan()` turns a directory into a `Plan`: for each selected codemod, in registry order,
the file edits it makes (each codemod running on the previous one's output), the changes
with their rationale, and the refusals. Nothing here writes a file or touches git:
`optimize.git` lands a plan, `optimize.review` shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path, PurePosixPath
from typing import Iterable

import libcst as cst
from libcst.metadata import MetadataWrapper

from optimize.analyzers.index import RepoIndex
from optimize.codemods.base import SAFE, Change, Codemod, Refusal
from optimize.codemods.registry import REGISTRY, by_id
from optimize.config import Config
from optimize.errors import OptimizeError
from optimize.files import Skip, discover, project_files
from optimize.formatting import black_reformat
from optimize.transform import run_codemod


@dataclass(frozen=True)
class FileEdit:
    path: str
    before: bytes | None  # None for a file the codemod creates
    after: bytes


@dataclass
class Outcome:
    codemod: type[Codemod]
    edits: list[FileEdit] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


@dataclass
class Plan:
    root: Path
    outcomes: list[Outcome]
    skips: list[Skip]
    files_scanned: int = 0
    files_parsed: int = 0

    @property
    def changed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.edits]

    @property
    def refusals(self) -> list[Refusal]:
        return [r for o in self.outcomes for r in o.refusals]


def select_codemods(
    config: Config,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    unsafe_fixes: bool = False,
) -> list[type[Codemod]]:
    """The codemods a run uses, in registry order.

    Unsafe codemods run only with ``--unsafe-fixes`` or when named in ``--only``.
    """
    known = by_id()
    only = list(only or [])
    exclude = list(exclude or [])
    for cid in [*only, *exclude]:
        if cid not in known:
            raise OptimizeError(f"unknown codemod id {cid!r} (see `optimize list`)")
    chosen = []
    for codemod in REGISTRY:
        if only:
            if codemod.ID not in only:
                continue
        else:
            if config.enable is not None and codemod.ID not in config.enable:
                continue
            if codemod.ID in config.disable:
                continue
            if codemod.SAFETY != SAFE and not unsafe_fixes:
                continue
        if codemod.ID in exclude:
            continue
        chosen.append(codemod)
    return chosen


def _compiles(data: bytes, path: str) -> str | None:
    try:
        compile(data, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _cannot_create(root: Path, rel: str, current: dict[str, bytes]) -> str | None:
    """Why a codemod may not add the file ``rel`` (None when it may).

    A file already read is reused. Anything else already on disk at that path (a file that
    was skipped, a symlink, even a dangling one) is never overwritten, and a new file never
    lands outside the repository or behind a symlinked directory: writing there would edit
    whatever the link points to."""
    if rel in current:
        return None
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return f"would create {rel}, outside the repository"
    for depth in range(1, len(pure.parts) + 1):
        here = root.joinpath(*pure.parts[:depth])
        if here.is_symlink():
            return f"would create {rel} through the symlink {PurePosixPath(*pure.parts[:depth])}"
    if os.path.lexists(root / rel):
        return f"would create {rel}, which exists but was not read"
    return None


def _syntax_skip(path: str, exc: Exception) -> Skip:
    if isinstance(exc, cst.ParserSyntaxError):
        return Skip(path, f"syntax error at line {exc.raw_line}: not parsed")
    return Skip(path, f"cannot be parsed: {type(exc).__name__}")


def plan(
    root: Path,
    codemods: list[type[Codemod]],
    config: Config,
    *,
    tracked_only: bool = False,
    unsafe_allowed: bool | None = None,
    index_cache: dict | None = None,
    overrides: dict[str, bytes] | None = None,
) -> Plan:
    """Compute every codemod's edits without writing anything.

    ``unsafe_allowed`` lets safe codemods make their unsafe-tier changes; by default
    that follows whether any unsafe codemod was selected.
    """
    root = root.resolve()
    files, skips = discover(root, config, tracked_only=tracked_only)
    if unsafe_allowed is None:
        unsafe_allowed = any(c.SAFETY != SAFE for c in codemods)
    current: dict[str, bytes] = {f.path: f.data for f in files}
    current.update(overrides or {})  # contents chosen earlier in the run (interactive review)
    index = RepoIndex.build(current, project_files(root), cache=index_cache)
    # Files Python cannot parse are reported once and never handed to a codemod.
    unparsable_by_index = dict(index.unparsable)
    trees: dict[str, cst.Module] = {}
    wrappers: dict[str, MetadataWrapper] = {}
    unparsable: set[str] = set(unparsable_by_index)
    skips.extend(Skip(path, reason) for path, reason in sorted(unparsable_by_index.items()))
    outcomes: list[Outcome] = []
    for codemod in codemods:
        outcome = Outcome(codemod)
        options = config.options.get(codemod.ID, {})
        for path in list(current):
            source = current[path]
            if path in unparsable or not codemod.wants(source):
                continue
            tree = trees.get(path)
            if tree is None:
                try:
                    tree = cst.parse_module(source)
                except Exception as exc:  # LibCST raises several types for bad input
                    unparsable.add(path)
                    skips.append(_syntax_skip(path, exc))
                    continue
                if tree.bytes != source:
                    # e.g. a file with old Mac line endings loses its last one: a rewrite
                    # would change bytes outside the edit, so the file is left alone.
                    unparsable.add(path)
                    skips.append(Skip(path, "not reproduced byte for byte by the parser: not rewritten"))
                    continue
                trees[path] = tree
                # A fresh parse has no shared nodes, so the wrapper need not copy it.
                wrappers[path] = MetadataWrapper(tree, unsafe_skip_copy=True)
            wrapper = wrappers.get(path)
            if wrapper is None:
                wrapper = wrappers[path] = MetadataWrapper(tree)
            tree = wrapper.module
            try:
                result = run_codemod(
                    codemod, tree, path, index=index, options=options,
                    unsafe_allowed=unsafe_allowed, wrapper=wrapper,
                )
            except Exception as exc:  # a codemod bug must not stop the run or lose a file
                outcome.refusals.append(
                    Refusal(codemod.ID, path, 0, f"skipped: internal error {type(exc).__name__}: {exc}")
                )
                continue
            outcome.refusals.extend(result.refusals)
            new_source = result.tree.bytes if result.tree.code != tree.code else source
            if new_source == source:
                continue
            problem = _compiles(new_source, path)
            if problem is not None:
                outcome.refusals.append(
                    Refusal(codemod.ID, path, 0, f"skipped: the rewrite would not compile ({problem}); file left unchanged")
                )
                continue
            blocked = next(
                (why for why in (_cannot_create(root, p, current) for p in result.created_files) if why), None
            )
            if blocked is not None:
                outcome.refusals.append(Refusal(codemod.ID, path, 0, f"skipped: {blocked}; file left unchanged"))
                continue
            if config.uses_black:
                new_source = black_reformat(root, source, new_source)
            new_tree = result.tree if new_source == result.tree.bytes else cst.parse_module(new_source)
            trees[path] = new_tree
            wrappers.pop(path, None)
            current[path] = new_source
            outcome.edits.append(FileEdit(path, source, new_source))
            outcome.changes.extend(result.changes)
            for new_path, text in result.created_files.items():
                data = text.encode()
                if new_path in current:
                    continue  # never overwrite: the helper already exists
                current[new_path] = data
                outcome.edits.append(FileEdit(new_path, None, data))
        outcomes.append(outcome)
    return Plan(root, outcomes, skips, files_scanned=len(files), files_parsed=len(trees))
