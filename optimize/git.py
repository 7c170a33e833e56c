"""Every git operation `optimize` performs, and nothing else.

A run that writes starts by recording a `Snapshot`: the commit HEAD points at and the
branch it is on. Every file to plan is read from that commit's blobs, never from the
working tree, so what the user did not commit (an unstaged edit, a file marked
skip-worktree, an edit saved and undone during the run) can never reach a commit. The
commits are made on that same commit in a private, detached worktree (under
`.git/optimize/`) that the user's checkout cannot see. Only when every commit exists does
the branch move, with a compare-and-swap (`git update-ref <ref> NEW OLD`): if anybody moved
it meanwhile, nothing is changed. The checkout is then brought from OLD to NEW with a
two-tree `git read-tree -m -u`, which refuses rather than overwrite a local change; if it
refuses, the branch is swapped back. Whatever fails, the user's branch, index and working
tree are as they were, or at the new commits with nothing of theirs lost.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import re
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from optimize import interrupts
from optimize.errors import GitError, redact

if TYPE_CHECKING:
    import git as gitpython


def _gitpython():
    """GitPython, imported on first use: a warm `scan` lists files and reads its cache
    without it, and importing it costs more than that whole run."""
    import git

    return git


def _not_a_repository() -> tuple[type[Exception], ...]:
    exc = _gitpython().exc
    return (exc.InvalidGitRepositoryError, exc.NoSuchPathError)

TRAILER_CODEMOD = "Optimize-Codemod"
TRAILER_VERSION = "Optimize-Version"
TRAILER_REVERTS = "Optimize-Reverts"
_WORKTREE_PREFIX = "wt-"
_LOCK_SUFFIX = ".lock"


# --- reading -------------------------------------------------------------------------------


def _open(path: Path) -> gitpython.Repo:
    # expand_vars=False: a `$NAME` in the path is part of the name, not another repository.
    return _literal_repo_class()(path, search_parent_directories=True, expand_vars=False)


@functools.cache
def _literal_repo_class() -> type:
    """GitPython's Repo whose git commands run in the directory it opened.

    ``Repo(expand_vars=False)`` keeps a `$NAME` in the path literal, but the ``Git`` it runs
    commands with expands its working directory again, so ``repo.git.status()`` and the
    object database behind ``repo.head.commit`` would read the repository ``$NAME`` names."""
    git = _gitpython()

    class LiteralGit(git.Git):
        def __init__(self, working_dir=None):
            super().__init__(working_dir)
            self._working_dir = os.fspath(working_dir) if working_dir is not None else None

    class LiteralRepo(git.Repo):
        GitCommandWrapperType = LiteralGit

    return LiteralRepo


def work_tree_of(path: Path) -> Path | None:
    """The top of the working tree holding ``path`` (the nearest directory with a `.git`)."""
    for here in [path, *path.parents]:
        if (here / ".git").exists():
            return here
    return None


def git_dir(root: Path) -> Path | None:
    """The git directory shared by the repository's worktrees, found from ``root`` up."""
    for here in [root, *root.parents]:
        dot = here / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            try:
                text = dot.read_text(errors="replace").strip()
                if not text.startswith("gitdir:"):
                    return None
                gitdir = (here / text.split(":", 1)[1].strip()).resolve()
                common = gitdir / "commondir"
                if common.is_file():
                    return (gitdir / common.read_text(errors="replace").strip()).resolve()
                return gitdir
            except OSError:
                return None  # an unreadable `.git` file: no cache, never a failure
    return None


def is_repo(path: Path) -> bool:
    """Whether ``path`` is inside a git working tree: a `.git` directory or file found from
    it up, as git and GitPython look for one."""
    return git_dir(Path(path).resolve()) is not None


def open_repo(path: Path) -> gitpython.Repo:
    try:
        return _open(path)
    except _not_a_repository():
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
        done = _run(root, ["ls-files", *args, "--", "."])
    except OSError as exc:
        raise GitError(f"git ls-files failed: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = [l.strip() for l in done.stderr.decode(errors="replace").splitlines() if l.strip()]
        raise GitError(f"git ls-files failed: {redact(lines[-1] if lines else f'exit {done.returncode}')}") from None
    return sorted({p for p in os.fsdecode(done.stdout).split("\0") if p})


def has_commits(repo: gitpython.Repo) -> bool:
    try:
        repo.head.commit
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class Snapshot:
    """The commit a run plans from and builds on, and the branch it is to move, recorded
    once when the run starts (``ref`` is None for a detached HEAD)."""

    top: Path
    base: str
    ref: str | None

    @classmethod
    def take(cls, repo: gitpython.Repo) -> "Snapshot":
        top = top_level(repo)
        if not has_commits(repo):
            raise GitError("the repository has no commits yet: commit your code first (or use --dry-run)")
        base = _run(top, ["rev-parse", "--verify", "-q", "HEAD^{commit}"]).stdout.decode().strip()
        return cls(top, base, _head_ref(top))


def _head_ref(top: Path) -> str | None:
    done = _run(top, ["symbolic-ref", "-q", "HEAD"])
    return done.stdout.decode().strip() or None if done.returncode == 0 else None


@dataclass(frozen=True)
class TreeEntry:
    path: str  # relative to the repository top
    mode: str  # "100644", "100755", "120000" (symlink), "160000" (submodule), ...
    sha: str
    size: int  # -1 for submodules


def tree_entries(top: Path, commit: str) -> list[TreeEntry]:
    """Every entry of ``commit``'s tree, recursively (submodules are not entered)."""
    done = _run(top, ["ls-tree", "-r", "-z", "-l", "--full-tree", commit])
    if done.returncode != 0:
        raise GitError(f"git ls-tree failed: {_git_reason(done)}")
    entries = []
    for record in done.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, _kind, sha, size = meta.decode().split()
        path = os.fsdecode(name)  # surrogate escapes keep non-UTF-8 names distinct
        entries.append(TreeEntry(path, mode, sha, int(size) if size.isdigit() else -1))
    return entries


def read_blobs(top: Path, shas: list[str]) -> dict[str, bytes]:
    """The contents of ``shas`` in one `git cat-file --batch`."""
    if not shas:
        return {}
    done = _run(top, ["cat-file", "--batch"], stdin="".join(f"{s}\n" for s in shas).encode())
    if done.returncode != 0:
        raise GitError(f"git cat-file failed: {_git_reason(done)}")
    out, blobs, at = done.stdout, {}, 0
    for _ in shas:
        header_end = out.index(b"\n", at)
        header = out[at:header_end].decode(errors="replace").split()
        if len(header) != 3:  # "<sha> missing": e.g. a partial clone that cannot fetch it now
            raise GitError(f"git cannot read object {header[0] if header else '?'} of the commit ({' '.join(header[1:])}); nothing was changed")
        sha, _kind, size = header
        start = header_end + 1
        blobs[sha] = out[start : start + int(size)]
        at = start + int(size) + 1
    return blobs


def dirty_paths(repo: gitpython.Repo) -> list[str]:
    """Tracked files with staged or unstaged changes (untracked files are not ours)."""
    out = repo.git.status("--porcelain", "-z", "--untracked-files=no")
    entries = [e for e in out.split("\0") if e]
    return sorted({e[3:] for e in entries if len(e) > 3})


def flagged_paths(top: Path, paths: list[str]) -> list[str]:
    """Those of ``paths`` marked skip-worktree or assume-unchanged: git hides their local
    edits from `git status`, so no dirty check can see them."""
    if not paths:
        return []
    wanted = set(paths)
    # The whole index, filtered here: no argument list to outgrow on a large change.
    done = _run(top, ["ls-files", "-v", "-z"])
    flagged = []
    for record in done.stdout.decode(errors="surrogateescape").split("\0"):
        if len(record) > 2 and (record[0] == "S" or record[0].islower()) and record[2:] in wanted:
            flagged.append(record[2:])
    return sorted(flagged)


def refuse_flagged(top: Path, paths: list[str]) -> None:
    flagged = flagged_paths(top, paths)
    if flagged:
        shown = ", ".join(flagged[:10]) + (f" and {len(flagged) - 10} more" if len(flagged) > 10 else "")
        raise GitError(
            f"{shown} {'is' if len(flagged) == 1 else 'are'} marked skip-worktree or assume-unchanged (it may hold local edits git does not "
            "show): clear the flag with `git update-index --no-skip-worktree --no-assume-unchanged`, "
            "or exclude the file; nothing was changed"
        )


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
    check_identity(top_level(repo), author)


def check_identity(top: Path, author: str | None) -> None:
    """Ask git itself whether it can name the author and committer of a commit (config,
    environment, --author, or what git guesses), exactly as `git commit` will."""
    env = _identity_env(author)
    for variable in ("GIT_COMMITTER_IDENT",) if author else ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        if _run(top, ["var", variable], env).returncode != 0:
            raise GitError(
                "git cannot tell who the commits are by (user.name/user.email are not configured): "
                "set them (git config user.name ...) or pass --author 'Name <email>'"
            )


# --- the private worktree -------------------------------------------------------------------


def _work_area(repo: gitpython.Repo) -> Path:
    return Path(repo.common_dir) / "optimize"


def _hold_lock(path: Path):
    """An open file holding an exclusive lock on ``path``, or None when another process
    holds it. A lock (not a pid) says a run is alive: it works across PID namespaces and
    dies with its process, however that process ends."""
    handle = open(path, "a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def clean_leftovers(repo: gitpython.Repo) -> list[str]:
    """Remove worktrees left by runs that were killed; returns what was removed."""
    area = _work_area(repo)
    removed = []
    if area.is_dir():
        for entry in sorted(area.iterdir()):
            if not entry.name.startswith(_WORKTREE_PREFIX) or entry.name.endswith(_LOCK_SUFFIX):
                continue
            lock = _hold_lock(area / (entry.name + _LOCK_SUFFIX))
            if lock is None:
                continue  # a live run's
            try:
                shutil.rmtree(entry, ignore_errors=True)
                (area / (entry.name + _LOCK_SUFFIX)).unlink(missing_ok=True)
            finally:
                lock.close()
            removed.append(entry.name)
        for lock_path in area.glob(f"{_WORKTREE_PREFIX}*{_LOCK_SUFFIX}"):
            worktree = area / lock_path.name[: -len(_LOCK_SUFFIX)]
            if worktree.exists():
                continue
            lock = _hold_lock(lock_path)  # a run killed before its worktree existed
            if lock is not None:
                lock_path.unlink(missing_ok=True)
                lock.close()
    _run(Path(repo.common_dir), ["worktree", "prune"])
    return removed


def _remove_worktree(top: Path, path: Path) -> None:
    if _run(top, ["worktree", "remove", "--force", str(path)]).returncode != 0:
        shutil.rmtree(path, ignore_errors=True)
        _run(top, ["worktree", "prune"])


@contextmanager
def private_worktree(repo: gitpython.Repo, base: str) -> Iterator[Path]:
    """A detached worktree at ``base``, removed afterwards whatever happens (Ctrl-C while
    it is being created included)."""
    clean_leftovers(repo)
    top = top_level(repo)
    area = _work_area(repo)
    area.mkdir(parents=True, exist_ok=True)
    path = area / f"{_WORKTREE_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    lock = _hold_lock(area / (path.name + _LOCK_SUFFIX))
    try:
        try:
            added = _run(top, ["worktree", "add", "--detach", "--quiet", str(path), base])
        except BaseException:
            _remove_worktree(top, path)
            raise
        if added.returncode != 0:
            _remove_worktree(top, path)
            raise GitError(f"cannot create a private worktree: {_git_reason(added)}")
        try:
            yield path
        finally:
            _remove_worktree(top, path)
    finally:
        (area / (path.name + _LOCK_SUFFIX)).unlink(missing_ok=True)
        if lock is not None:
            lock.close()


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


def hooks_args(top: Path) -> list[str]:
    """A relative `core.hooksPath` (husky's `.husky/_`) means a directory of the user's
    checkout; in the private worktree it would mean one that may not exist there (it is
    often ignored), and the hooks would silently not run. Resolve it against the user's
    top level."""
    done = _run(top, ["config", "--get", "core.hooksPath"])
    value = done.stdout.decode(errors="surrogateescape").strip()
    if done.returncode != 0 or not value or os.path.isabs(value) or value.startswith("~"):
        return []
    return ["-c", f"core.hooksPath={top / value}"]


def _commit(cwd: Path, message: str, env, no_verify: bool, author: str | None, hooks: list[str] = ()):
    """`git commit` with the message on standard input (hooks run unless no_verify)."""
    return _run(cwd, [*hooks, *_commit_args(no_verify, author), "-F", "-"], env, stdin=message.encode("utf-8"))


def _run(
    cwd: Path, args: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None,
    *, shielded: bool = False,
):
    """One git command. ``shielded`` puts it in a process group of its own, so that a
    Ctrl-C at the terminal cannot stop it halfway through moving the user's branch."""
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, input=stdin, capture_output=True,
        process_group=0 if shielded else None,
    )


def _no_space(text: str) -> bool:
    return "No space left on device" in text or "Disk quota exceeded" in text


def _worktree_failure(wt: Path, exc: OSError) -> GitError:
    """An operating-system error inside the private worktree, as one line."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return GitError(f"no space left on device while writing the commits ({exc.filename}): nothing was changed")
    if not (wt / ".git").exists():
        return GitError(f"the private worktree {wt} was removed while optimize was running: nothing was changed")
    return GitError(f"cannot write in the private worktree: {exc.strerror or exc}: nothing was changed")


def build_commits(
    repo: gitpython.Repo,
    specs: list[CommitSpec],
    *,
    base: str | None = None,
    no_verify: bool = False,
    author: str | None = None,
    verifier: Verifier | None = None,
    before_each: Callable[[CommitSpec], None] | None = None,
) -> tuple[str, list[Landed], list[Dropped]]:
    """Make the commits on top of ``base`` (the run's snapshot; HEAD if not given) in a
    private worktree; return the new head. The user's checkout is not touched: call
    `move_branch` to publish the result."""
    base = base or repo.head.commit.hexsha
    landed: list[Landed] = []
    dropped: list[Dropped] = []
    env = _identity_env(author)
    hooks = hooks_args(top_level(repo))
    with private_worktree(repo, base) as wt:
        try:
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
                add = _run(wt, ["add", "--", *[f":(literal){p}" for p in spec.files]], env)
                if not (wt / ".git").exists():
                    raise FileNotFoundError(errno.ENOENT, "the private worktree is gone", str(wt))
                if add.returncode != 0:
                    raise GitError(f"git add failed: {_git_reason(add)}; nothing was changed")
                done = _commit(wt, spec.message, env, no_verify, author, hooks)
                if done.returncode != 0:
                    output = (done.stdout + done.stderr).decode(errors="replace").strip()
                    if _no_space(output):
                        raise GitError(f"no space left on device while committing {spec.key}: nothing was changed")
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
        except OSError as exc:
            raise _worktree_failure(wt, exc) from None
    if not re.fullmatch(r"[0-9a-f]{40,64}", head):
        raise GitError("the private worktree lost its commits: nothing was changed")
    return head, landed, dropped


def _tail(text: str, lines: int = 5) -> str:
    kept = [l for l in text.splitlines() if l.strip()][-lines:]
    return " | ".join(kept) if kept else "no output"


# Refs this process moved (for the Ctrl-C message: after a move, "nothing was changed" is false).
_moved: list[str] = []


def moved_refs() -> list[str]:
    return list(_moved)


def forget_moves() -> None:
    _moved.clear()


def _blocking_paths(text: str) -> list[str]:
    """The files `git read-tree -m -u` names when a local change is in the way."""
    return re.findall(r"(?:Entry|file) '([^']+)'", text) + [
        l.strip() for l in re.findall(r"^\t(.+)$", text, flags=re.M)
    ]


def changed_paths(top: Path, old: str, new: str) -> list[str]:
    done = _run(top, ["diff", "--name-only", "-z", "--no-renames", old, new])
    return [p for p in done.stdout.decode(errors="surrogateescape").split("\0") if p]


def move_branch(repo: gitpython.Repo, snapshot: Snapshot, new_head: str) -> None:
    """Move the snapshot's branch (or detached HEAD) from its base to ``new_head`` with a
    compare-and-swap, then bring index and working tree along; if anything of the user's
    is in the way, swap the branch back and change nothing."""
    top, old = snapshot.top, snapshot.base
    if new_head == old:
        return
    refuse_flagged(top, changed_paths(top, old, new_head))
    if _head_ref(top) != snapshot.ref:
        raise GitError("HEAD moved while optimize was running (another branch was checked out): nothing was changed")
    ref = snapshot.ref or "HEAD"
    deref = [] if snapshot.ref else ["--no-deref"]
    with interrupts.deferred():  # the branch and the checkout move together or not at all
        swapped = _run(top, ["update-ref", *deref, "-m", "optimize: apply", ref, new_head, old], shielded=True)
        if swapped.returncode != 0:
            raise GitError("HEAD moved while optimize was running: nothing was changed")
        try:
            if _head_ref(top) != snapshot.ref:
                raise GitError(
                    "HEAD moved while optimize was running (another branch was checked out): nothing was changed"
                )
            # An edit saved and undone leaves stale stat data that read-tree would take for a
            # change (reset --keep refreshes too): refresh, then bring the checkout along.
            _run(top, ["update-index", "-q", "--refresh"], shielded=True)
            checkout = _run(top, ["read-tree", "-m", "-u", old, new_head], shielded=True)
            if checkout.returncode != 0:
                raise GitError(_checkout_refusal(checkout))
        except BaseException:
            # Swap back (only if the branch is still ours to swap): the checkout was not moved.
            _run(top, ["update-ref", *deref, "-m", "optimize: undo", ref, old, new_head], shielded=True)
            raise
        _moved.append(ref)


def _checkout_refusal(done: subprocess.CompletedProcess) -> str:
    text = (done.stderr + done.stdout).decode(errors="replace")
    if _no_space(text):
        return "no space left on device while updating the working tree: nothing was changed"
    blocking = _blocking_paths(text)
    if blocking:
        shown = ", ".join(dict.fromkeys(blocking))
        return (
            f"cannot update the working tree: {shown} has changes of yours in the way "
            "(commit, stash or move it, then run again); nothing was changed"
        )
    return f"cannot update the working tree: {_git_reason(done)}; nothing was changed"


def land(
    repo: gitpython.Repo,
    snapshot: Snapshot,
    specs: list[CommitSpec],
    **kwargs,
) -> tuple[list[Landed], list[Dropped]]:
    """Build the commits privately on the snapshot, then move the user's branch to them at
    once (when at least one was kept)."""
    refuse_flagged(snapshot.top, sorted({p for spec in specs for p in spec.files}))
    head, landed, dropped = build_commits(repo, specs, base=snapshot.base, **kwargs)
    if landed:
        move_branch(repo, snapshot, head)
    return landed, dropped


# --- history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedCommit:
    """An optimisation commit in the history. ``codemods`` names every codemod whose change
    it carries: one for a commit `optimize` made, several for a squash merge of them."""

    sha: str
    codemods: tuple[str, ...]
    subject: str
    date: str
    reverted_by: str | None = None

    @property
    def codemod(self) -> str:
        """The codemods as one label, for messages and tables."""
        return ", ".join(self.codemods)


# A trailer line anywhere in a message, not only in its last paragraph (the only one git
# reads as trailers): a squash merge concatenates the messages it squashes, GitHub's as
# they are and `git merge --squash`'s indented, so each one's trailers sit in a paragraph of
# their own.
def _trailer_values(message: str, key: str) -> list[str]:
    pattern = re.compile(rf"^[ \t]*{re.escape(key)}:[ \t]*([A-Za-z0-9._-]+)[ \t]*$", re.MULTILINE)
    return pattern.findall(message)


def carried_codemods(message: str) -> tuple[str, ...]:
    """The codemods whose change a commit with ``message`` carries, in message order: each
    Optimize-Codemod trailer, less one for each Optimize-Reverts trailer naming it (so a
    squash of a commit and its revert carries nothing, and a revert commit nothing)."""
    reverts = _trailer_values(message, TRAILER_REVERTS)
    carried: list[str] = []
    for codemod in _trailer_values(message, TRAILER_CODEMOD):
        if codemod in reverts:
            reverts.remove(codemod)
        elif codemod not in carried:
            carried.append(codemod)
    return tuple(carried)


def optimisation_commits(repo: gitpython.Repo, limit: int = 2000) -> list[LoggedCommit]:
    """The optimisation commits reachable from HEAD, newest first, with revert status."""
    if not has_commits(repo):
        return []
    out = repo.git.log(f"-{limit}", "--format=%H%x1f%s%x1f%cs%x1f%B%x1e")
    commits: list[LoggedCommit] = []
    reverted: dict[str, str] = {}
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) < 4:
            continue
        sha, subject, date, message = fields
        for m in re.finditer(r"This reverts commit ([0-9a-f]{7,40})", message):
            reverted.setdefault(m.group(1), sha)
        codemods = carried_codemods(message)
        if codemods:
            commits.append(LoggedCommit(sha, codemods, subject, date))
    return [
        LoggedCommit(c.sha, c.codemods, c.subject, c.date, reverted.get(c.sha)) for c in commits
    ]


def build_reverts(
    repo: gitpython.Repo, commits: list[LoggedCommit], *, no_verify: bool = False, author: str | None = None,
    base: str | None = None,
) -> str:
    """Revert ``commits`` (newest first) in a private worktree on ``base`` (the run's
    snapshot; HEAD if not given); return the new head."""
    env = _identity_env(author)
    hooks = hooks_args(top_level(repo))
    with private_worktree(repo, base or repo.head.commit.hexsha) as wt:
        for commit in commits:
            done = _run(wt, ["revert", "--no-commit", commit.sha], env)
            if done.returncode != 0:
                failure = revert_failure(wt, commit, done)
                _run(wt, ["revert", "--abort"], env)
                raise failure
            done = _commit(wt, revert_message(commit), env, no_verify, author, hooks)
            if done.returncode != 0:
                output = (done.stdout + done.stderr).decode(errors="replace").strip()
                raise GitError(f"revert commit failed: {_tail(output, 2)}; nothing was changed")
        return _run(wt, ["rev-parse", "HEAD"]).stdout.decode().strip()


def revert_message(commit: LoggedCommit) -> str:
    """One Optimize-Reverts trailer per codemod, so that a revert of a squash merge says
    everything it undoes."""
    trailers = "".join(f"{TRAILER_REVERTS}: {codemod}\n" for codemod in commit.codemods)
    return f'Revert "{commit.subject}"\n\nThis reverts commit {commit.sha}.\n\n{trailers}'


def revert_failure(wt: Path, commit: LoggedCommit, done: subprocess.CompletedProcess) -> GitError:
    """Why `git revert` failed. Only unmerged paths make it a conflict with later changes;
    anything else (a missing object, a merge commit, a broken repository) is git's own
    failure, and calling it a conflict would send the user looking for edits that are not
    there."""
    what = f"reverting {commit.sha[:10]} ({commit.codemod})"
    unmerged = _unmerged_paths(wt)
    if unmerged or b"\nCONFLICT " in b"\n" + done.stdout:
        shown = ", ".join(unmerged[:5]) + (f" and {len(unmerged) - 5} more" if len(unmerged) > 5 else "")
        where = f" in {shown}" if shown else ""
        return GitError(f"{what} conflicts with later changes{where}; nothing was changed")
    return GitError(f"{what} failed: {_git_reason(done)}; nothing was changed")


def _unmerged_paths(wt: Path) -> list[str]:
    out = _run(wt, ["ls-files", "--unmerged", "-z"]).stdout.decode(errors="replace")
    # Each entry is "<mode> <sha> <stage>\t<path>", one per conflicting side.
    return sorted({entry.split("\t", 1)[1] for entry in out.split("\0") if "\t" in entry})


def _git_reason(done: subprocess.CompletedProcess) -> str:
    """git's reason for a failure, redacted: its last `error:` line if it printed one (a
    generic `fatal: ... failed` often follows it), else its last line."""
    lines = [l.strip() for l in (done.stderr + done.stdout).decode(errors="replace").splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("error:")]
    reason = errors[-1] if errors else lines[-1] if lines else f"exit status {done.returncode}"
    return _mask_url_credentials(redact(reason))


def _mask_url_credentials(text: str) -> str:
    """A remote URL may carry a user and password or token (https://user:token@host/...)."""
    return re.sub(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s']+@", r"\1***@", text)


# --- the pull-request branch -----------------------------------------------------------------
#
# `optimize pr` writes a branch that is not checked out, locally and on a remote. A branch
# of that name may already exist, and may be a teammate's: it is only ever updated when every
# commit it has beyond the base is an optimisation commit, and only by compare-and-swap
# against the commits that were checked, so a commit added after the check is refused, never
# overwritten.


def check_branch_name(repo: gitpython.Repo, name: str) -> None:
    """Refuse a --branch value that git could read as something other than a new branch:
    an option (a leading `-`), a revision (`HEAD`, `@`, `foo@{1}`), a full refname
    (`refs/heads/main` would make refs/heads/refs/heads/main) or no valid name at all.
    (`git check-ref-format --branch` is not the test: it expands `@` and `@{-1}` to other
    branches' names.)"""
    if name.startswith("-"):
        reason = "it starts with '-'"
    elif name in ("HEAD", "@"):
        reason = f"{name} names a commit, not a branch"
    elif name.startswith("refs/"):
        reason = "give the branch name without refs/"
    elif _run(top_level(repo), ["check-ref-format", f"refs/heads/{name}"]).returncode != 0:
        reason = "see `git help check-ref-format`"
    else:
        return
    raise GitError(f"--branch {name!r} is not a valid branch name: {reason}")


@dataclass(frozen=True)
class BranchLease:
    """The pull-request branch as it was checked: its commit locally and on ``remote``
    (None where it did not exist; ``remote`` is None when nothing is pushed)."""

    name: str
    local: str | None
    remote: str | None = None
    remote_tip: str | None = None

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.name}"


def claim_branch(repo: gitpython.Repo, name: str, base: str, remote: str | None) -> BranchLease:
    """Check that branch ``name`` may be written on top of ``base``: not checked out, and
    absent or holding beyond ``base`` only optimisation commits, locally and on ``remote``.
    Refuses with one line, having changed nothing."""
    top = top_level(repo)
    lease = BranchLease(name, _ref_tip(top, f"refs/heads/{name}"), remote)
    checked_out = _checked_out_in(top, lease.ref)
    if checked_out:
        raise GitError(f"--branch {name} is checked out in {checked_out}: choose another name")
    if lease.local:
        _refuse_foreign_commits(top, name, base, lease.local, "")
    if remote is None:
        return lease
    remote_tip = remote_branch_tip(top, remote, lease.ref)
    if remote_tip:
        _fetch_commit(top, remote, lease.ref, remote_tip)
        _refuse_foreign_commits(top, name, base, remote_tip, f" on {remote}")
    return BranchLease(name, lease.local, remote, remote_tip)


def _ref_tip(top: Path, ref: str) -> str | None:
    done = _run(top, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
    return done.stdout.decode().strip() or None if done.returncode == 0 else None


def _checked_out_in(top: Path, ref: str) -> str | None:
    """The worktree that has ``ref`` checked out, if any: moving it would leave that
    checkout's files and index describing another commit."""
    out = _run(top, ["worktree", "list", "--porcelain"]).stdout.decode(errors="replace")
    path = None
    for field in out.splitlines():
        if field.startswith("worktree "):
            path = field[len("worktree "):]
        elif field == f"branch {ref}":
            return path
    return None


def _refuse_foreign_commits(top: Path, name: str, base: str, tip: str, where: str) -> None:
    """Refuse a branch whose commits beyond its merge base with ``base`` are not all
    optimisation commits: writing it would throw the others away."""
    out = _run(top, ["log", "--reverse", "--format=%H%x1f%s%x1f%B%x1e", tip, f"^{base}", "--"]).stdout
    for record in out.decode(errors="replace").split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == 3 and not _trailer_values(fields[2], TRAILER_CODEMOD):
            raise GitError(
                f"--branch {name}{where} has a commit that is not optimize's: {fields[0][:10]} "
                f"{fields[1]!r}; choose another branch name (nothing was changed)"
            )


def remote_branch_tip(top: Path, remote: str, ref: str) -> str | None:
    """The commit ``ref`` is at on ``remote`` now (None if it does not exist there), read
    from the remote itself: a remote-tracking branch may be out of date."""
    done = _run(top, ["ls-remote", "--", remote, ref])
    if done.returncode != 0:
        raise GitError(f"push to {remote} failed: cannot read its branches: {_git_reason(done)}; nothing was changed")
    for line in done.stdout.decode(errors="replace").splitlines():
        sha, _, name = line.partition("\t")
        if name == ref:
            return sha
    return None


def _fetch_commit(top: Path, remote: str, ref: str, sha: str) -> None:
    """Have ``sha`` (the tip of ``ref`` on ``remote``) locally, to read its commits. The
    empty --refmap stores no remote-tracking branch: checking changes no ref."""
    if _has_commit(top, sha):
        return
    done = _run(top, [
        "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--recurse-submodules=no", "--refmap=",
        "--", remote, ref,
    ])
    if done.returncode != 0:
        raise GitError(f"push to {remote} failed: cannot fetch {ref}: {_git_reason(done)}; nothing was changed")
    if not _has_commit(top, sha):
        raise GitError(f"push to {remote} failed: {ref} moved there while it was being read; run again")


def _has_commit(top: Path, sha: str) -> bool:
    return _run(top, ["cat-file", "-e", f"{sha}^{{commit}}"]).returncode == 0


def set_branch(repo: gitpython.Repo, lease: BranchLease, new_head: str) -> None:
    """Point the local branch at ``new_head`` if it is still where it was checked (or
    still absent)."""
    done = _run(top_level(repo), [
        "update-ref", "-m", "optimize pr", "--", lease.ref, new_head, lease.local or "",
    ])
    if done.returncode != 0:
        raise GitError(
            f"local branch {lease.name} changed while optimize was running: {_git_reason(done)}; "
            "nothing was changed"
        )


def push_branch(repo: gitpython.Repo, lease: BranchLease, new_head: str) -> None:
    """Push ``new_head`` to the branch on the remote if it is still at the commit that was
    checked (or still absent). The lease is explicit because the default one trusts the
    remote-tracking branch, which any fetch since the check (an editor's, in the
    background) moves onto a teammate's new commit, and that commit would be overwritten."""
    done = _run(top_level(repo), [
        "push", f"--force-with-lease={lease.ref}:{lease.remote_tip or ''}",
        "--", lease.remote, f"{new_head}:{lease.ref}",
    ])
    if done.returncode != 0:
        raise GitError(push_failure_reason(done))


def push_failure_reason(done: subprocess.CompletedProcess) -> str:
    """What the remote and git said, on one line and redacted: a hook's or server's own
    `remote:` lines and the rejected ref with its reason, without git's hints, its `To
    <url>` line and its generic `failed to push some refs`."""
    kept = []
    for line in (done.stderr + done.stdout).decode(errors="replace").splitlines():
        text = line.strip()
        if not text or text == "remote:" or text.startswith(("hint:", "To ", "error: failed to push some refs")):
            continue
        kept.append(text.removeprefix("error: "))
    if any("(stale info)" in line for line in kept):
        kept.append("the remote branch changed after optimize checked it")
    if not kept:
        return _git_reason(done)
    return _mask_url_credentials(redact(" | ".join(kept[-8:])))
