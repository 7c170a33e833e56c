"""SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

One result per diagnostic: a finding or a change is a `warning`, a refusal a `note`. A
change carries its codemod's edit of the file as a `fix` (`artifactChanges` whose
`replacements` delete whole lines and insert the new ones). Each rule has its title, its
documentation (the codemod's or check's module docstring, in `help`), its page when the package
says where the docs are (`helpUri`), and in `properties` its fix safety.
"""

from __future__ import annotations

import inspect
import json
import sys
from typing import Any, Iterable

from optimize import __version__
from optimize.reports.diagnostics import CHANGE, FINDING, SKIP, Diagnostic, Fix, Replacement, docs_url

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif(items: list[Diagnostic], rules: Iterable[Any]) -> str:
    """``rules``: the codemod and check classes that may have reported (each by `ID`)."""
    described = {r["id"]: r for r in (_rule(rule) for rule in rules)}
    skipped = [d for d in items if d.kind == SKIP]
    items = [d for d in items if d.kind != SKIP]
    for d in items:  # a diagnostic of a rule not passed in still has its rule
        described.setdefault(d.code, {"id": d.code, "name": d.code, "shortDescription": {"text": d.code}})
    order = {code: n for n, code in enumerate(described)}
    return json.dumps(
        {
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "optimize",
                            "version": __version__,
                            "semanticVersion": __version__,
                            "rules": list(described.values()),
                        }
                    },
                    "columnKind": "unicodeCodePoints",
                    # Files not read (too big, not UTF-8, unparsable): notes of the run itself.
                    "invocations": [
                        {
                            "executionSuccessful": True,
                            "toolExecutionNotifications": [
                                {
                                    "level": "note",
                                    "message": {"text": f"skipped: {d.message}"},
                                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": d.path}}}],
                                }
                                for d in skipped
                            ],
                        }
                    ],
                    "results": [_result(d, order[d.code]) for d in items],
                }
            ],
        },
        indent=2,
    )


def _rule(rule: Any) -> dict:
    kind = "checks" if getattr(rule, "SAFETY", "") == "report" else "codemods"
    # A codemod's or check's documentation is its module's docstring (as `docs/` is made of).
    doc = inspect.cleandoc(getattr(sys.modules.get(rule.__module__), "__doc__", None) or "") or rule.TITLE
    found: dict[str, Any] = {
        "id": rule.ID,
        "name": rule.ID,
        "shortDescription": {"text": rule.TITLE},
        "fullDescription": {"text": getattr(rule, "DESCRIPTION", "") or rule.TITLE},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": "warning"},
        "properties": {
            "kind": "check" if kind == "checks" else "codemod",
            "fix_safety": getattr(rule, "SAFETY", ""),
        },
    }
    url = docs_url(kind, rule.ID)
    if url:
        found["helpUri"] = url
    return found


def _result(d: Diagnostic, rule_index: int) -> dict:
    location: dict[str, Any] = {"artifactLocation": {"uri": d.path}}
    if d.line > 0:
        region: dict[str, int] = {"startLine": d.line}
        if d.column > 0:
            region["startColumn"] = d.column
        if d.end_line >= d.line:
            region["endLine"] = d.end_line
            if d.end_column > 0:
                region["endColumn"] = d.end_column
        location["region"] = region
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": "warning" if d.kind in (FINDING, CHANGE) else "note",
        "message": {"text": d.message + (f" Fix: {d.note}" if d.note else "")},
        "locations": [{"physicalLocation": location}],
        "properties": {"kind": d.kind},
    }
    if d.kind == CHANGE:
        result["properties"]["tier"] = d.tier
        if d.fix is not None:
            result["fixes"] = [_fix(d.fix, d.message)]
    return result


def _fix(fix: Fix, description: str) -> dict:
    return {
        "description": {"text": f"{description} ({fix.applicability} fix)"},
        "artifactChanges": [
            {"artifactLocation": {"uri": fix.path}, "replacements": [_replacement(r) for r in fix.replacements]}
        ],
    }


def _replacement(r: Replacement) -> dict:
    # Whole lines: from the start of line `start` to the start of line `end` (an empty
    # region for an insertion); line `end` may be one past the last (the end of the file).
    return {
        "deletedRegion": {"startLine": r.start, "startColumn": 1, "endLine": r.end, "endColumn": 1},
        "insertedContent": {"text": r.content},
    }
