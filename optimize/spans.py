"""LibCST on what is rewritten: a module reduced to the statements a codemod may edit.

LibCST's metadata (scopes, qualified names, positions) costs in proportion to the module,
while an engine codemod edits one call. For a codemod whose edit stays inside the
statement that holds its candidate (`Codemod.candidate_lines`), the engine parses a
*reduced* module instead: every function and class that holds no candidate line keeps its
header and gets `...` for a body, its other lines left empty (in a class that holds one, a
method that the class body does not name goes whole). Nothing moves: every kept
line is at its own line number, so positions, refusals and the rewrite are the same; the
module still binds every name it binds (a function or class is still defined, only its
body is gone), so names in the kept statements resolve as before.

One flow crosses function bodies: a dict splatted into an engine call (`**ENGINE_OPTIONS`)
is followed to every use of its name in the module, any of which may change it
(`analyzers.engine_options`). A definition that mentions a name the candidate calls splat
is kept whole, unless the name is a local of the function making the call (a parameter,
`def make(url, **kw)`, or a name it assigns and declares neither `global` nor `nonlocal`):
that function is kept whole, and a `kw` anywhere else is another variable.

The rewrite is put back into the real file by `splice`: each run of lines that differs
between the reduced input and output (a hunk) is copied into the file in place of the
same lines. When a hunk touches or borders an emptied line, when the rewrite drops an
import whose name the file still reads (judged unused in the reduced module, where the
emptied bodies that read it were missing), or a function whose body is emptied declares
`global` / `nonlocal` names (it could bind a module name), nothing is reduced and the
engine parses the whole module, as it always did. An emptied function is
never read by LibCST: one nested too deeply for it no longer makes the file unreadable to
these codemods (its bytes are copied through unchanged).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from optimize.linediff import opcodes

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_WORD = re.compile(r"[^\W\d]\w*")


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
    splatted = _splatted_outside(tree, keep)
    if not _reduce_body(tree.body, keep, lines, emptied, splatted):
        return None
    if not emptied:
        return None
    return Reduction(b"\n".join(lines), frozenset(emptied))


def _splatted_outside(tree: ast.Module, keep: frozenset[int]) -> set[str]:
    """The names splatted (`**name`) into a call on a ``keep`` line that are not locals
    of the function the call is in."""
    found: set[str] = set()
    todo: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]  # a stack: trees nest deeper than recursion goes
    while todo:
        node, function = todo.pop()
        if isinstance(node, ast.Call) and node.lineno in keep:
            found.update(
                k.value.id for k in node.keywords
                if k.arg is None and isinstance(k.value, ast.Name) and not _local_to(k.value.id, function)
            )
        inner = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else function
        todo.extend((child, inner) for child in ast.iter_child_nodes(node))
    return found


def _local_to(name: str, function: ast.AST | None) -> bool:
    """Whether ``name`` is a local variable of ``function`` (not of a scope nested in it)."""
    if function is None:
        return False
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    if any(a is not None and a.arg == name for a in every):
        return True
    if isinstance(function, ast.Lambda):
        return False
    bound = False
    todo = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return False
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound = True
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = bound or node.name == name
            # Decorators and defaults run here; the body is another scope.
            todo.extend([*node.decorator_list, *getattr(node, "bases", ()), *getattr(node, "keywords", ())])
            if not isinstance(node, ast.ClassDef):
                todo.extend(d for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None)
            continue
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue  # scopes of their own (a comprehension's first iterable aside, which binds nothing)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = bound or any((a.asname or a.name.split(".", 1)[0]) == name for a in node.names)
        todo.extend(ast.iter_child_nodes(node))
    return bound


def _reduce_body(
    body: list[ast.stmt],
    keep: frozenset[int],
    lines: list[bytes],
    emptied: set[int],
    splatted: set[str],
    class_names: set[str] | None = None,
) -> bool:
    """Empty the definitions of ``body`` that hold no kept line and mention no
    ``splatted`` name (in place); False when a body to empty could bind a module name.

    In the body of a class that holds a kept line (``class_names``: the names its own
    statements read), a method holding none goes whole, header and decorators too, when
    nothing there reads its name: a method's body never sees the names of its class, so
    no kept statement can tell it was there (a class of 300 properties is 300 headers)."""
    for node in body:
        if not isinstance(node, _DEFINITIONS):
            continue
        start = min([d.lineno for d in node.decorator_list] + [node.lineno])
        end = node.end_lineno or node.lineno
        if any(start <= line <= end for line in keep):
            # Its methods may go whole only while a statement of its body holds a kept line
            # and so stays (one on the class's header or decorators keeps them all).
            holds = isinstance(node, ast.ClassDef) and any(
                s.lineno <= line <= (s.end_lineno or s.lineno) for s in node.body for line in keep
            )
            if isinstance(node, ast.ClassDef) and not _reduce_body(
                node.body, keep, lines, emptied, splatted, _class_scope_names(node) if holds else None
            ):
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
        if (
            class_names is not None
            and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name not in class_names
        ):
            for line in range(start, end + 1):
                lines[line - 1] = b""
            emptied.update(range(start, end + 1))
            continue
        lines[first.lineno - 1] = before + b"..."
        for line in range(first.lineno + 1, end + 1):
            lines[line - 1] = b""
        emptied.update(range(first.lineno, end + 1))
    return True


def _class_scope_names(node: ast.ClassDef) -> set[str]:
    """The names the statements of a class body read in its scope: everything but its
    functions' and nested classes' bodies (decorators, defaults, annotations, bases and
    class-level statements are read there)."""
    found: set[str] = set()
    for statement in node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = statement.args
            parts: list[ast.AST | None] = [
                *statement.decorator_list, *arguments.defaults, *arguments.kw_defaults, statement.returns,
                *(a.annotation for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                         arguments.vararg, arguments.kwarg] if a is not None),
                *getattr(statement, "type_params", ()),
            ]
        elif isinstance(statement, ast.ClassDef):
            parts = [*statement.decorator_list, *statement.bases, *statement.keywords, *getattr(statement, "type_params", ())]
        else:
            parts = [statement]
        found.update(n.id for part in parts if part is not None for n in ast.walk(part) if isinstance(n, ast.Name))
    return found


def splice(full: bytes, reduced_in: bytes, reduced_out: bytes, emptied: frozenset[int]) -> tuple[bytes, frozenset[int]] | None:
    """The file ``full`` with the rewrite of its reduction (``reduced_in`` became
    ``reduced_out``) copied in, and the reduction's emptied lines after it; None when the
    rewrite reaches an emptied line or its neighbours (the whole module must be parsed).

    Each run of changed lines (a hunk: the call rewritten in a function, the import added
    at the top) is copied on its own; the lines between hunks come from ``full``, so an
    emptied body gets its real lines back wherever the hunks before it moved it."""
    old, new, whole = reduced_in.split(b"\n"), reduced_out.split(b"\n"), full.split(b"\n")
    if len(old) != len(whole):
        return None
    spliced: list[bytes] = []
    moved: dict[int, int] = {}  # an emptied line (1-based) -> its line in the output
    for tag, i1, i2, j1, j2 in opcodes(old, new):
        if tag == "equal":
            for offset in range(i2 - i1):
                if i1 + offset + 1 in emptied:
                    moved[i1 + offset + 1] = j1 + offset + 1
            spliced.extend(whole[i1:i2])
            continue
        # Old lines i1+1 .. i2 (1-based) change; with a neighbour each side.
        if any(i1 <= line <= i2 + 1 for line in emptied):
            return None
        spliced.extend(new[j1:j2])
    if len(moved) != len(emptied) or len(spliced) != len(new):
        return None
    # The output is the reduced output with the emptied lines given back, nothing else.
    given_back = frozenset(moved.values())
    if any(line != new[n] for n, line in enumerate(spliced) if n + 1 not in given_back):
        return None
    out = b"\n".join(spliced)
    if _drops_a_used_import(full, out):
        return None
    return out, given_back


def _drops_a_used_import(full: bytes, out: bytes) -> bool:
    """Whether ``out`` lost a module-level import whose name it still reads: a codemod
    that removes the imports its rewrite no longer needs (`select`) judged them unused in
    the reduced module, where the emptied bodies that may read them were not."""
    before = _imported_names(full)
    if before is None:
        return True
    lost = before - (_imported_names(out) or set())
    if not lost:
        return False
    try:
        tree = ast.parse(out)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    # A name in a string counts too: a string annotation (`rows: "list[Select]"`) and
    # `__all__` read it where `ast` sees only text.
    return any(
        (isinstance(n, ast.Name) and n.id in lost)
        or (isinstance(n, ast.Constant) and isinstance(n.value, str) and not lost.isdisjoint(_WORD.findall(n.value)))
        for n in ast.walk(tree)
    )


def _imported_names(source: bytes) -> set[str] | None:
    """The names the module's own imports bind (in its compound statements too, not in
    its functions and classes); None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found: set[str] = set()
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            found.update(a.asname or a.name.split(".", 1)[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update(a.asname or a.name for a in node.names if a.name != "*")
        elif isinstance(node, (ast.stmt, ast.excepthandler, ast.match_case)) and not isinstance(node, _DEFINITIONS):
            todo.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, (ast.stmt, ast.excepthandler, ast.match_case)))
    return found
