"""The scan's output formats, with ruff's names: `full`, `concise`, `json`, `json-lines`,
`sarif` and `github`; `table` is the rich tables, for a terminal wide enough to hold them.

- `concise`: one line per diagnostic, `path:line:col: ID message`, then the summary;
  the default when stdout is not a terminal (a pipe, a CI log) or narrower than 100 columns.
- `full`: the same lines, each with what it leaves out (a finding's fix, a change's tier).
- `json`: the whole result in one document with a `schema_version`; `json-lines`: one
  diagnostic per line.
- `sarif`: SARIF 2.1.0 with each change's edit as a fix (`optimize.reports.sarif`).
- `github`: workflow commands, which GitHub Actions shows as annotations on the diff.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from optimize import __version__
from optimize.analyzers.roles import file_role
from optimize.reports.diagnostics import CHANGE, FINDING, REFUSAL, SKIP, Diagnostic, diagnostics
from optimize.results import UNSAFE, Plan

FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", "table")
SCHEMA_VERSION = 2  # of `json` and `json-lines`: 2 added columns, end positions, fixes and urls
TABLE_MIN_WIDTH = 100


def default_format(is_terminal: bool, width: int) -> str:
    return "table" if is_terminal and width >= TABLE_MIN_WIDTH else "concise"


def render(fmt: str, plan: Plan, prefix: str = "", rules: list | None = None) -> str:
    """``plan`` in the format ``fmt`` (any of `FORMATS` but `table`), ending in a newline;
    ``rules`` are the codemod and check classes SARIF describes."""
    items = diagnostics(plan, prefix)
    if fmt == "json":
        return json_document(plan, prefix, items) + "\n"
    if fmt == "json-lines":
        return "".join(json.dumps(_item(d), sort_keys=True) + "\n" for d in items)
    if fmt == "sarif":
        from optimize.reports.sarif import sarif

        return sarif(items, rules or []) + "\n"
    if fmt == "github":
        return "".join(github_line(d) + "\n" for d in items)
    lines = []
    # Refusals in test files are summarised, one line per codemod, as in the tables: a
    # suite's fixtures and assertions would bury the application's lines.
    in_tests: dict[str, list[Diagnostic]] = {}
    for d in items:
        if d.kind == REFUSAL and file_role(d.path) == "test":
            in_tests.setdefault(d.code, []).append(d)
            continue
        lines.append(concise_line(d))
        if fmt == "full":
            lines.extend(_details(d))
    for rows in in_tests.values():
        lines.append(concise_line(rows[0]) + f" [{len(rows)} in test files; `--output-format json-lines` lists each]")
    lines.append(summary_line(plan))
    return "\n".join(lines) + "\n"


# --- lines ---------------------------------------------------------------------------------

def _where(d: Diagnostic) -> str:
    return f"{d.path}:{d.line}:{max(d.column, 1)}:" if d.line > 0 else f"{d.path}:"


def concise_line(d: Diagnostic) -> str:
    """`path:line:col: ID message`; a change is marked `[*]` (safe) or `[unsafe-fix]`, a
    refusal `(left alone)`."""
    if d.kind == CHANGE:
        marker = "[unsafe-fix] " if d.tier == UNSAFE else "[*] "
    elif d.kind == FINDING:
        marker = ""
    elif d.kind == SKIP:
        return f"{_where(d)} {_one_line(d.message)}"
    else:
        marker = "(left alone) "
    return f"{_where(d)} {d.code} {marker}{_one_line(d.message)}"


def _details(d: Diagnostic) -> list[str]:
    found = []
    if d.note:
        found.append(f"  fix: {_one_line(d.note)}")
    if d.kind == CHANGE:
        found.append("  unsafe fix: applied with --unsafe-fixes" if d.tier == UNSAFE else "  safe fix")
    if d.url:
        found.append(f"  docs: {d.url}")
    return found


def summary_line(plan: Plan) -> str:
    """What was found, counted; only the kinds there are (a clean tree says so)."""
    changes = [c for o in plan.outcomes for c in o.changes]
    unsafe = sum(1 for c in changes if c.tier == UNSAFE)
    files = len({e.path for o in plan.outcomes for e in o.edits})
    parts = []
    if changes:
        parts.append(
            f"{count(len(changes), 'change')}" + (f" ({unsafe} unsafe)" if unsafe else "") + f" in {count(files, 'file')}"
        )
    if plan.refusals:
        parts.append(f"{len(plan.refusals)} left alone")
    if plan.findings:
        parts.append(count(len(plan.findings), "finding"))
    scanned = f"{plan.files_scanned} Python files, {plan.files_parsed} parsed" + (
        f", {plan.files_reused} reused" if plan.files_reused else ""
    ) + (f", {len(plan.skips)} skipped" if plan.skips else "")
    return (f"Found {', '.join(parts)}" if parts else "Nothing to change or report") + f" ({scanned})."


def count(n: int, noun: str) -> str:
    """`1 change`, `2 changes`."""
    return f"{n} {noun}{'s' * (n != 1)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- github ----------------------------------------------------------------------------------

def github_line(d: Diagnostic) -> str:
    """A workflow command: `::warning file=...,line=...,col=...::message`."""
    level = "notice" if d.kind not in (FINDING, CHANGE) else "warning"
    fields = [f"file={_escape_property(d.path)}"]
    if d.line > 0:
        fields.append(f"line={d.line}")
        if d.column > 0:
            fields.append(f"col={d.column}")
        if d.end_line > 0:
            fields.append(f"endLine={d.end_line}")
            if d.end_column > 0:
                fields.append(f"endColumn={d.end_column}")
    fields.append(f"title={_escape_property(f'optimize ({d.code or d.kind})')}")
    message = concise_line(d) + (f" (fix: {_one_line(d.note)})" if d.note else "")
    return f"::{level} {','.join(fields)}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# --- json ------------------------------------------------------------------------------------

def _item(d: Diagnostic) -> dict:
    data = {
        "kind": d.kind,
        "code": d.code,
        "path": d.path,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "message": d.message,
        "url": d.url or None,
    }
    if d.kind == FINDING:
        data["suggested_fix"] = d.note
    if d.kind == CHANGE:
        data["tier"] = d.tier
        data["fix"] = None if d.fix is None else {
            "applicability": d.fix.applicability,
            "path": d.fix.path,
            "edits": [asdict(r) for r in d.fix.replacements],
        }
    return data


def json_document(plan: Plan, prefix: str, items: list[Diagnostic]) -> str:
    """The whole result. The keys of schema version 1 stay: each finding has `check`,
    `message`, `fix`; each change `codemod`, `rationale`, `tier`; each refusal `codemod`,
    `reason`."""

    def located(item) -> dict:
        data = asdict(item)
        data["path"] = prefix + data["path"]
        return data

    by_key = {(d.kind, d.code, d.path, d.line, d.column, d.message): d for d in items}

    def extended(kind: str, item, code: str, message: str) -> dict:
        data = located(item)
        d = by_key.get((kind, code, prefix + item.path, item.line, item.column, message))
        if d is not None:
            data["url"] = d.url or None
            if kind == CHANGE:
                data["edit"] = _item(d)["fix"]
        return data

    return json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "version": __version__,
            "files_scanned": plan.files_scanned,
            "files_parsed": plan.files_parsed,
            "files_reused": plan.files_reused,
            "files_parsed_by": plan.parsed_by,
            "findings": [extended(FINDING, f, f.check, f.message) for f in plan.findings],
            "changes": [extended(CHANGE, c, c.codemod, c.rationale) for o in plan.outcomes for c in o.changes],
            "refusals": [extended("refusal", r, r.codemod, r.reason) for r in plan.refusals],
            "skipped_files": [located(s) for s in plan.skips],
        },
        indent=2,
    )
