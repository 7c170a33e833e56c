"""The pull-request title and body (markdown), from the same objects as the commits."""

from __future__ import annotations

from optimize.messages import location


def pr_title(outcomes) -> str:
    ids = [o.codemod.ID for o in outcomes]
    return f"perf: {len(ids)} optimization{'s' if len(ids) != 1 else ''} ({', '.join(ids)})"


def pr_body(plan, landed, dropped, prefix: str = "", verification: str | None = None) -> str:
    by_id = {o.codemod.ID: o for o in plan.outcomes}
    lines = [
        "Rewrites made by `optimize`, one commit per codemod. Each commit can be reverted on its own.",
        "",
        "| codemod | safety | files | locations | expected effect |",
        "| --- | --- | --- | --- | --- |",
    ]
    for commit in landed:
        outcome = by_id[commit.key]
        codemod = outcome.codemod
        effect = getattr(codemod, "EFFECT", "") or codemod.TITLE
        lines.append(
            f"| `{codemod.ID}` | {codemod.SAFETY} | {len({e.path for e in outcome.edits})} "
            f"| {len(outcome.changes)} | {effect} |"
        )
    for commit in landed:
        outcome = by_id[commit.key]
        codemod = outcome.codemod
        lines += ["", f"### `{codemod.ID}`: {codemod.TITLE} ({commit.sha[:10]})", ""]
        lines.append(f"Fix safety: **{codemod.SAFETY}**. Applies when: {codemod.CONDITIONS}.")
        lines.append("")
        for change in outcome.changes:
            lines.append(f"- `{location(prefix + change.path, change.line)}` [{change.tier}]: {change.rationale}")
        lines += ["", f"Undo: `git revert {commit.sha[:10]}` or `optimize revert {codemod.ID}`."]
    refusals = [r for o in plan.outcomes for r in o.refusals]
    if refusals:
        lines += ["", "### Found but not rewritten", ""]
        for refusal in refusals[:100]:
            lines.append(f"- `{location(prefix + refusal.path, refusal.line)}` ({refusal.codemod}): {refusal.reason}")
        if len(refusals) > 100:
            lines.append(f"- ... and {len(refusals) - 100} more (`optimize scan` lists them)")
    if dropped:
        lines += ["", "### Dropped", ""]
        lines += [f"- `{d.key}`: {d.reason}" for d in dropped]
    lines += ["", "### Verification", "", verification or "No `--verify` command was given."]
    return "\n".join(lines) + "\n"
