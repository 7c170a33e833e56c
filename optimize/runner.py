"""What each command does, between the CLI (arguments) and the engine and git (work)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from optimize import git
from optimize.cache import Cache
from optimize.config import CONFIG_FILES, Config, load_config
from optimize import interrupts, reading, reuse
from optimize.errors import OptimizeError
from optimize.files import CommittedTree
from optimize.messages import commit_message
from optimize.results import Outcome, Plan


@dataclass
class Selection:
    only: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    unsafe_fixes: bool = False


@dataclass
class Target:
    """The directory the user pointed at, and the repository around it (if any)."""

    root: Path
    config: Config
    repo: object | None = None
    prefix: str = ""  # root relative to the repository top, with a trailing "/"

    @classmethod
    def open(cls, path: Path, *, need_repo: bool) -> "Target":
        root = Path(path).expanduser()
        if not root.exists():
            raise OptimizeError(f"{path}: no such directory")
        if not root.is_dir():
            raise OptimizeError(f"{path}: not a directory")
        root = root.resolve()
        repo = git.open_repo(root) if (need_repo or git.is_repo(root)) else None
        prefix = ""
        if repo is not None:
            top = git.top_level(repo)
            rel = root.relative_to(top).as_posix()
            prefix = "" if rel == "." else rel + "/"
        return cls(root, load_config(root), repo, prefix)


def begin_writing(target: Target, *, author: str | None = None) -> tuple[Target, CommittedTree]:
    """Start a run that commits: record HEAD once, refuse a repository that is not ready,
    and read the configuration and the tree from that commit. Everything the run plans,
    builds and lands afterwards goes from this one commit."""
    snapshot = git.Snapshot.take(target.repo)
    git.check_ready(target.repo, author=author)
    committed = CommittedTree.read(snapshot, target.prefix)
    config = load_config(target.root, committed_config_files(snapshot, target.prefix), from_commit=True)
    return replace(target, config=config), committed


def committed_config_files(snapshot: git.Snapshot, prefix: str) -> list[tuple[int, str, bytes]]:
    """The configuration's candidate files in the recorded commit, as `config.config_files`
    lists those of the working tree: from ``prefix`` up to the repository's top."""
    whole = CommittedTree.read(snapshot, "")
    parts = prefix.rstrip("/").split("/") if prefix else []
    wanted = []
    for depth in range(len(parts) + 1):
        directory = "/".join(parts[: len(parts) - depth])
        for name in CONFIG_FILES:
            path = f"{directory}/{name}" if directory else name
            if path in whole.entries and not whole.is_symlink(path) and whole.entries[path].mode.startswith("100"):
                wanted.append((depth, name, path))
    found = whole.blobs([path for _, _, path in wanted])
    return [(depth, name, found[path]) for depth, name, path in wanted]


def _read(
    target: Target, cache: Cache, *, tracked_only: bool = False, committed: CommittedTree | None = None,
    index_cache: dict | None = None,
):
    """The files and their facts, read in workers while this process loads the engine,
    LibCST and the codemods (`optimize.reading`); and the engine."""
    found = reading.Reading.discover(target.root, target.config, tracked_only=tracked_only, committed=committed)
    found.read_facts(cache, target.config.jobs, into=index_cache, meanwhile=_load_engine)
    return found, _load_engine()


def _load_engine():
    with interrupts.deferred():  # a second at most (`optimize.interrupts` says why)
        return importlib.import_module("optimize.engine")


def make_plan(
    target: Target, selection: Selection, *, tracked_only: bool = False, committed: CommittedTree | None = None,
    index_cache: dict | None = None, use_cache: bool = True,
) -> Plan:
    cache = Cache.open(target.root, enabled=use_cache)
    found, engine = _read(target, cache, tracked_only=tracked_only, committed=committed, index_cache=index_cache)
    codemods = engine.select_codemods(
        target.config, selection.only, selection.exclude, selection.unsafe_fixes
    )
    unsafe_allowed = selection.unsafe_fixes or bool(selection.only)
    result = engine.plan(
        target.root, codemods, target.config, tracked_only=tracked_only, unsafe_allowed=unsafe_allowed,
        committed=committed, index_cache=index_cache, cache=cache, reading=found,
    )
    if not unsafe_allowed:
        result.hidden_unsafe = _hidden_unsafe(target, selection, codemods, result, use_cache)
    return result


def _hidden_unsafe(target: Target, selection: Selection, codemods: list, result: Plan, use_cache: bool) -> int:
    """How many more changes `--unsafe-fixes` would make (ruff's "hidden fixes"): the safe
    codemods' changes refused for their tier, and the unsafe codemods' changes in the last
    scan's result when nothing it was made from has changed since (planning them here only
    to count them would double the run). Without such a scan they are not counted."""
    from optimize.codemods.base import UNSAFE_REFUSAL

    hidden = sum(1 for r in result.refusals if r.reason.startswith(UNSAFE_REFUSAL))
    kept = reuse.reused_scan(target.root, list(selection.only), list(selection.exclude)) if use_cache else None
    if kept is not None:
        ran = {c.ID for c in codemods}
        hidden += sum(1 for o in kept[0].outcomes if o.codemod.ID not in ran for _ in o.changes)
    return hidden


def scan_plan(target: Target, selection: Selection, *, use_cache: bool = True) -> Plan:
    """Everything every codemod would do (unsafe ones included, marked by tier)."""
    cache = Cache.open(target.root, enabled=use_cache)
    found, engine = _read(target, cache)
    codemods = engine.select_codemods(target.config, selection.only, selection.exclude, unsafe_fixes=True)
    checks = engine.select_checks(target.config, selection.only, selection.exclude)
    result = engine.plan(
        target.root, codemods, target.config, unsafe_allowed=True, checks=checks, cache=cache, reuse_plan=True,
        reading=found,
    )
    # What the next scan needs to find this result without the registry (`optimize.reuse`).
    front = reuse.Front(
        target.config, target.prefix, tuple(c.ID for c in codemods), tuple(c.ID for c in checks), True
    )
    reuse.keep_front(cache, target.root, selection.only, selection.exclude, front)
    return result


def commit_specs(target: Target, outcomes: list[Outcome]) -> list[git.CommitSpec]:
    specs = []
    for outcome in outcomes:
        files = {target.prefix + e.path: e.after for e in outcome.edits}
        specs.append(git.CommitSpec(outcome.codemod.ID, commit_message(outcome, target.prefix), files))
    return specs


@dataclass
class ApplyResult:
    plan: Plan
    landed: list[git.Landed]
    dropped: list[git.Dropped]


def apply(
    target: Target,
    selection: Selection,
    *,
    no_verify: bool = False,
    author: str | None = None,
    verifier=None,
    before_each=None,
    verify: str | None = None,
    verify_timeout: float = 600,
    allow_failing_baseline: bool = False,
    index_cache: dict | None = None,
    use_cache: bool = True,
) -> ApplyResult:
    """Plan on the files of the commit HEAD is at when the run starts, then land one commit
    per codemod atomically on that commit.

    With ``verify``, the command runs on the untouched tree first, then after each commit;
    a commit that makes it fail is dropped."""
    repo = target.repo
    target, committed = begin_writing(target, author=author)
    if verify:
        verifier = verification(target, committed, verify, verify_timeout, allow_failing_baseline)
    # index_cache: per-file facts by content hash, kept by a caller that plans again.
    result = make_plan(target, selection, committed=committed, index_cache=index_cache, use_cache=use_cache)
    outcomes = result.changed
    if not outcomes:
        return ApplyResult(result, [], [])
    landed, dropped = git.land(
        repo,
        committed.snapshot,
        commit_specs(target, outcomes),
        no_verify=no_verify,
        author=author,
        verifier=verifier,
        before_each=before_each,
    )
    return ApplyResult(result, landed, dropped)


def verification(
    target: Target, committed: CommittedTree, command: str, timeout: float, allow_failing_baseline: bool
):
    """``--verify``: run the command on the recorded commit first (a failing baseline
    stops the run), and return the check to run after each commit."""
    from optimize.verify import Verification, log_path

    check = Verification(command, timeout, log_path(target.repo), target.prefix)
    check.baseline(target.repo, allow_failing_baseline, base=committed.snapshot.base)
    return check.verifier()


def apply_reviewed(
    target: Target, committed: CommittedTree, outcomes: list[Outcome], *, no_verify: bool = False,
    author: str | None = None, verifier=None,
):
    """Land outcomes chosen by interactive review (planned on ``committed``): one commit
    per codemod, atomically."""
    if not outcomes:
        return [], []
    return git.land(
        target.repo, committed.snapshot, commit_specs(target, outcomes), no_verify=no_verify, author=author,
        verifier=verifier,
    )


def log(target: Target) -> list[git.LoggedCommit]:
    return git.optimisation_commits(target.repo)


def revert(
    target: Target, ids: list[str], *, all_: bool = False, no_verify: bool = False, author: str | None = None
) -> list[git.LoggedCommit]:
    """Revert the live optimisation commits of ``ids`` (or all), newest first."""
    repo = target.repo
    snapshot = git.Snapshot.take(repo)
    git.check_ready(repo, author=author)
    live = [c for c in git.optimisation_commits(repo) if c.reverted_by is None]
    if all_:
        chosen = live
    else:
        from optimize.codemods.registry import by_id

        unknown = [i for i in ids if i not in by_id() and not any(i in c.codemods for c in live)]
        if unknown:
            raise OptimizeError(f"unknown codemod id {unknown[0]!r} (see `optimize list`)")
        chosen = commits_to_revert(live, ids)
    if not chosen:
        return []
    head = git.build_reverts(repo, chosen, no_verify=no_verify, author=author, base=snapshot.base)
    git.move_branch(repo, snapshot, head)
    return chosen


def commits_to_revert(live: list[git.LoggedCommit], ids: list[str]) -> list[git.LoggedCommit]:
    """The live commits that carry the codemods ``ids``. A commit that carries several (a
    squash merge) can only be reverted whole, so naming some of them is refused: reverting
    it would also undo the codemods not named."""
    chosen = []
    for commit in live:
        named = [c for c in commit.codemods if c in ids]
        if not named:
            continue
        if len(named) < len(commit.codemods):
            raise OptimizeError(
                f"commit {commit.sha[:10]} carries {', '.join(commit.codemods)} together (a squash merge): "
                f"name all of them to revert it: optimize revert {' '.join(commit.codemods)}"
            )
        chosen.append(commit)
    return chosen
