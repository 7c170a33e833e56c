"""LibCST on what is rewritten: a module reduced to the statements a codemod may edit.

LibCST's metadata (scopes, qualified names, positions) costs in proportion to the module,
while an engine codemod edits one call. For a codemod whose edit stays inside the
statement that holds its candidate (`Codemod.candidate_lines`), the engine parses a
*reduced* module instead: every function and class that holds no candidate line keeps its
header and gets `...` for a body, its other lines left empty. Nothing moves: every kept
line is at its own line number, so positions, refusals and the rewrite are the same; the
module still binds every name it binds (a function or class is still defined, only its
body is gone), so names in the kept statements resolve as before.

One flow crosses function bodies: a dict splatted into an engine call (`**ENGINE_OPTIONS`)
is followed to every use of its name in the module, any of which may change it
(`analyzers.engine_options`). A definition that mentions a name the candidate calls splat
is kept whole.

The rewrite is put back into the real file by `splice`: the lines that differ between
the reduced input and output form one hunk, copied into the file in place of the same
lines. When that hunk touches or borders an emptied line, or a function whose body is
emptied declares `global` / `nonlocal` names (it could bind a module name), nothing is
reduced and the engine parses the whole module, as it always did. An emptied function is
never read by LibCST: one nested too deeply for it no longer makes the file unreadable to
these codemods (its bytes are copied through unchanged).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Reduction:
    source: bytes  # the reduced module, as many lines as the file
    emptied: frozenset[int]  # its lines (1-based) that differ from the file's


def reduce(source: bytes, keep: frozenset[int]) -> Reduction | None:
    """``source`` with the bodies of definitions that hold none of the ``keep`` lines
    emptied; None when nothing can be reduced safely (see the module docstring)."""
    if not keep or b"\r" in source:
        return None  # old Mac or Windows line endings: lines are not split on \n alone
    try:
        source.decode("utf-8")
        tree = ast.parse(source)
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    lines = source.split(b"\n")
    emptied: set[int] = set()
    splatted = {
        k.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and node.lineno in keep
        for k in node.keywords
        if k.arg is None and isinstance(k.value, ast.Name)
    }
    if not _reduce_body(tree.body, keep, lines, emptied, splatted):
        return None
    if not emptied:
        return None
    return Reduction(b"\n".join(lines), frozenset(emptied))


def _reduce_body(
    body: list[ast.stmt], keep: frozenset[int], lines: list[bytes], emptied: set[int], splatted: set[str]
) -> bool:
    """Empty the definitions of ``body`` that hold no kept line and mention no
    ``splatted`` name (in place); False when a body to empty could bind a module name."""
    for node in body:
        if not isinstance(node, _DEFINITIONS):
            continue
        start = min([d.lineno for d in node.decorator_list] + [node.lineno])
        end = node.end_lineno or node.lineno
        if any(start <= line <= end for line in keep):
            if isinstance(node, ast.ClassDef) and not _reduce_body(node.body, keep, lines, emptied, splatted):
                return False
            continue  # a function holding a candidate is kept whole
        first = node.body[0]
        before = lines[first.lineno - 1][: first.col_offset]
        if first.lineno <= node.lineno or before.strip():
            continue  # `def f(): return 1`: the body shares the header's line
        inside = list(ast.walk(node))
        if any(isinstance(inner, (ast.Global, ast.Nonlocal)) for inner in inside):
            return False
        if splatted and any(isinstance(inner, ast.Name) and inner.id in splatted for inner in inside):
            continue
        lines[first.lineno - 1] = before + b"..."
        for line in range(first.lineno + 1, end + 1):
            lines[line - 1] = b""
        emptied.update(range(first.lineno, end + 1))
    return True


def splice(full: bytes, reduced_in: bytes, reduced_out: bytes, emptied: frozenset[int]) -> tuple[bytes, frozenset[int]] | None:
    """The file ``full`` with the rewrite of its reduction (``reduced_in`` became
    ``reduced_out``) copied in, and the reduction's emptied lines after it; None when the
    rewrite reaches an emptied line or its neighbours (the whole module must be parsed)."""
    old, new, whole = reduced_in.split(b"\n"), reduced_out.split(b"\n"), full.split(b"\n")
    if len(old) != len(whole):
        return None
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    # The hunk is lines prefix+1 .. len(old)-suffix (1-based); with a neighbour each side.
    if any(prefix <= line <= len(old) - suffix + 1 for line in emptied):
        return None
    spliced = whole[:prefix] + new[prefix : len(new) - suffix] + whole[len(old) - suffix :]
    shift = len(new) - len(old)
    return b"\n".join(spliced), frozenset(line if line <= prefix else line + shift for line in emptied)
