"""The flow of one run: discover -> prefilter -> parse -> index -> plan.

`plan()` turns a directory into a `Plan`: for each selected codemod, in registry order,
the file edits it makes (each codemod running on the previous one's output), the changes
with their rationale, and the refusals. Nothing here writes a file or touches git:
`optimize.git` lands a plan, `optimize.review` shows it.
"""

from __future__ import annotations

import os
from collections import Counter
import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

import libcst as cst
from libcst.metadata import MetadataWrapper

from optimize.analyzers.checks.base import Check, Finding, IndexCheck
from optimize.analyzers.checks.registry import CHECKS
from optimize.analyzers.checks.registry import by_id as checks_by_id
from optimize.analyzers.index import RepoIndex
from optimize.analyzers.recording import Answers, RecordingIndex
from optimize.analyzers.roles import file_role
from optimize.analyzers.syntax import TOO_DEEP, nested_too_deeply, rewrite_compile_error
from optimize.cache import Cache
from optimize.codemods.base import SAFE, Change, Codemod, Refusal
from optimize.codemods.registry import REGISTRY, by_id
from optimize.config import Config
from optimize.errors import OptimizeError
from optimize.files import CommittedTree, Skip, project_files
from optimize.formatting import black_clean, black_reformat
from optimize.lines import origin_position
from optimize.linting import configures_ruff, formats_with_ruff, ruff_reformat, ruff_tidy
from optimize import progress, reuse, spans
from optimize.reading import Reading, read_facts
from optimize.results import FileEdit, Outcome, Plan
from optimize.transform import run_codemod
from optimize.workers import default_jobs, map_in_workers


def select_codemods(
    config: Config,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    unsafe_fixes: bool = False,
) -> list[type[Codemod]]:
    """The codemods a run uses, in registry order.

    Unsafe codemods run only with ``--unsafe-fixes`` or when named in ``--only``.
    """
    known = {**by_id(), **checks_by_id()}
    only = list(only or [])
    exclude = list(exclude or [])
    for cid in [*only, *exclude]:
        if cid not in known:
            raise OptimizeError(f"unknown codemod or check id {cid!r} (see `optimize list`)")
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


# Findings are about the application at run time: a test asserts, a migration runs once.
UNCHECKED_ROLES = frozenset({"test", "migration"})


def select_checks(
    config: Config, only: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> list[type[Check] | type[IndexCheck]]:
    """The checks a scan runs: all of them, minus what `enable` / `disable` in the
    configuration and `--only` / `--exclude` leave out (ids are checked by
    `select_codemods`, which every run calls first)."""
    only = list(only or [])
    chosen = []
    for check in CHECKS:
        if only and check.ID not in only:
            continue
        if not only and (
            (config.enable is not None and check.ID not in config.enable) or check.ID in config.disable
        ):
            continue
        if check.ID in (exclude or []):
            continue
        chosen.append(check)
    return chosen


def _compiles(data: bytes, path: str, before: bytes) -> str | None:
    """Why the rewrite ``data`` of ``before`` is not valid code (None when it is): the
    running interpreter compiles it, unless it could not compile ``before`` either (a file
    written for a newer Python), whose rewrite LibCST re-parses and the interpreter compiles
    lowered to its own syntax (see `rewrite_compile_error`)."""
    return rewrite_compile_error(data, path, before)


def _cannot_create(
    root: Path, rel: str, current: Iterable[str], committed: CommittedTree | None = None
) -> str | None:
    """Why a codemod may not add the file ``rel`` (None when it may).

    A file already read is reused. Anything else already at that path, in the recorded
    commit or on disk (a file that was skipped, a symlink, even a dangling one), is never
    overwritten, and a new file never lands outside the repository or behind a symlinked
    directory: writing there would edit whatever the link points to."""
    if rel in current:
        return None
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return f"would create {rel}, outside the repository"
    for depth in range(1, len(pure.parts) + 1):
        here = PurePosixPath(*pure.parts[:depth])
        if root.joinpath(here).is_symlink() or (committed is not None and committed.is_symlink(here.as_posix())):
            return f"would create {rel} through the symlink {here}"
    if os.path.lexists(root / rel) or (committed is not None and rel in committed.entries):
        return f"would create {rel}, which exists but was not read"
    return None


def _syntax_skip(path: str, exc: Exception) -> Skip:
    if nested_too_deeply(exc):
        return Skip(path, TOO_DEEP)
    if isinstance(exc, cst.ParserSyntaxError):
        return Skip(path, f"syntax error at line {exc.raw_line}: not parsed")
    return Skip(path, f"cannot be parsed: {type(exc).__name__}")


@dataclass
class _Step:
    """What one codemod did to one file: the unit a worker hands back."""

    edit: FileEdit | None = None
    changes: list[Change] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    created: dict[str, bytes] = field(default_factory=dict)


@dataclass
class _FilePlan:
    """Every selected codemod's step on one file, in codemod order (None: not run)."""

    steps: list[_Step | None]
    skip: tuple[int, Skip] | None = None  # (codemod position, why) when it cannot be parsed
    parsed: bool = False
    findings: list[Finding] = field(default_factory=list)
    # The index's questions and their answers' digests (None: not recorded, or the plan
    # depends on more than the answers: the files a helper module may be created beside).
    questions: list | None = None
    touches_tree: bool = False
    ran: list[str] = field(default_factory=list)  # the codemods and checks that read its tree


@dataclass
class _Run:
    """What every file's planning shares; pickled once for the worker processes."""

    root: Path
    codemods: list[type[Codemod]]
    config: Config
    index: RepoIndex
    unsafe_allowed: bool
    known: frozenset[str]  # paths read by discovery (a codemod may reuse, never overwrite)
    committed: CommittedTree | None = None  # the recorded commit, for a run that writes
    checks: list[type[Check]] = field(default_factory=list)  # the checks that read a file's tree
    answers: Answers | None = None  # set when plans are recorded for reuse (a scan with a cache)


def _plan_file(run: _Run, path: str, source: bytes, first: int = 0) -> _FilePlan:
    """Run codemods ``first``.. over one file, each on the previous one's output.

    LibCST's code generation, metadata and visitors recurse once per nesting level: a
    valid file nested deeper than the recursion limit allows (a long elif chain, chained
    calls) is skipped whole, whichever step ran out, and the run goes on."""
    try:
        return _plan_codemods(run, path, source, first)
    except Exception as exc:  # only the recursion case is handled here
        if not nested_too_deeply(exc):
            raise
        return _FilePlan([None] * len(run.codemods), skip=(first, Skip(path, TOO_DEEP)))


def _plan_codemods(run: _Run, path: str, source: bytes, first: int) -> _FilePlan:
    result = _FilePlan([None] * len(run.codemods))
    # Planning a file as committed, a scan notes the questions put to the index, so that
    # a later scan can reuse this plan while their answers hold (`analyzers.recording`).
    recorder = RecordingIndex(run.answers, source) if run.answers is not None and first == 0 else None
    index: Any = recorder if recorder is not None else run.index
    try:
        _plan_steps(run, path, source, first, result, index)
    finally:
        if recorder is not None and not recorder.unrecordable and not result.touches_tree:
            result.questions = recorder.questions
    return result


def _plan_steps(run: _Run, path: str, source: bytes, first: int, result: _FilePlan, index: Any) -> None:
    tree: cst.Module | None = None
    wrapper: MetadataWrapper | None = None
    codes = _Codes()
    original = source  # positions are reported in its lines, whatever ran before
    formatted: bool | None = None  # whether black leaves ``original`` as it is, once asked
    in_tests = file_role(path) == "test" and not run.config.unsafe_in_tests
    ignored = run.config.ignored(path)
    # The checks read the file as committed, before any codemod: their lines are its lines.
    checks = (
        [c for c in run.checks if c.ID not in ignored and c.applies_to(path, source, index, run.config.options.get(c.ID))]
        if first == 0 and file_role(path) not in UNCHECKED_ROLES
        else []
    )
    applying = [
        position for position in range(first, len(run.codemods))
        if not (in_tests and run.codemods[position].SAFETY != SAFE)  # `unsafe-in-tests` to include
        and run.codemods[position].ID not in ignored  # `per-file-ignores`
        and run.codemods[position].applies_to(path, source, index, run.config.options.get(run.codemods[position].ID))
    ]
    # What the index alone decides is reported without the tree (`Codemod.refusals_without_tree`):
    # only on the file as committed, which the facts describe.
    decided = {
        position: found
        for position in applying
        if first == 0 and DECIDE_WITHOUT_TREE
        and (found := _refusals_without_tree(run, run.codemods[position], path, source, index)) is not None
    }
    # The tree holds only what the checks read and the codemods may edit when they all say
    # where (`optimize.spans`).
    reduction = _reduction(run, path, source, index, [run.codemods[p] for p in applying if p not in decided] + checks)
    if checks:
        if reduction is not None:
            try:
                tree = cst.parse_module(reduction.source)
            except Exception:  # noqa: BLE001 - the whole module says what is wrong
                reduction = None
            if tree is not None and codes.data(tree) != reduction.source:
                tree, reduction = None, None
        if tree is None:
            try:
                tree = cst.parse_module(source)
            except Exception as exc:  # LibCST raises several types for bad input
                result.skip = (0, _syntax_skip(path, exc))
                return
        result.parsed = True
        wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)  # a fresh parse shares no nodes
        result.findings = _run_checks(run, checks, path, wrapper, index, codes.text(tree))
        result.ran.extend(c.ID for c in checks)
    exact = tree is None or codes.data(tree) == (reduction.source if reduction is not None else source)
    for position in applying:
        codemod = run.codemods[position]
        if position in decided:
            if source == original:
                result.steps[position] = _Step(refusals=list(decided[position]))
                continue
            if reduction is not None:
                # An earlier codemod changed the file: this one reads it after all, and the
                # reduced module lacks its statements.
                reduction, wrapper = None, None
                try:
                    tree = cst.parse_module(source)
                except Exception as exc:  # LibCST raises several types for bad input
                    if nested_too_deeply(exc):
                        raise
                    result.skip = (position, _syntax_skip(path, exc))
                    return
                exact = codes.data(tree) == source
        if tree is None:
            if reduction is not None:
                try:
                    tree = cst.parse_module(reduction.source)
                except Exception:  # noqa: BLE001 - the whole module says what is wrong
                    reduction = None
            if tree is None:
                try:
                    tree = cst.parse_module(source)
                except Exception as exc:  # LibCST raises several types for bad input
                    result.skip = (position, _syntax_skip(path, exc))
                    return
            exact = codes.data(tree) == (reduction.source if reduction is not None else source)
            result.parsed = True
            wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
        if not exact:
            # e.g. a file with old Mac line endings loses its last one: a rewrite
            # would change bytes outside the edit, so the file is left alone.
            result.skip = (position, Skip(path, "not reproduced byte for byte by the parser: not rewritten"))
            return
        if wrapper is None:
            wrapper = MetadataWrapper(tree)
        tree = wrapper.module
        step = result.steps[position] = _Step()
        result.ran.append(codemod.ID)
        done = _transform(run, codemod, tree, path, index, wrapper, step, codes.text(tree))
        if done is None:
            continue
        spliced = None
        if reduction is not None and codes.text(done.tree) != codes.text(tree):
            spliced = spans.splice(source, codes.data(tree), codes.data(done.tree), reduction.emptied)
            if spliced is None:
                # The rewrite reaches beyond the statements kept: this codemod and the
                # rest see the whole module.
                reduction = None
                try:
                    tree = cst.parse_module(source)
                except Exception as exc:  # the emptied bodies may hold what LibCST cannot read
                    if nested_too_deeply(exc):
                        raise  # `_plan_file` skips the file
                    result.skip = (position, _syntax_skip(path, exc))
                    return
                if codes.data(tree) != source:
                    result.skip = (position, Skip(path, "not reproduced byte for byte by the parser: not rewritten"))
                    return
                wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
                done = _transform(run, codemod, tree, path, index, wrapper, step)
                if done is None:
                    continue
        to_origin = origin_position(original, source)
        step.refusals.extend(to_origin(r) for r in done.refusals)
        if spliced is not None:
            new_source, emptied = spliced
        else:
            new_source = codes.data(done.tree) if codes.text(done.tree) != codes.text(tree) else source
        if new_source == source:
            continue
        problem = _compiles(new_source, path, source)
        if problem is not None:
            step.refusals.append(
                Refusal(codemod.ID, path, 0, f"skipped: the rewrite would not compile ({problem}); file left unchanged")
            )
            continue
        if done.created_files:
            result.touches_tree = True  # what may be created depends on files beyond this one
        blocked = next(
            (why for why in (_cannot_create(run.root, p, run.known, run.committed) for p in done.created_files) if why), None
        )
        if blocked is not None:
            step.refusals.append(Refusal(codemod.ID, path, 0, f"skipped: {blocked}; file left unchanged"))
            continue
        if run.config.uses_black:
            if formatted is None:
                formatted = black_clean(run.root, original)
            new_source = black_reformat(run.root, new_source, formatted)
        elif run.config.uses_ruff_format or formats_with_ruff(run.root):
            new_source = ruff_reformat(run.root, path, source, new_source)
        if configures_ruff(run.root, run.config.uses_ruff):
            new_source = ruff_tidy(run.root, path, source, new_source)
        if spliced is not None and new_source == spliced[0]:
            tree, reduction = done.tree, spans.Reduction(codes.data(done.tree), emptied)
        else:  # black may have moved lines: the codemods after this one see the whole module
            reduction = None
            tree = done.tree if new_source == codes.data(done.tree) else cst.parse_module(new_source)
        wrapper = None  # the new tree may share nodes with the old one: metadata anew
        step.edit = FileEdit(path, source, new_source)
        step.changes.extend(to_origin(c) for c in done.changes)
        step.created = {p: text.encode() for p, text in done.created_files.items()}
        source = new_source


class _Codes:
    """Each tree's code, generated once: a file's plan compares and splices the same trees
    several times, and LibCST generates a module's code anew on every `code` / `bytes`
    (a fifth of planning a small application). Trees are held while their code is, so an
    id is never another tree's."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[cst.Module, str, bytes | None]] = {}

    def text(self, tree: cst.Module) -> str:
        kept = self._known.get(id(tree))
        if kept is None or kept[0] is not tree:
            kept = self._known[id(tree)] = (tree, tree.code, None)
        return kept[1]

    def data(self, tree: cst.Module) -> bytes:
        text = self.text(tree)
        kept = self._known[id(tree)]
        if kept[2] is None:
            kept = self._known[id(tree)] = (tree, text, text.encode(tree.encoding))
        return kept[2]  # type: ignore[return-value]


def _refusals_without_tree(run: _Run, codemod: type[Codemod], path: str, source: bytes, index: Any) -> list | None:
    """What ``codemod`` reports without the tree, or None: the tree is read when it cannot
    say, and when saying failed (a bug there, a module nested too deeply for a reader that
    recurses), which the tree then reports as it always did."""
    try:
        return codemod.refusals_without_tree(path, source, index, run.config.options.get(codemod.ID))
    except Exception:  # noqa: BLE001 - the tree's reading is the reference
        return None


def _transform(
    run: _Run, codemod: type[Codemod], tree: cst.Module, path: str, index: Any, wrapper, step: _Step,
    code: str | None = None,
):
    """``codemod`` run on ``tree`` (whose code is ``code``, when known); None (with the
    reason in ``step``) when it failed."""
    try:
        return run_codemod(
            codemod, tree, path, index=index, options=run.config.options.get(codemod.ID, {}),
            unsafe_allowed=run.unsafe_allowed, wrapper=wrapper, code=code,
        )
    except Exception as exc:  # a codemod bug must not stop the run or lose a file
        if nested_too_deeply(exc):
            raise  # the file, not the codemod: `_plan_file` skips it
        step.refusals.append(Refusal(codemod.ID, path, 0, f"skipped: internal error {type(exc).__name__}: {exc}"))
        return None


# Whether codemods that say where they edit see a reduced module (`optimize.spans`).
REDUCE_MODULES = True
# Whether what the index alone decides is reported without parsing (tests compare both).
DECIDE_WITHOUT_TREE = True


def _reduction(run: _Run, path: str, source: bytes, index: Any, readers: list[type[Codemod]]) -> "spans.Reduction | None":
    """The reduced module for the codemods and checks ``readers``, when every one of them
    says where it reads and edits."""
    if not REDUCE_MODULES or not readers:
        return None
    keep: set[int] = set()
    for codemod in readers:
        lines = codemod.candidate_lines(path, index, run.config.options.get(codemod.ID))
        if lines is None:
            return None
        keep |= lines
    return spans.reduce(source, frozenset(keep))


def _run_checks(
    run: _Run, checks: list[type[Check]], path: str, wrapper: MetadataWrapper, index: Any, code: str | None = None
) -> list[Finding]:
    findings: list[Finding] = []
    for check in checks:
        try:
            done = run_codemod(
                check, wrapper.module, path, index=index, options=run.config.options.get(check.ID, {}), wrapper=wrapper,
                code=code,
            )
        except Exception as exc:  # a check's bug must not stop the run
            if nested_too_deeply(exc):
                raise  # the file, not the check: `_plan_file` skips it
            findings.append(Finding(check.ID, path, 0, f"not checked: internal error {type(exc).__name__}: {exc}", ""))
            continue
        findings.extend(done.findings)
    return findings


def plan_one_file(run: _Run, item: tuple[str, bytes]) -> _FilePlan:
    """A worker's unit of work (see `optimize.workers`)."""
    return _plan_file(run, *item)


# Below this much source to parse, starting processes costs more than it saves.
_PARALLEL_MIN_BYTES = 256_000
# A worker starts by unpickling the run, the whole index with it: on the corpus copied four
# times, 40 MB and two seconds before its first file, to plan 300 kB of source in eight
# files that this process plans in four. Workers start only when the pickled run is at
# most this many times the source to plan.
_SHIPPING_RATIO = 50
# This process plans files beside the workers (one fewer is started): each worker holds a
# copy of the whole index, the largest part of a run's memory on a big repository.
PLAN_HERE = True


def _selected(run: _Run, path: str, source: bytes, index: Any) -> bool:
    """Whether any codemod, or any check that reads trees, may have something in the file."""
    options = run.config.options
    return any(c.applies_to(path, source, index, options.get(c.ID)) for c in run.codemods) or (
        file_role(path) not in UNCHECKED_ROLES
        and any(c.applies_to(path, source, index, options.get(c.ID)) for c in run.checks)
    )


def _plan_files(run: _Run, items: list[tuple[str, bytes]], jobs: int | None) -> list[_FilePlan]:
    """Every file's plan: in worker processes when there is enough to do, the biggest
    files first so that no worker is left with a long tail; the answers are the same."""
    jobs = default_jobs() if jobs is None else jobs
    answers: list[_FilePlan | None] = [None] * len(items)
    step = progress.phase("planning files", len(items))
    total = sum(len(source) for _, source in items)
    if jobs > 1 and len(items) > 1 and total >= _PARALLEL_MIN_BYTES:
        try:
            shared = pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError, RecursionError):
            shared = None  # e.g. a codemod class defined inside a function: plan here
        if shared is not None and total * _SHIPPING_RATIO < len(shared):
            shared = None  # unpickling the index would cost a worker more than it plans
        if shared is not None:
            order = sorted(range(len(items)), key=lambda i: -len(items[i][1]))
            here = (lambda item: _plan_file(run, *item)) if PLAN_HERE else None
            for i, answer in zip(order, map_in_workers(shared, [items[i] for i in order], jobs, on_done=step.advance, here=here)):
                answers[i] = answer
    planned = []
    for i, answer in enumerate(answers):
        if answer is None:
            answer = _plan_file(run, *items[i])
            step.advance()
        planned.append(answer)
    return planned


def plan(
    root: Path,
    codemods: list[type[Codemod]],
    config: Config,
    *,
    tracked_only: bool = False,
    unsafe_allowed: bool | None = None,
    index_cache: dict | None = None,
    overrides: dict[str, bytes] | None = None,
    jobs: int | None = None,
    only_paths: Iterable[str] | None = None,
    committed: CommittedTree | None = None,
    checks: Iterable[type[Check] | type[IndexCheck]] = (),
    cache: Cache | None = None,
    reuse_plan: bool = False,
    reading: Reading | None = None,
) -> Plan:
    """Compute every codemod's edits without writing anything.

    ``unsafe_allowed`` lets safe codemods make their unsafe-tier changes; by default
    that follows whether any unsafe codemod was selected. ``jobs`` is the number of
    processes that parse and rewrite files (default: ``jobs`` from the configuration, else
    one per available CPU); the plan is the same whatever it is. ``only_paths`` limits the
    files codemods run on (the index still reads every file). With ``committed`` (a run
    that writes), every file is read from the recorded commit, not the working tree.
    ``cache`` keeps each file's facts between runs; with ``reuse_plan`` (a scan), also the
    whole plan, used again only when every input it was made from is the same.
    ``reading``: the files and facts `optimize.reading` found for the same arguments.
    """
    root = root.resolve()
    if reading is not None and not reading.made_for(root, tracked_only, committed):
        raise ValueError("plan: the reading was made for another root or commit")
    if reading is None:
        reading = Reading.discover(root, config, tracked_only=tracked_only, committed=committed)
    files, skips = reading.files, list(reading.skips)
    if unsafe_allowed is None:
        unsafe_allowed = any(c.SAFETY != SAFE for c in codemods)
    current: dict[str, bytes] = {f.path: f.data for f in files}
    current.update(overrides or {})  # contents chosen earlier in the run (interactive review)
    checks = list(checks)
    projects = project_files(root, committed)
    plan_key = None
    if cache is not None and reuse_plan:
        plan_key = reuse.plan_key(
            cache, root, current, projects, skips, config, [c.ID for c in codemods], [c.ID for c in checks],
            unsafe_allowed, only_paths,
        )
        reused = cache.load_scan(plan_key)
        if isinstance(reused, Plan):
            reused.from_cache = True
            reused.files_parsed = reused.files_reused = 0  # this run parsed nothing
            reused.parsed_by = {}
            return reused
    index_cache = reading.read_facts(cache, jobs or config.jobs, into=index_cache)
    read_facts({p: current[p] for p in overrides or {}}, index_cache, jobs or config.jobs)
    index = RepoIndex.build(current, projects, cache=index_cache, sql_dialect=config.sql_dialect)
    if cache is not None:
        cache.save_facts(index_cache, {RepoIndex.cache_key(p, d) for p, d in current.items()})
    # Files Python cannot parse are reported once and never handed to a codemod.
    skips.extend(Skip(path, reason) for path, reason in sorted(index.unparsable.items()))
    tree_checks = [c for c in checks if issubclass(c, Check)]
    run = _Run(root, list(codemods), config, index, unsafe_allowed, frozenset(current), committed, tree_checks)
    chosen = None if only_paths is None else set(only_paths)
    # A scan reuses the plans of files whose bytes and answers are unchanged.
    keeping = cache if plan_key is not None and cache is not None and cache.directory is not None else None
    planned, reused = _plan_selected(run, current, chosen, keeping, jobs or config.jobs)
    result = _merge(run, current, planned, skips, files_scanned=len(files))
    result.files_reused = reused
    found = [f for p in planned.values() for f in p.findings]
    for check in checks:
        if issubclass(check, IndexCheck):
            found.extend(
                f for f in check(index, current, config.options.get(check.ID, {})).run()
                if (chosen is None or f.path in chosen) and file_role(f.path) not in UNCHECKED_ROLES
                and check.ID not in config.ignored(f.path)
            )
    # A finding that weighs more (a column filtered in more places) comes first.
    result.findings = sorted(found, key=lambda f: (-f.weight, f.path, f.line, f.check))
    if plan_key is not None:
        cache.save_scan(plan_key, reuse.as_kept(result))  # type: ignore[union-attr]
    return result


def _plan_selected(
    run: _Run, current: dict[str, bytes], chosen: set[str] | None, cache: Cache | None, jobs: int | None
) -> tuple[dict[str, _FilePlan], int]:
    """The plan of every file a codemod or check may have something in, and how many of
    them were read back from ``cache`` (given for a scan: each file's plan is kept there
    with the questions it asked, and reused while its bytes and every answer hold)."""
    index = run.index
    results = cache.load_results() if cache is not None else None
    keys = {p: RepoIndex.cache_key(p, d) for p, d in current.items()}
    if cache is not None:
        run.answers = Answers(index, keys)
        static = cache.scan_key(
            "file-plans", str(run.root), repr(run.config), [c.ID for c in run.codemods], [c.ID for c in run.checks],
            run.unsafe_allowed,
        )
    kept: dict[str, tuple] = {}
    reused: dict[str, _FilePlan] = {}
    items: list[tuple[str, bytes]] = []
    for path, source in current.items():
        if (chosen is not None and path not in chosen) or path in index.unparsable:
            continue
        if cache is not None:
            entry_key = cache.scan_key(static, keys[path])
            entry = results.get(entry_key)  # type: ignore[union-attr]
            if entry is not None and run.answers.hold(entry[0], source):  # type: ignore[union-attr]
                kept[entry_key] = entry
                if entry[1] is not None:
                    reused[path] = replace(entry[1], parsed=False)
                continue
            recorder = RecordingIndex(run.answers, source)  # type: ignore[arg-type]
            if not _selected(run, path, source, recorder):
                if not recorder.unrecordable:
                    kept[entry_key] = (recorder.questions, None)
                continue
        elif not _selected(run, path, source, index):
            continue
        items.append((path, source))
    fresh = dict(zip((path for path, _ in items), _plan_files(run, items, jobs)))
    if cache is not None:
        for path, file_plan in fresh.items():
            if file_plan.questions is not None:
                kept[cache.scan_key(static, keys[path])] = (file_plan.questions, replace(file_plan, questions=None))
        cache.save_results(kept)
    planned = {path: reused.get(path) or fresh[path] for path in current if path in reused or path in fresh}
    return planned, len(reused)


def _merge(
    run: _Run, current: dict[str, bytes], planned: dict[str, _FilePlan], skips: list[Skip], files_scanned: int
) -> Plan:
    """Put per-file steps into codemod order: one outcome per codemod, with the files in
    discovery order, then the files earlier codemods created (which later ones also see)."""
    originals = [path for path in current if path in planned]
    created: list[tuple[int, str]] = []  # (creating codemod position, path), in creation order
    outcomes: list[Outcome] = []
    parse_skips: list[Skip] = []
    for position, codemod in enumerate(run.codemods):
        outcome = Outcome(codemod)
        for path in [*originals, *(path for k, path in created if k < position)]:
            file_plan = planned.get(path)
            if file_plan is None:  # created by an earlier codemod: planned from here on
                file_plan = planned[path] = _plan_file(run, path, current[path], position)
            if file_plan.skip is not None and file_plan.skip[0] == position:
                parse_skips.append(file_plan.skip[1])
            step = file_plan.steps[position]
            if step is None:
                continue
            outcome.refusals.extend(step.refusals)
            if step.edit is None:
                continue
            current[path] = step.edit.after
            outcome.edits.append(step.edit)
            outcome.changes.extend(step.changes)
            for new_path, data in step.created.items():
                if new_path in current:
                    continue  # never overwrite: the helper already exists
                current[new_path] = data
                created.append((position, new_path))
                outcome.edits.append(FileEdit(new_path, None, data))
        outcomes.append(outcome)
    parsed = [file_plan for file_plan in planned.values() if file_plan.parsed]
    by = Counter(i for file_plan in parsed for i in file_plan.ran)
    return Plan(
        run.root, outcomes, [*skips, *parse_skips], files_scanned=files_scanned, files_parsed=len(parsed),
        parsed_by=dict(sorted(by.items())),
    )
