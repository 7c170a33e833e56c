"""Rich tables for people; every command's human output is rendered here."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from rich.console import Console
from rich.table import Table

from optimize.analyzers.roles import file_role
from optimize.messages import location
from optimize.reports.formats import TABLE_MIN_WIDTH, count


def _wide(console: Console) -> bool:
    """Narrower, or not a terminal (a pipe, a CI log): one line per row instead."""
    return console.is_terminal and console.width >= TABLE_MIN_WIDTH


def _lines(console: Console, rows: Iterable[str]) -> None:
    for row in rows:
        console.print(row, markup=False, highlight=False, soft_wrap=True)


def codemods(console: Console, registry: Iterable) -> None:
    if not _wide(console):
        _lines(console, ["Codemods, in the order they run:"])
        _lines(console, (f"  {c.ID} [{c.SAFETY}] {c.TITLE} (applies when: {c.CONDITIONS})" for c in registry))
        return
    table = Table(title="Codemods, in the order they run")
    table.add_column("id", style="bold")
    table.add_column("safety")
    table.add_column("title")
    table.add_column("applies when")
    for c in registry:
        table.add_row(c.ID, c.SAFETY, c.TITLE, c.CONDITIONS)
    console.print(table)


def checks(console: Console, registry: Iterable) -> None:
    if not _wide(console):
        _lines(console, ["Checks (scan reports them; a codemod fixes what can be proven):"])
        _lines(console, (f"  {c.ID} {c.TITLE}" + (f" (fixed by {c.FIXED_BY})" if c.FIXED_BY else "") for c in registry))
        return
    table = Table(title="Checks (scan reports them; a codemod fixes what can be proven)")
    table.add_column("id", style="bold")
    table.add_column("finds")
    table.add_column("fixed by")
    for c in registry:
        table.add_row(c.ID, c.TITLE, c.FIXED_BY or "-")
    console.print(table)


def findings(console: Console, plan, prefix: str = "") -> None:
    if not plan.findings:
        return
    table = Table(title="Findings")
    table.add_column("check", no_wrap=True)
    table.add_column("location", no_wrap=True)
    table.add_column("problem", ratio=2)
    table.add_column("suggested fix", ratio=1)
    for f in plan.findings:
        table.add_row(f.check, location(prefix + f.path, f.line), f.message, f.fix)
    console.print(table)


def scan(console: Console, plan, prefix: str = "") -> None:
    findings(console, plan, prefix)
    changes = [c for o in plan.outcomes for c in o.changes]
    if changes:
        table = Table(title="Would change")
        table.add_column("codemod", no_wrap=True)
        table.add_column("tier")
        table.add_column("location", no_wrap=True)
        table.add_column("why", ratio=1)
        for c in changes:
            table.add_row(c.codemod, c.tier, location(prefix + c.path, c.line), c.rationale)
        console.print(table)
    if plan.refusals:
        table = Table(title="Found and left alone")
        table.add_column("codemod", no_wrap=True)
        table.add_column("location", no_wrap=True)
        table.add_column("reason", ratio=1)
        # Rows from test files are summarised, one per codemod: a suite's fixtures and
        # assertions would bury the application's rows (`--format json` lists them all).
        in_tests: dict[str, list] = {}
        for r in plan.refusals:
            if file_role(r.path) == "test":
                in_tests.setdefault(r.codemod, []).append(r)
                continue
            table.add_row(r.codemod, location(prefix + r.path, r.line), r.reason)
        for codemod, rows in in_tests.items():
            first = rows[0]
            table.add_row(
                codemod,
                f"{len(rows)} in test files",
                f"e.g. {location(prefix + first.path, first.line)}: {first.reason}",
            )
        console.print(table)
    summary(console, plan)


def summary(console: Console, plan) -> None:
    changes = sum(len(o.changes) for o in plan.outcomes)
    files = len({e.path for o in plan.outcomes for e in o.edits})
    console.print(
        f"{plan.files_scanned} Python files, {plan.files_parsed} parsed"
        + (f" ({plan.files_reused} more reused from the cache)" if plan.files_reused else "")
        + (" (the whole result read back from the cache)" if plan.from_cache else "")
        + "; "
        f"{count(changes, 'change')} in {count(files, 'file')} by {count(len(plan.changed), 'codemod')}; "
        f"{len(plan.refusals)} left alone."
        + (f" {count(len(plan.findings), 'finding')}." if plan.findings else "")
    )
    skipped(console, plan)
    hidden_hint(console, plan)
    if not changes:
        console.print("Nothing to change.")


def hidden_hint(console: Console, plan) -> None:
    """ruff's "N hidden fixes can be enabled with the `--unsafe-fixes` option"."""
    hidden = plan.hidden_unsafe
    if hidden:
        console.print(
            f"{hidden} more change{'s' * (hidden != 1)} can be made with the `--unsafe-fixes` option "
            "(review them first: `optimize scan` marks them [unsafe-fix]).",
            markup=False,
        )


def skipped(console: Console, plan) -> None:
    if plan.skips:
        reasons = Counter(s.reason.split(":")[0] for s in plan.skips)
        console.print(
            "Skipped files: " + ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
        )
        for skip in plan.skips[:20]:
            console.print(f"  {skip.path}: {skip.reason}", markup=False)


def applied(console: Console, result) -> None:
    if not result.landed and not result.dropped:
        summary(console, result.plan)
        console.print("No commit created.")
        return
    table = Table(title="Commits created")
    for col in ("commit", "codemod", "changes"):
        table.add_column(col)
    counts = {o.codemod.ID: len(o.changes) for o in result.plan.outcomes}
    for landed in result.landed:
        table.add_row(landed.sha[:10], landed.key, str(counts.get(landed.key, 0)))
    console.print(table)
    for dropped in result.dropped:
        console.print(f"dropped {dropped.key}: {dropped.reason}", markup=False)
    skipped(console, result.plan)
    refused = len(result.plan.refusals)
    if refused:
        console.print(f"{refused} locations left alone: `optimize scan` lists them with the reasons.")
    hidden_hint(console, result.plan)
    if result.landed:
        console.print("Undo with `optimize revert <id>` or `optimize revert --all`.")
    else:
        console.print("No commit created: every commit was dropped (see the reasons above); nothing was changed.")


def log(console: Console, commits) -> None:
    if not commits:
        console.print("No optimisation commits on this branch.")
        return
    if not _wide(console):
        _lines(console, (
            f"{c.sha[:10]} {c.date} {c.subject}"
            + ("" if c.codemod in c.subject else f" ({c.codemod})")
            + (f" [reverted by {c.reverted_by[:10]}]" if c.reverted_by else "")
            for c in commits
        ))
        return
    table = Table(title="Optimisation commits, newest first")
    for col in ("commit", "date", "codemod", "subject", "status"):
        table.add_column(col)
    for c in commits:
        status = f"reverted by {c.reverted_by[:10]}" if c.reverted_by else "live"
        table.add_row(c.sha[:10], c.date, c.codemod, c.subject, status)
    console.print(table)


def reverted(console: Console, commits) -> None:
    if not commits:
        console.print("Nothing to revert.")
        return
    for c in commits:
        # A squash merge's subject rarely names its codemods: say which were undone.
        undone = f" ({c.codemod})" if len(c.codemods) > 1 else ""
        console.print(f"reverted {c.sha[:10]} {c.subject}{undone}", markup=False)
