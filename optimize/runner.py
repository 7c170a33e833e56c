"""What each command does, between the CLI (arguments) and the engine and git (work)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from optimize import git
from optimize.config import Config, load_config
from optimize.engine import Outcome, Plan, plan, select_codemods
from optimize.errors import OptimizeError
from optimize.messages import commit_message


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


def make_plan(target: Target, selection: Selection, *, tracked_only: bool = False) -> Plan:
    codemods = select_codemods(
        target.config, selection.only, selection.exclude, selection.unsafe_fixes
    )
    unsafe_allowed = selection.unsafe_fixes or bool(selection.only)
    return plan(
        target.root, codemods, target.config, tracked_only=tracked_only, unsafe_allowed=unsafe_allowed
    )


def scan_plan(target: Target, selection: Selection) -> Plan:
    """Everything every codemod would do (unsafe ones included, marked by tier)."""
    codemods = select_codemods(target.config, selection.only, selection.exclude, unsafe_fixes=True)
    return plan(target.root, codemods, target.config, unsafe_allowed=True)


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
) -> ApplyResult:
    """Plan on the committed files, then land one commit per codemod atomically.

    With ``verify``, the command runs on the untouched tree first, then after each commit;
    a commit that makes it fail is dropped."""
    repo = target.repo
    git.check_ready(repo, author=author)
    if verify:
        from optimize.verify import Verification, log_path

        check = Verification(verify, verify_timeout, log_path(repo), target.prefix)
        check.baseline(repo, allow_failing_baseline)
        verifier = check.verifier()
    result = make_plan(target, selection, tracked_only=True)
    outcomes = result.changed
    if not outcomes:
        return ApplyResult(result, [], [])
    landed, dropped = git.land(
        repo,
        commit_specs(target, outcomes),
        no_verify=no_verify,
        author=author,
        verifier=verifier,
        before_each=before_each,
    )
    return ApplyResult(result, landed, dropped)


def apply_reviewed(target: Target, outcomes: list[Outcome], *, no_verify: bool = False, author: str | None = None):
    """Land outcomes chosen by interactive review: one commit per codemod, atomically."""
    git.check_ready(target.repo, author=author)
    if not outcomes:
        return [], []
    return git.land(target.repo, commit_specs(target, outcomes), no_verify=no_verify, author=author)


def log(target: Target) -> list[git.LoggedCommit]:
    return git.optimisation_commits(target.repo)


def revert(
    target: Target, ids: list[str], *, all_: bool = False, no_verify: bool = False, author: str | None = None
) -> list[git.LoggedCommit]:
    """Revert the live optimisation commits of ``ids`` (or all), newest first."""
    repo = target.repo
    git.check_ready(repo, author=author)
    live = [c for c in git.optimisation_commits(repo) if c.reverted_by is None]
    if all_:
        chosen = live
    else:
        from optimize.codemods.registry import by_id

        unknown = [i for i in ids if i not in by_id() and i not in {c.codemod for c in live}]
        if unknown:
            raise OptimizeError(f"unknown codemod id {unknown[0]!r} (see `optimize list`)")
        chosen = [c for c in live if c.codemod in ids]
    if not chosen:
        return []
    base = repo.head.commit.hexsha
    head = git.build_reverts(repo, chosen, no_verify=no_verify, author=author)
    git.move_branch(repo, base, head)
    return chosen
