"""`optimize pr`: the optimisation commits on a branch of their own, pushed, with a
pull-request description; the user's checked-out branch and working tree are never touched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from optimize import git
from optimize.errors import GitError, OptimizeError
from optimize.reports.pr_body import pr_body, pr_title
from optimize.runner import Selection, Target, begin_writing, commit_specs, make_plan
from optimize.runner import verification as start_verification

_SECRETS = ("GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN")


@dataclass
class PrResult:
    branch: str
    head: str
    landed: list
    dropped: list
    body_file: Path
    pushed: bool
    url: str | None


def _scrub(text: str) -> str:
    for name in _SECRETS:
        value = os.environ.get(name)
        if value:
            text = text.replace(value, "***")
    return text


def default_branch(repo) -> str:
    return f"optimize/{time.strftime('%Y%m%d')}-{repo.head.commit.hexsha[:7]}"


def create_pr(
    target: Target,
    selection: Selection,
    *,
    branch: str | None = None,
    remote: str = "origin",
    push: bool = True,
    open_pr: bool = False,
    body_file: Path | None = None,
    no_verify: bool = False,
    author: str | None = None,
    verify: str | None = None,
    verify_timeout: float = 600,
    allow_failing_baseline: bool = False,
) -> PrResult:
    repo = target.repo
    # The branch is built from the commit HEAD is at now, read from git's blobs: a local
    # edit (even one git status hides, as skip-worktree does) is never pushed.
    target, committed = begin_writing(target, author=author)
    branch = branch or default_branch(repo)
    git.check_branch_name(repo, branch)
    current = None if repo.head.is_detached else repo.active_branch.name
    if branch == current:
        raise OptimizeError(f"--branch {branch} is the checked-out branch: choose another name")
    if push and remote not in [r.name for r in repo.remotes]:
        raise OptimizeError(f"no remote named {remote!r}: add it, pass --remote, or use --no-push")
    # Checked before any work, so that a teammate's branch is refused at once; the lease
    # then makes every update conditional on the branch still being where it was checked.
    lease = git.claim_branch(repo, branch, committed.snapshot.base, remote if push else None)
    verifier, verification = None, None
    if verify:
        verifier = start_verification(target, committed, verify, verify_timeout, allow_failing_baseline)
    plan = make_plan(target, selection, committed=committed)
    if not plan.changed:
        raise OptimizeError("nothing to change: no pull request created")
    head, landed, dropped = git.build_commits(
        repo, commit_specs(target, plan.changed), base=committed.snapshot.base, no_verify=no_verify,
        author=author, verifier=verifier,
    )
    if not landed:
        raise OptimizeError("every commit was dropped: " + "; ".join(f"{d.key}: {d.reason}" for d in dropped))
    if verify:
        verification = f"`{verify}` passed after every kept commit" + (
            f"; dropped: {', '.join(d.key for d in dropped)}" if dropped else ""
        )
    git.set_branch(repo, lease, head)
    pushed = False
    if push:
        try:
            git.push_branch(repo, lease, head)
        except GitError as exc:
            raise OptimizeError(f"push to {remote} failed: {exc}; {_where_commits_are(lease)}") from None
        pushed = True
    title = pr_title([o for o in plan.changed if o.codemod.ID in {l.key for l in landed}])
    body = pr_body(plan, landed, dropped, target.prefix, verification)
    if body_file is None:
        area = Path(repo.common_dir) / "optimize"
        area.mkdir(parents=True, exist_ok=True)
        body_file = area / f"pr-{re.sub(r'[^A-Za-z0-9._-]+', '-', branch)}.md"
    body_file = Path(body_file)
    body_file.write_text(f"# {title}\n\n{body}", encoding="utf-8")
    url = open_pull_request(target.root, branch, current or "main", title, body_file) if open_pr else None
    return PrResult(branch, head, landed, dropped, body_file, pushed, url)


def _where_commits_are(lease: git.BranchLease) -> str:
    """After a failed push the commits are only local: say which branch holds them, and
    whether it is one this run made (so the user knows it exists, to push or delete)."""
    if lease.local is None:
        return f"the commits are on local branch {lease.name}, created by this run"
    return f"the commits are on local branch {lease.name}, which was at {lease.local[:10]} before this run"


def open_pull_request(cwd: Path, branch: str, base: str, title: str, body_file: Path) -> str:
    """Create or update the pull request with the GitHub CLI."""
    gh = shutil.which("gh")
    if gh is None:
        raise OptimizeError("--open needs the GitHub CLI (gh); the branch is pushed and the body is written")
    if subprocess.run([gh, "auth", "status"], cwd=cwd, capture_output=True).returncode != 0:
        raise OptimizeError("gh is not authenticated (run `gh auth login`); the branch is pushed and the body is written")
    exists = subprocess.run([gh, "pr", "view", branch, "--json", "number"], cwd=cwd, capture_output=True).returncode == 0
    if exists:
        args = [gh, "pr", "edit", branch, "--title", title, "--body-file", str(body_file)]
    else:
        args = [gh, "pr", "create", "--title", title, "--body-file", str(body_file), "--base", base, "--head", branch]
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise OptimizeError(f"gh failed: {_scrub((done.stderr or done.stdout).strip().splitlines()[-1] if (done.stderr or done.stdout).strip() else 'no output')}")
    return _scrub(done.stdout.strip())
