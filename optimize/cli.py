"""The `optimize` command line: parses arguments, calls `optimize.runner`, prints results."""

from __future__ import annotations

import errno
import importlib
import io
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console

from optimize import __version__, interrupts, progress
from optimize.errors import OptimizeError


class _Later:
    """A module imported on first use: `--help`, `list` and `log` need neither LibCST,
    black nor GitPython, and importing them costs more than most commands."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._name), attribute)


runner = _Later("optimize.runner")
gitops = _Later("optimize.git")
table = _Later("optimize.reports.table")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Rewrite a FastAPI + SQLAlchemy repository to make it faster, one git commit per codemod.",
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

PathArg = typer.Argument(Path("."), metavar="PATH", help="Directory to work on (default: current directory).", show_default=False)
OnlyOpt = typer.Option(None, "--only", metavar="IDS", help="Run only these codemod ids (comma-separated or repeated).")
ExcludeOpt = typer.Option(None, "--exclude", metavar="IDS", help="Skip these codemod ids.")


def _ids(values: Optional[list[str]]) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _what_changed() -> str:
    """What a run stopped midway left behind: once a branch has moved, "nothing was
    changed" is false."""
    moved = gitops.moved_refs() if "optimize.git" in sys.modules else []
    if not moved:
        return "nothing was changed"
    where = moved[-1].removeprefix("refs/heads/")
    return f"the commits had landed on {where} (`optimize log` lists them, `optimize revert --all` undoes them)"


@contextmanager
def _errors() -> Iterator[None]:
    """Turn every failure into one line on stderr and exit code 2: never a traceback."""
    if "optimize.git" in sys.modules:
        gitops.forget_moves()  # a branch moved in an earlier command of this process
    try:
        yield
    except OptimizeError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.exit_code)
    except KeyboardInterrupt:
        interrupts.handled()
        err.print(f"interrupted: {_what_changed()}", markup=False)
        raise typer.Exit(130)
    except (typer.Exit, typer.Abort):
        raise
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            if isinstance(exc, FileNotFoundError) and "'git'" in str(exc):
                err.print("error: git is not installed or not on PATH", markup=False)
                raise typer.Exit(2)
            _internal_error(exc)
        err.print(f"error: no space left on device ({exc.filename or 'writing'}): {_what_changed()}", markup=False)
        raise typer.Exit(2)
    except Exception as exc:  # a bug: still one line, with a way to see the details
        if type(exc).__name__ == "GitCommandNotFound" and type(exc).__module__.startswith("git."):
            err.print("error: git is not installed or not on PATH", markup=False)
            raise typer.Exit(2)
        _internal_error(exc)


def _internal_error(exc: Exception) -> None:
    if os.environ.get("OPTIMIZE_DEBUG"):
        raise exc
    err.print(
        f"error: internal error {type(exc).__name__}: {exc} (set OPTIMIZE_DEBUG=1 for details)",
        markup=False,
    )
    raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        out.print(f"optimize {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    pass


@app.command("list")
def list_codemods() -> None:
    """The codemods, in the order they run, with their safety conditions, and the checks."""
    from optimize.analyzers.checks.registry import CHECKS
    from optimize.codemods.registry import REGISTRY

    table.codemods(out, REGISTRY)
    table.checks(out, CHECKS)


@app.command()
def explain(rule: str = typer.Argument(..., metavar="ID", help="A codemod or check id (see `optimize list`).")) -> None:
    """A codemod's or check's documentation: what it does, why, examples, fix safety."""
    with _errors():
        from optimize.rule_docs import explain as page

        text = page(rule)
        if text is None:
            raise OptimizeError(f"unknown codemod or check id {rule!r} (see `optimize list`)")
        sys.stdout.write(text)


@app.command()
def scan(
    paths: Optional[list[Path]] = typer.Argument(
        None, metavar="PATH", show_default=False,
        help="Directory to scan (default: current directory); or files and directories of one repository, as pre-commit passes them: the whole repository is read, and only what is in them is reported.",
    ),
    only: Optional[list[str]] = OnlyOpt,
    exclude: Optional[list[str]] = ExcludeOpt,
    fail_on: str = typer.Option("none", "--fail-on", metavar="WHAT", help="Exit 1 on: none, changes, refusals, findings, any (or a comma-separated list, e.g. changes,findings)."),
    output_format: Optional[str] = typer.Option(
        None, "--output-format", "--format", metavar="FORMAT",
        help="full, concise, json, json-lines, sarif, github or table (default: table in a terminal of 100 columns or more, else concise).",
    ),
    output_file: Optional[Path] = typer.Option(None, "--output-file", "-o", metavar="FILE", help="Write the report to FILE instead of stdout."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the cache in .git/optimize-cache/."),
) -> None:
    """What each codemod would change, and what it found but left alone. Writes nothing but its cache."""
    from optimize.reports.formats import FORMATS, default_format

    with _errors():
        failing = set(_ids([fail_on]))
        if not failing or not failing <= {"none", "changes", "refusals", "findings", "any"}:
            raise OptimizeError(f"--fail-on: expected none, changes, refusals, findings or any, not {fail_on!r}")
        if output_format is not None and output_format not in FORMATS:
            raise OptimizeError(f"--output-format: expected one of {', '.join(FORMATS)}, not {output_format!r}")
        from optimize.reuse import reused_scan

        path, keep = _scope(paths or [])
        # A result kept by an earlier scan of the same inputs is shown without planning.
        found = None if no_cache else reused_scan(path, _ids(only), _ids(exclude))
        if found is not None:
            plan, prefix = found
        else:
            target = runner.Target.open(path, need_repo=False)
            with progress.shown(err):
                plan = runner.scan_plan(target, runner.Selection(_ids(only), _ids(exclude)), use_cache=not no_cache)
            prefix = target.prefix
        if keep is not None:
            plan = plan.restricted(keep)
        fmt = output_format or ("concise" if output_file else default_format(out.is_terminal, out.width))
        _write_report(fmt, plan, prefix, output_file)
        if "any" in failing:
            failing |= {"changes", "refusals", "findings"}
        if (
            ("changes" in failing and any(o.changes for o in plan.outcomes))
            or ("refusals" in failing and plan.refusals)
            or ("findings" in failing and plan.findings)
        ):
            raise typer.Exit(1)


def _scope(paths: list[Path]) -> tuple[Path, tuple[str, ...] | None]:
    """The directory to plan and, when files (or several paths) are named, the paths
    under it to report on: the repository holding them is planned whole."""
    if not paths:
        return Path("."), None
    if len(paths) == 1 and not paths[0].is_file():
        return paths[0], None  # a directory, or a path `Target.open` says is missing
    missing = next((p for p in paths if not p.exists()), None)
    if missing is not None:
        raise OptimizeError(f"{missing}: no such file or directory")
    resolved = [p.resolve() for p in paths]
    first = resolved[0] if resolved[0].is_dir() else resolved[0].parent
    root = gitops.work_tree_of(first) or Path(os.path.commonpath([p if p.is_dir() else p.parent for p in resolved]))
    keep = []
    for p in resolved:
        if not p.is_relative_to(root):
            raise OptimizeError(f"{p}: not inside {root}, the repository of {paths[0]}")
        rel = p.relative_to(root).as_posix()
        if p.is_dir() and rel == ".":
            return root, None
        keep.append(rel + "/" if p.is_dir() else rel)
    return root, tuple(keep)


def _write_report(fmt: str, plan, prefix: str, output_file: Optional[Path]) -> None:
    """The scan report in ``fmt``, to stdout or ``output_file`` (written whole, at once)."""
    from optimize.reports.formats import render

    if fmt == "table":
        if output_file is None:
            table.scan(out, plan, prefix)
            return
        buffer = io.StringIO()
        table.scan(Console(file=buffer, width=200, highlight=False), plan, prefix)
        text = buffer.getvalue()
    else:
        text = render(fmt, plan, prefix, rules=_rules() if fmt == "sarif" else None)
    if output_file is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OptimizeError(f"--output-file: cannot write {output_file}: {exc.strerror or exc}") from exc


def _rules() -> list:
    from optimize.analyzers.checks.registry import CHECKS
    from optimize.codemods.registry import REGISTRY

    return [*REGISTRY, *CHECKS]


@app.command()
def apply(
    path: Path = PathArg,
    only: Optional[list[str]] = OnlyOpt,
    exclude: Optional[list[str]] = ExcludeOpt,
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Also run codemods whose fixes need review."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the diffs; change no file and no commit."),
    diff: bool = typer.Option(False, "--diff", help="Print a unified patch (for git apply); change nothing; exit 1 if it is not empty."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="With --diff: exit 0 even when there are changes."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip the repository's commit hooks."),
    author: Optional[str] = typer.Option(None, "--author", metavar="'NAME <EMAIL>'", help="Commit author, 'Name <email>'."),
    verify: Optional[str] = typer.Option(None, "--verify", metavar="COMMAND", help="Command that must pass after each commit (e.g. 'pytest -q')."),
    verify_timeout: float = typer.Option(600, "--verify-timeout", metavar="SECONDS", help="Seconds each --verify run may take."),
    allow_failing_baseline: bool = typer.Option(False, "--allow-failing-baseline", help="Go on when --verify fails before any change."),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Accept or skip each change (answers on stdin)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the cache in .git/optimize-cache/."),
) -> None:
    """Rewrite the code: one git commit per codemod (safe codemods unless told otherwise)."""
    with _errors():
        selection = runner.Selection(_ids(only), _ids(exclude), unsafe_fixes)
        if interactive:
            _apply_interactive(
                path, selection, dry_run=dry_run, diff=diff, no_verify=no_verify, author=author,
                verify=verify, verify_timeout=verify_timeout, allow_failing_baseline=allow_failing_baseline,
            )
            return
        if dry_run or diff:
            target = runner.Target.open(path, need_repo=False)
            with progress.shown(err):
                plan = runner.make_plan(target, selection, use_cache=not no_cache)
            if diff:
                from optimize.review import plan_patch

                sys.stdout.buffer.write(plan_patch(plan.changed, target.prefix))
                sys.stdout.flush()
                table.summary(err, plan)
                if plan.changed and not exit_zero:
                    raise typer.Exit(1)  # as `ruff check --diff`: a patch to apply is a failure in CI
            else:
                from optimize.review import show_plan

                show_plan(out, plan, target.prefix)
                table.summary(out, plan)
            return
        target = runner.Target.open(path, need_repo=True)
        with progress.shown(err):
            result = runner.apply(
                target, selection, no_verify=no_verify, author=author, verify=verify,
                verify_timeout=verify_timeout, allow_failing_baseline=allow_failing_baseline, use_cache=not no_cache,
            )
        table.applied(out, result)
        if result.landed and target.repo.head.is_detached:
            out.print("HEAD is detached: the commits are on no branch; `git switch -c <name>` keeps them.")
        if result.dropped and not result.landed:
            raise typer.Exit(1)


def _apply_interactive(path: Path, selection, *, dry_run: bool, diff: bool, verify, verify_timeout, allow_failing_baseline, no_verify: bool, author) -> None:
    """`apply -i`: review every change; commit the accepted ones, or with --dry-run or
    --diff only show them (then the working tree is read, and nothing is committed)."""
    from optimize.interactive import review
    from optimize.review import plan_patch, show_plan

    if dry_run or diff:
        target = runner.Target.open(path, need_repo=False)
        # With --diff the patch is the output: the questions go to stderr.
        outcomes, notes = review(target, selection, err if diff else out)
        for note in notes:
            err.print(note, markup=False)
        if diff:
            sys.stdout.buffer.write(plan_patch(outcomes, target.prefix))
            sys.stdout.flush()
        else:
            from optimize.engine import Plan

            show_plan(out, Plan(target.root, outcomes, []), target.prefix)
            out.print("Dry run: nothing was committed.")
        return
    target, committed = runner.begin_writing(runner.Target.open(path, need_repo=True), author=author)
    verifier = (
        runner.verification(target, committed, verify, verify_timeout, allow_failing_baseline) if verify else None
    )
    outcomes, notes = review(target, selection, out, committed=committed)
    for note in notes:
        out.print(note, markup=False)
    landed, dropped = runner.apply_reviewed(
        target, committed, outcomes, no_verify=no_verify, author=author, verifier=verifier
    )
    for commit in landed:
        out.print(f"{commit.sha[:10]} {commit.key}", markup=False)
    for commit in dropped:
        out.print(f"dropped {commit.key}: {commit.reason}", markup=False)
    if not landed:
        out.print("No commit created.")
        if dropped:
            raise typer.Exit(1)


@app.command()
def pr(
    path: Path = PathArg,
    only: Optional[list[str]] = OnlyOpt,
    exclude: Optional[list[str]] = ExcludeOpt,
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Also run codemods whose fixes need review."),
    branch: Optional[str] = typer.Option(None, "--branch", metavar="NAME", help="Branch name (default optimize/<date>-<sha>)."),
    remote: str = typer.Option("origin", "--remote", metavar="NAME", help="Remote to push to."),
    no_push: bool = typer.Option(False, "--no-push", help="Keep the branch local."),
    open_pr: bool = typer.Option(False, "--open", help="Create or update the pull request with gh."),
    body_file: Optional[Path] = typer.Option(None, "--body-file", metavar="FILE", help="Where to write the pull-request body."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip the repository's commit hooks."),
    author: Optional[str] = typer.Option(None, "--author", metavar="'NAME <EMAIL>'", help="Commit author, 'Name <email>'."),
    verify: Optional[str] = typer.Option(None, "--verify", metavar="COMMAND", help="Command that must pass after each commit."),
    verify_timeout: float = typer.Option(600, "--verify-timeout", metavar="SECONDS", help="Seconds each --verify run may take."),
    allow_failing_baseline: bool = typer.Option(False, "--allow-failing-baseline", help="Go on when --verify fails before any change."),
) -> None:
    """Put the optimisation commits on a new branch, push it, and write the pull-request body."""
    with _errors():
        from optimize.pr import create_pr

        target = runner.Target.open(path, need_repo=True)
        with progress.shown(err):
            result = create_pr(
                target, runner.Selection(_ids(only), _ids(exclude), unsafe_fixes),
                branch=branch, remote=remote, push=not no_push, open_pr=open_pr, body_file=body_file,
                no_verify=no_verify, author=author, verify=verify, verify_timeout=verify_timeout,
                allow_failing_baseline=allow_failing_baseline,
            )
        for landed in result.landed:
            out.print(f"{landed.sha[:10]} {landed.key}", markup=False)
        for dropped in result.dropped:
            out.print(f"dropped {dropped.key}: {dropped.reason}", markup=False)
        where = f"pushed to {remote}" if result.pushed else "local only"
        out.print(f"branch {result.branch} ({where}); pull-request body: {result.body_file}", markup=False)
        if result.url:
            out.print(result.url, markup=False)


@app.command()
def log(path: Path = PathArg) -> None:
    """The optimisation commits on the current branch, newest first."""
    with _errors():
        target = runner.Target.open(path, need_repo=True)
        table.log(out, runner.log(target))


@app.command()
def revert(
    args: Optional[list[str]] = typer.Argument(None, metavar="[PATH] [ID]...", help="Repository directory (optional), then the codemod ids whose commits to revert."),
    all_: bool = typer.Option(False, "--all", help="Revert every optimisation commit."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip the repository's commit hooks."),
    author: Optional[str] = typer.Option(None, "--author", metavar="'NAME <EMAIL>'", help="Commit author, 'Name <email>'."),
) -> None:
    """Undo optimisation commits with `git revert`, newest first."""
    with _errors():
        from optimize.codemods.registry import by_id

        words = list(args or [])
        path = Path(".")
        if words and words[0] not in by_id() and Path(words[0]).is_dir():
            path = Path(words.pop(0))
        chosen = _ids(words)
        if not chosen and not all_:
            raise OptimizeError("name the codemod ids to revert, or pass --all")
        target = runner.Target.open(path, need_repo=True)
        reverted = runner.revert(target, chosen, all_=all_, no_verify=no_verify, author=author)
        table.reverted(out, reverted)


@app.command()
def demo(
    directory: Optional[Path] = typer.Option(None, "--dir", metavar="DIR", help="Where to create the demo repository."),
) -> None:
    """Copy the bundled example app into a new git repository and optimize it."""
    with _errors():
        from optimize.demo import run_demo

        run_demo(out, directory)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
