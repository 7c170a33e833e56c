"""Commit messages: subject, a body listing each change with its rationale, trailers."""

from __future__ import annotations

from optimize import __version__
from optimize.git import TRAILER_CODEMOD, TRAILER_VERSION
from optimize.results import UNSAFE, Outcome


def location(path: str, line: int) -> str:
    return f"{path}:{line}" if line else path


def commit_message(outcome: "Outcome", prefix: str = "") -> str:
    codemod = outcome.codemod
    lines = [f"perf({codemod.ID}): {codemod.TITLE}", ""]
    tier = "unsafe: review before merging" if codemod.SAFETY == UNSAFE else "safe"
    lines += [f"Fix safety: {tier}. Applies when: {codemod.CONDITIONS}.", ""]
    lines.append("Changes:")
    for change in outcome.changes:
        mark = " [unsafe]" if change.tier == UNSAFE and codemod.SAFETY != UNSAFE else ""
        lines.append(f"- {location(prefix + change.path, change.line)}{mark}: {change.rationale}")
    created = [e.path for e in outcome.edits if e.before is None]
    for path in created:
        lines.append(f"- {prefix}{path}: new file")
    if outcome.refusals:
        lines += ["", "Left alone:"]
        for refusal in outcome.refusals[:50]:
            lines.append(f"- {location(prefix + refusal.path, refusal.line)}: {refusal.reason}")
        if len(outcome.refusals) > 50:
            lines.append(f"- ... and {len(outcome.refusals) - 50} more")
    lines += ["", f"{TRAILER_CODEMOD}: {codemod.ID}", f"{TRAILER_VERSION}: {__version__}", ""]
    return "\n".join(lines)
