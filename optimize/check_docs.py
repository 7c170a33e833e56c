"""The documentation page of every check, generated from its code: the module docstring
(What it does / Why is this bad? / Example / Use instead), its options and the examples
its tests are generated from. `python -m optimize.check_docs [DIR]`, run at the root of
the checkout, rewrites `docs/checks/` (or DIR); a test fails when a page differs from what
this would write.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from optimize.analyzers.checks.base import Clean, IndexCheck, Report
from optimize.analyzers.checks.registry import CHECKS


def _module_path(check) -> str:
    return check.__module__.replace("optimize.", "", 1).replace(".", "/") + ".py"


def page(check) -> str:
    doc = textwrap.dedent(sys.modules[check.__module__].__doc__ or "").strip()
    kind = "the repository's facts (no parse)" if issubclass(check, IndexCheck) else "the parsed file and the semantic model"
    lines = [
        f"# {check.ID}",
        "",
        f"{check.TITLE[0].upper()}{check.TITLE[1:]}.",
        "",
        f"Module: `{_module_path(check)}` · Reads: {kind} · Fixed by: "
        + (f"`{check.FIXED_BY}`" if check.FIXED_BY else "nothing yet (reported only)")
        + f" · Suppress: `# optimize: ignore[{check.ID}]`",
        "",
        doc,
        "",
    ]
    if check.OPTIONS:
        lines += ["## Options", "", "```toml", f"[tool.optimize.{check.ID}]"]
        lines += [f"{k} = {v!r}".replace("'", '"') for k, v in check.OPTIONS.items()]
        lines += ["```", ""]
    lines += ["## Examples (each one is a test)", ""]
    for example in check.EXAMPLES:
        verdict = f"reported: {example.message}" if isinstance(example, Report) else "not reported"
        lines += [f"### {example.name} ({verdict})", ""]
        for path, text in example.files.items():
            if text.strip():
                lines += [f"`{path}`:", "```python" if path.endswith(".py") else "```", textwrap.dedent(text).strip(), "```", ""]
        if example.requirements:
            lines += [f"Requirements: `{example.requirements.strip()}`", ""]
        if example.options:
            lines += [f"Options: `{dict(example.options)}`", ""]
        lines += ["```python", textwrap.dedent(example.code).strip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def index_page() -> str:
    lines = ["# Checks", "", "What `optimize scan` reports besides the rewrites, in the order listed.", "",
             "| id | finds | fixed by |", "| --- | --- | --- |"]
    lines += [f"| [{c.ID}]({c.ID}.md) | {c.TITLE} | {c.FIXED_BY or '-'} |" for c in CHECKS]
    return "\n".join(lines) + "\n"


def pages() -> dict[str, str]:
    return {"README.md": index_page(), **{f"{c.ID}.md": page(c) for c in CHECKS}}


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/checks")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in pages().items():
        (out / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
