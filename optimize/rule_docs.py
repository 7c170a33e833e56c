"""The documentation page of every codemod and check, generated from its code: the module
docstring (What it does / Why is this bad? / Example / Use instead / Fix safety), its
options, the tests that prove its claims (codemods) and the examples its tests are
generated from. `python -m optimize.rule_docs [DIR]`, run at the root of the checkout,
rewrites `docs/codemods/` and `docs/checks/` (or those under DIR); a test fails when a page
differs from what this would write. `optimize explain ID` prints the same page.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from optimize.analyzers.checks.base import IndexCheck, Report
from optimize.analyzers.checks.registry import CHECKS
from optimize.codemods.base import Keep, Rewrite
from optimize.codemods.registry import REGISTRY


def module_path(rule) -> str:
    return rule.__module__.replace("optimize.", "", 1).replace(".", "/") + ".py"


def docstring(rule) -> str:
    return textwrap.dedent(sys.modules[rule.__module__].__doc__ or "").strip()


def _files(example) -> list[str]:
    lines = []
    for path, text in example.files.items():
        if text.strip():
            lines += [f"`{path}`:", "```python" if path.endswith(".py") else "```", textwrap.dedent(text).strip(), "```", ""]
    if example.requirements:
        lines += [f"Requirements: `{example.requirements.strip()}`", ""]
    if example.options:
        lines += [f"Options: `{dict(example.options)}`", ""]
    return lines


def _options(rule) -> list[str]:
    if not rule.OPTIONS:
        return []
    lines = ["## Options", "", "```toml", f"[tool.optimize.{rule.ID}]"]
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in rule.OPTIONS.items()]
    return [*lines, "```", ""]


def check_page(check) -> str:
    kind = "the repository's facts (no parse)" if issubclass(check, IndexCheck) else "the parsed file and the semantic model"
    lines = [
        f"# {check.ID}",
        "",
        f"{check.TITLE[0].upper()}{check.TITLE[1:]}.",
        "",
        f"Module: `{module_path(check)}` · Reads: {kind} · Fixed by: "
        + (f"`{check.FIXED_BY}`" if check.FIXED_BY else "nothing yet (reported only)")
        + f" · Suppress: `# optimize: ignore[{check.ID}]`",
        "",
        docstring(check),
        "",
        *_options(check),
        "## Examples (each one is a test)",
        "",
    ]
    for example in check.EXAMPLES:
        verdict = f"reported: {example.message}" if isinstance(example, Report) else "not reported"
        lines += [f"### {example.name} ({verdict})", "", *_files(example)]
        lines += ["```python", textwrap.dedent(example.code).strip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def codemod_page(codemod) -> str:
    tests = ["its `EXAMPLES` (`tests/codemods/test_examples.py`)", *(_test_reference(t) for t in codemod.TESTS)]
    lines = [
        f"# {codemod.ID}",
        "",
        f"{codemod.TITLE[0].upper()}{codemod.TITLE[1:]}.",
        "",
        f"Fix safety: **{codemod.SAFETY}** · Module: `{module_path(codemod)}` · Applies when: {codemod.CONDITIONS}"
        + f" · Suppress: `# optimize: ignore[{codemod.ID}]`",
        "",
        "Tests: " + ", ".join(tests),
        "",
        docstring(codemod),
        "",
        *_options(codemod),
        "## Examples (each one is a test)",
        "",
    ]
    for example in codemod.EXAMPLES:
        if isinstance(example, Rewrite):
            lines += [f"### {example.name or 'rewritten'} (rewritten)", "", *_files(example)]
            lines += ["Before:", "```python", textwrap.dedent(example.before).strip(), "```", ""]
            lines += ["After:", "```python", textwrap.dedent(example.after).strip(), "```", ""]
        elif isinstance(example, Keep):
            verdict = f"left alone: {example.reason}" if example.reason else "left alone"
            lines += [f"### {example.name or 'left alone'} ({verdict})", "", *_files(example)]
            lines += ["```python", textwrap.dedent(example.code).strip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _test_reference(reference: str) -> str:
    path, _, note = reference.partition(" (")
    return f"`{path}`" + (f" ({note}" if note else "")


def cited_tests(codemod) -> list[tuple[str, str]]:
    """(file, test name or "") of each reference in the codemod's `TESTS`."""
    found = []
    for reference in codemod.TESTS:
        path, _, name = reference.partition(" (")[0].partition("::")
        found.append((path, name))
    return found


def _index(title: str, intro: str, header: str, rows: list[str]) -> str:
    return "\n".join([f"# {title}", "", intro, "", header, "| --- | --- | --- |", *rows]) + "\n"


def pages() -> dict[str, str]:
    """Relative path under `docs/` -> page."""
    found = {
        "checks/README.md": _index(
            "Checks", "What `optimize scan` reports besides the rewrites, in the order listed.",
            "| id | finds | fixed by |", [f"| [{c.ID}]({c.ID}.md) | {c.TITLE} | {c.FIXED_BY or '-'} |" for c in CHECKS],
        ),
        "codemods/README.md": _index(
            "Codemods", "What `optimize apply` rewrites, one commit each, in the order they run.",
            "| id | fix safety | does |", [f"| [{c.ID}]({c.ID}.md) | {c.SAFETY} | {c.TITLE} |" for c in REGISTRY],
        ),
    }
    found.update({f"checks/{c.ID}.md": check_page(c) for c in CHECKS})
    found.update({f"codemods/{c.ID}.md": codemod_page(c) for c in REGISTRY})
    return found


def explain(rule_id: str) -> str | None:
    """The page of the codemod or check ``rule_id`` (None for an unknown id)."""
    for c in REGISTRY:
        if c.ID == rule_id:
            return codemod_page(c)
    for c in CHECKS:
        if c.ID == rule_id:
            return check_page(c)
    return None


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    for name, text in pages().items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
