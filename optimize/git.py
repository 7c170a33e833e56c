"""Every git operation `optimize` performs, and nothing else.

Commits are made in a private, detached worktree (under `.git/optimize/`) that the user's
checkout cannot see. Only when every commit exists does the user's branch move, with
`git reset --keep`, which refuses rather than overwrite a local change. Whatever fails
before that point, the user's branch, index and working tree are as they were.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import git as gitpython
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from optimize.errors import GitError, redact

TRAILER_CODEMOD = "Optimize-Codemod"
TRAILER_VERSION = "Optimize-Version"
TRAILER_REVERTS = "Optimize-Reverts"
_WORKTREE_PREFIX = "wt-"


# --- reading -------------------------------------------------------------------------------


def is_repo(path: Path) -> bool:
    try:
        gitpython.Repo(path, search_parent_directories=True)
        return True
    except (InvalidGitRepositoryError, NoSuchPathError):
        return False


def open_repo(path: Path) -> gitpython.Repo:
    try:
        return gitpython.Repo(path, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise GitError(
            f"{path} is not inside a git repository: `optimize apply --dry-run` works anywhere"
        ) from None


def top_level(repo: gitpython.Repo) -> Path:
    if repo.working_tree_dir is None:
        raise GitError("bare repositories have no working tree to optimize")
    return Path(repo.working_tree_dir).resolve()


def list_files(root: Path, untracked: bool = True) -> list[str]:
    """Files under ``root`` that git tracks (and, optionally, untracked-not-ignored ones),
    relative to ``root``. Submodules are not entered."""
    args = ["-z", "--cached"]
    if untracked:
        args += ["--others", "--exclude-standard"]
    try:
        out = gitpython.Git(str(root)).ls_files(*args, "--", ".")
    except GitCommandError as exc:
        raise GitError(f"git ls-files failed: {_last_line(exc)}") from None
    return sorted({p for p in out.split("\0") if p})


def _last_line(exc: GitCommandError) -> str:
    text = (exc.stderr or exc.stdout or str(exc)).strip()
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    msg = lines[-1] if lines else str(exc)
    return msg.removeprefix("stderr: ").strip("'")


def has_commits(repo: gitpython.Repo) -> bool:
    try:
        repo.head.commit
        return True
    except ValueError:
        return False


def dirty_paths(repo: gitpython.Repo) -> list[str]:
    """Tracked files with staged or unstaged changes (untracked files are not ours)."""
    out = repo.git.status("--porcelain", "-z", "--untracked-files=no")
    entries = [e for e in out.split("\0") if e]
    return sorted({e[3:] for e in entries if len(e) > 3})


def in_progress_operation(repo: gitpython.Repo) -> str | None:
    gitdir = Path(repo.git_dir)
    for marker, name in (
        ("MERGE_HEAD", "a merge"),
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase or am"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
        ("REVERT_HEAD", "a revert"),
        ("BISECT_LOG", "a bisect"),
    ):
        if (gitdir / marker).exists():
            return name
    return None


def check_ready(repo: gitpython.Repo, *, author: str | None = None) -> None:
    """Refuse, with one clear line, a repository we must not commit into."""
    if repo.bare:
        raise GitError("bare repositories have no working tree to optimize")
    if not has_commits(repo):
        raise GitError("the repository has no commits yet: commit your code first (or use --dry-run)")
    operation = in_progress_operation(repo)
    if operation:
        raise GitError(f"{operation} is in progress: finish or abort it first")
    if (Path(repo.git_dir) / "index.lock").exists():
        raise GitError(
            f"{Path(repo.git_dir) / 'index.lock'} exists: another git process may be running; "
            "if none is, remove the file"
        )
    dirty = dirty_paths(repo)
    if dirty:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise GitError(f"uncommitted changes in {shown}: commit or stash them first (or use --dry-run)")
    if author is None:
        reader = repo.config_reader()
        name = reader.get_value("user", "name", default="") or os.environ.get("GIT_AUTHOR_NAME")
        email = reader.get_value("user", "email", default="") or os.environ.get("GIT_AUTHOR_EMAIL")
        if not name or not email:
            raise GitError(
                "git user.name/user.email are not configured: set them "
                "(git config user.name ...) or pass --author 'Name <email>'"
            )


# --- the private worktree -------------------------------------------------------------------


def _work_area(repo: gitpython.Repo) -> Path:
    return Path(repo.common_dir) / "optimize"


def clean_leftovers(repo: gitpython.Repo) -> list[str]:
    """Remove worktrees left by runs that were killed; returns what was removed."""
    area = _work_area(repo)
    removed = []
    if area.is_dir():
        for entry in area.iterdir():
            if not entry.name.startswith(_WORKTREE_PREFIX):
                continue
            pid = entry.name[len(_WORKTREE_PREFIX):].split("-")[0]
            if pid.isdigit() and _alive(int(pid)):
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    try:
        repo.git.worktree("prune")
    except GitCommandError:
        pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def private_worktree(repo: gitpython.Repo, base: str) -> Iterator[Path]:
    """A detached worktree at ``base``, removed afterwards whatever happens."""
    clean_leftovers(repo)
    area = _work_area(repo)
    area.mkdir(parents=True, exist_ok=True)
    path = area / f"{_WORKTREE_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        repo.git.worktree("add", "--detach", "--quiet", str(path), base)
    except GitCommandError as exc:
        shutil.rmtree(path, ignore_errors=True)
        raise GitError(f"cannot create a private worktree: {_last_line(exc)}") from None
    try:
        yield path
    finally:
        try:
            repo.git.worktree("remove", "--force", str(path))
        except GitCommandError:
            shutil.rmtree(path, ignore_errors=True)
            try:
                repo.git.worktree("prune")
            except GitCommandError:
                pass


# --- writing commits -------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitSpec:
    """One commit to make: the files to write (path relative to the repository top ->
    bytes) and the message."""

    key: str
    message: str
    files: dict[str, bytes]


@dataclass(frozen=True)
class Landed:
    key: str
    sha: str


@dataclass(frozen=True)
class Dropped:
    key: str
    reason: str  # may quote a hook's or check's output: credentials are masked

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", redact(self.reason))


# Called after each commit in the worktree; returns None to keep it or a reason to drop it.
Verifier = Callable[[Path, CommitSpec], "str | None"]


def _commit_args(no_verify: bool, author: str | None) -> list[str]:
    args = ["commit", "--quiet"]
    if no_verify:
        args.append("--no-verify")
    if author:
        args.append(f"--author={author}")
    return args


def _identity_env(author: str | None) -> dict[str, str]:
    """With --author and no configured identity, the committer must come from somewhere."""
    env = dict(os.environ)
    if author:
        m = re.match(r"\s*(.*?)\s*<([^>]*)>\s*$", author)
        if m:
            env.setdefault("GIT_COMMITTER_NAME", m.group(1))
            env.setdefault("GIT_COMMITTER_EMAIL", m.group(2))
    return env


def _commit(cwd: Path, message: str, env, no_verify: bool, author: str | None):
    """`git commit` with the message on standard input (hooks run unless no_verify)."""
    return _run(cwd, [*_commit_args(no_verify, author), "-F", "-"], env, stdin=message.encode("utf-8"))


def _run(cwd: Path, args: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None):
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, input=stdin, capture_output=True
    )


def build_commits(
    repo: gitpython.Repo,
    specs: list[CommitSpec],
    *,
    no_verify: bool = False,
    author: str | None = None,
    verifier: Verifier | None = None,
    before_each: Callable[[CommitSpec], None] | None = None,
) -> tuple[str, list[Landed], list[Dropped]]:
    """Make the commits on top of HEAD in a private worktree; return the new head.

    The user's checkout is not touched: call `move_branch` to publish the result.
    """
    base = repo.head.commit.hexsha
    landed: list[Landed] = []
    dropped: list[Dropped] = []
    env = _identity_env(author)
    with private_worktree(repo, base) as wt:
        dropped_paths: dict[str, str] = {}  # path -> the dropped commit whose edit it carries
        for spec in specs:
            if before_each is not None:
                before_each(spec)
            carried = sorted({dropped_paths[p] for p in spec.files if p in dropped_paths})
            if carried:
                # Its edits were planned on top of a dropped commit's: they would carry it in.
                dropped_paths.update({p: spec.key for p in spec.files})
                dropped.append(Dropped(spec.key, f"planned on top of dropped {', '.join(carried)}; run apply again"))
                continue
            for rel, data in spec.files.items():
                target = wt / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            paths = list(spec.files)
            add = _run(wt, ["add", "--", *paths], env)
            if add.returncode != 0:
                raise GitError(f"git add failed: {add.stderr.decode(errors='replace').strip()}")
            done = _commit(wt, spec.message, env, no_verify, author)
            if done.returncode != 0:
                output = (done.stdout + done.stderr).decode(errors="replace").strip()
                _run(wt, ["reset", "--hard", "--quiet", "HEAD"], env)
                _run(wt, ["clean", "-fdq"], env)
                dropped.append(Dropped(spec.key, f"commit failed: {_tail(output)}"))
                dropped_paths.update({p: spec.key for p in spec.files})
                continue
            reason = verifier(wt, spec) if verifier is not None else None
            if reason is not None:
                _run(wt, ["reset", "--hard", "--quiet", "HEAD~1"], env)
                _run(wt, ["clean", "-fdq"], env)
                dropped.append(Dropped(spec.key, reason))
                dropped_paths.update({p: spec.key for p in spec.files})
                continue
            sha = _run(wt, ["rev-parse", "HEAD"]).stdout.decode().strip()
            landed.append(Landed(spec.key, sha))
        head = _run(wt, ["rev-parse", "HEAD"]).stdout.decode().strip()
    return head, landed, dropped


def _tail(text: str, lines: int = 5) -> str:
    kept = [l for l in text.splitlines() if l.strip()][-lines:]
    return " | ".join(kept) if kept else "no output"


def move_branch(repo: gitpython.Repo, expected: str, new_head: str) -> None:
    """Move the checked-out branch (or detached HEAD) from ``expected`` to ``new_head``,
    updating index and working tree; refuses if HEAD moved or a local change is in the way."""
    if new_head == expected:
        return
    if repo.head.commit.hexsha != expected:
        raise GitError("HEAD moved while optimize was running: nothing was changed")
    try:
        repo.git.reset("--keep", new_head)
    except GitCommandError as exc:
        raise GitError(f"cannot update the working tree: {_last_line(exc)}; nothing was changed") from None


def land(
    repo: gitpython.Repo,
    specs: list[CommitSpec],
    **kwargs,
) -> tuple[list[Landed], list[Dropped]]:
    """Build the commits privately, then move the user's branch to them at once."""
    base = repo.head.commit.hexsha
    head, landed, dropped = build_commits(repo, specs, **kwargs)
    move_branch(repo, base, head)
    return landed, dropped


# --- history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedCommit:
    sha: str
    codemod: str
    subject: str
    date: str
    reverted_by: str | None = None


def optimisation_commits(repo: gitpython.Repo, limit: int = 2000) -> list[LoggedCommit]:
    """The optimisation commits reachable from HEAD, newest first, with revert status."""
    if not has_commits(repo):
        return []
    fmt = "%H%x1f%s%x1f%cs%x1f%(trailers:key=" + TRAILER_CODEMOD + ",valueonly,separator=%x2C)%x1f%b%x1e"
    out = repo.git.log(f"-{limit}", f"--format={fmt}")
    commits: list[LoggedCommit] = []
    reverted: dict[str, str] = {}
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) < 5:
            continue
        sha, subject, date, codemod, body = fields
        for m in re.finditer(r"This reverts commit ([0-9a-f]{7,40})", body):
            reverted.setdefault(m.group(1), sha)
        if codemod.strip() and TRAILER_REVERTS + ":" not in body:
            commits.append(LoggedCommit(sha, codemod.strip(), subject, date))
    return [
        LoggedCommit(c.sha, c.codemod, c.subject, c.date, reverted.get(c.sha)) for c in commits
    ]


def build_reverts(
    repo: gitpython.Repo, commits: list[LoggedCommit], *, no_verify: bool = False, author: str | None = None
) -> str:
    """Revert ``commits`` (newest first) in a private worktree; return the new head."""
    env = _identity_env(author)
    with private_worktree(repo, repo.head.commit.hexsha) as wt:
        for commit in commits:
            done = _run(wt, ["revert", "--no-commit", commit.sha], env)
            if done.returncode != 0:
                _run(wt, ["revert", "--abort"], env)
                raise GitError(
                    f"reverting {commit.sha[:10]} ({commit.codemod}) conflicts with later changes; "
                    "nothing was changed"
                )
            message = (
                f'Revert "{commit.subject}"\n\nThis reverts commit {commit.sha}.\n\n'
                f"{TRAILER_REVERTS}: {commit.codemod}\n"
            )
            done = _commit(wt, message, env, no_verify, author)
            if done.returncode != 0:
                output = (done.stdout + done.stderr).decode(errors="replace").strip()
                raise GitError(f"revert commit failed: {_tail(output, 2)}; nothing was changed")
        return _run(wt, ["rev-parse", "HEAD"]).stdout.decode().strip()
