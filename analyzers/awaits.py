"""The awaited calls a module's async functions make as statements, read with `ast`.

`await notify(...)` alone on its line, in an `async def`: what `fire-and-forget-broadcast`
judges. Its judgement starts with questions only the index answers (is the callee a
broadcast, who calls the function); when those already refuse every such statement of a
file, the codemod can say so without LibCST. That needs each statement exactly as the
LibCST reading sees it, so this module reads only what it can read the same way and gives
up (None) on the rest:

- the statement: a line of its own (`await f()` after `;` or after `if x:` is another
  LibCST node, and is not one); its span in characters, as LibCST's positions count;
- the callee as LibCST's `QualifiedNameProvider` names it: a dotted name whose first part
  the function does not bind, bound once at module level, by an import (`from .ws import
  manager` gives `.ws.manager.broadcast`, made absolute through the index as the codemods
  do) or by a definition or assignment (`manager.broadcast` as written, a bare `notify`
  with the module's name before it);
- a name the function binds itself (a parameter, a local) as LibCST names it
  (`Service.run.<locals>.self.notify`);
- no `await <call>` statement inside a function or class defined in the function (LibCST's
  reading judges those in both), and none in an async function defined in another.

`tests/analyzers/test_awaits.py` checks the reading against LibCST's on real modules.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from optimize.analyzers.calls import is_route

# Characters `str.splitlines` breaks lines at that Python does not: lines would be
# counted differently by the two readings.
_ODD_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass(frozen=True)
class AwaitedStatement:
    line: int
    column: int  # 1-based, in characters
    end_line: int
    end_column: int
    callee: str  # as the codemod's LibCST reading qualifies it (before making it absolute)


@dataclass(frozen=True)
class AsyncFunction:
    name: str
    route: bool
    statements: tuple[AwaitedStatement, ...]
    first_line: int  # of its decorators or header
    last_line: int

    def holds(self, line: int) -> bool:
        return self.first_line <= line <= self.last_line


def async_functions(source: bytes, module: str) -> list[AsyncFunction] | None:
    """Every async function of ``source`` with its awaited call statements, in the order
    of the file; None when some part cannot be read as LibCST reads it (see above)."""
    try:
        text = source.decode("utf-8")
        tree = ast.parse(source)
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    if text.startswith("\ufeff") or _ODD_BREAKS.search(text):
        return None
    lines = re.split("\r\n|\r|\n", text)
    bindings = _module_bindings(tree)
    if bindings is None:
        return None
    found = []
    for node, qualname, inside_function in _async_definitions(tree):
        if inside_function:
            if _awaits_a_call(node):
                return None  # judged within the functions around it too
            continue
        statements = []
        local = _local_names(node)
        for statement in _statements(node.body):
            if statement is None:
                return None  # a definition inside that awaits a call
            if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Await)):
                continue
            call = statement.value.value
            if not isinstance(call, ast.Call):
                continue
            alone = _alone_on_its_line(statement, lines)
            if alone is None:
                return None
            if not alone:
                continue
            callee = _callee(call.func, local, qualname, bindings, module)
            if callee is None:
                return None
            statements.append(AwaitedStatement(
                statement.lineno,
                _characters(lines[statement.lineno - 1], statement.col_offset) + 1,
                statement.end_lineno or statement.lineno,
                _characters(lines[(statement.end_lineno or statement.lineno) - 1], statement.end_col_offset or 0) + 1,
                callee,
            ))
        statements.sort(key=lambda s: (s.line, s.column))
        first = min([d.lineno for d in node.decorator_list] + [node.lineno])
        found.append(AsyncFunction(node.name, is_route(node), tuple(statements), first, node.end_lineno or node.lineno))
    return found


def _async_definitions(tree: ast.Module) -> list[tuple[ast.AsyncFunctionDef, str, bool]]:
    """Every `async def` in document order, with its name inside the module (`Service.run`)
    and whether a function or lambda holds it."""
    found: list[tuple[ast.AsyncFunctionDef, str, bool]] = []

    def visit(node: ast.AST, prefix: str, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            name = getattr(child, "name", None)
            qualname = f"{prefix}.{name}" if prefix and name else (name or prefix)
            if isinstance(child, ast.AsyncFunctionDef):
                found.append((child, qualname, inside))
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, qualname, True)
            else:
                visit(child, qualname if isinstance(child, ast.ClassDef) else prefix, inside)

    visit(tree, "", False)
    return found


def _awaits_a_call(node: ast.AST) -> bool:
    """Whether an `await <call>` statement is anywhere inside ``node``."""
    return any(
        isinstance(n, ast.Expr) and isinstance(n.value, ast.Await) and isinstance(n.value.value, ast.Call)
        for n in ast.walk(node)
    )


def _statements(body: list[ast.stmt]):
    """The statements of a function body, through compound statements; None for a
    definition inside that awaits a call (LibCST's reading judges it here too)."""
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if _awaits_a_call(statement):
                yield None
                return
            continue
        yield statement
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                yield from _statements(inner)
        for handler in getattr(statement, "handlers", ()):
            yield from _statements(handler.body)
        for case in getattr(statement, "cases", ()):
            yield from _statements(case.body)


def _alone_on_its_line(statement: ast.stmt, lines: list[str]) -> bool | None:
    """Whether the statement is a line of its own (LibCST's `SimpleStatementLine` of one
    statement); None when a backslash continues a line next to it."""
    first, last = lines[statement.lineno - 1], lines[(statement.end_lineno or statement.lineno) - 1]
    before = first.encode("utf-8")[: statement.col_offset].decode("utf-8")
    after = last.encode("utf-8")[statement.end_col_offset or 0 :].decode("utf-8").strip()
    if statement.lineno > 1 and lines[statement.lineno - 2].rstrip().endswith("\\"):
        return None
    if after.endswith("\\"):
        return None
    return not before.strip() and not after.startswith(";")


def _characters(line: str, offset: int) -> int:
    """A UTF-8 byte offset into ``line`` (as `ast` counts columns) in characters."""
    return len(line.encode("utf-8")[:offset].decode("utf-8", errors="replace"))


def _dotted(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _callee(func: ast.AST, local: dict[str, list], qualname: str, bindings: dict[str, list], module: str) -> str | None:
    """The callee's name as the codemod's LibCST reading gives it (`local`: what the
    function binds; `bindings`: what the module binds)."""
    parts = _dotted(func)
    if parts is None:
        return None
    head, dotted = parts[0], ".".join(parts)
    bound = local.get(head) or bindings.get(head, [])
    if head in local:
        imported = {isinstance(b, str) for b in bound}
        if imported == {False}:
            return f"{qualname}.<locals>.{dotted}"  # a parameter or a local, as LibCST names it
        if imported != {True}:
            return None  # imported and assigned
    if len(bound) != 1:
        return None  # a builtin, a name bound nowhere, or bound more than once
    binding = bound[0]
    # An import: the qualified name it gives; a definition or an assignment in the module:
    # the name as written.
    name = ".".join([binding, *parts[1:]]) if isinstance(binding, str) else dotted
    return name if "." in name or not module else f"{module}.{name}"


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _local_names(function: ast.AsyncFunctionDef) -> dict[str, list]:
    """Every name the function's own scope binds, with its bindings as `_module_bindings`
    gives them (an import's qualified name, or the binding node): parameters,
    assignments, loop and `with` targets, imports, handlers' and patterns' names,
    definitions inside it (not their insides), walrus targets (in a comprehension too),
    `global`/`nonlocal`."""
    names: dict[str, list] = {}

    def bind(name: str, how: object) -> None:
        names.setdefault(name, []).append(how)

    arguments = function.args
    for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]:
        if a is not None:
            bind(a.arg, a)
    todo: list[tuple[ast.AST, bool]] = [(s, False) for s in function.body]
    while todo:
        node, in_comprehension = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name, node)
            todo.extend((d, in_comprehension) for d in node.decorator_list)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            bind(node.target.id, node)
        elif in_comprehension:
            pass  # a comprehension's own variables are its own
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bind(node.id, node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for how, name in _imported(node):
                bind(name, how)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                bind(name, node)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name, node)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bind(node.name, node)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bind(node.rest, node)
        inner = in_comprehension or isinstance(node, _COMPREHENSIONS)
        todo.extend((child, inner) for child in ast.iter_child_nodes(node))
    return names


def _imported(node: ast.Import | ast.ImportFrom) -> list[tuple[object, str]]:
    """(binding, name) for each name an import binds: the qualified name LibCST gives it
    (a relative import keeps its dots); `import a.b`, which binds `a` in a way the two
    readings may name differently, binds it twice (so that it is not read)."""
    found: list[tuple[object, str]] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                found.append((alias.name, alias.asname))
            elif "." in alias.name:
                found += [(node, alias.name.split(".")[0])] * 2
            else:
                found.append((alias.name, alias.name))
    else:
        base = "." * node.level + (node.module or "")
        for alias in node.names:
            found.append((f"{base}.{alias.name}" if node.module else f"{base}{alias.name}", alias.asname or alias.name))
    return found


def _module_bindings(tree: ast.Module) -> dict[str, list] | None:
    """Module-scope name -> its bindings: the qualified name an import gives it (a
    string, as LibCST spells it: a relative import keeps its dots), or the binding node.
    None when a star import or a `global` declaration could bind any name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Global) or (isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)):
            return None
    bindings: dict[str, list] = {}

    def bind(name: str, how: object) -> None:
        bindings.setdefault(name, []).append(how)

    def stores(node: ast.AST) -> None:  # the names an expression or simple statement binds
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and not isinstance(inner.ctx, ast.Load):
                bind(inner.id, inner)
            elif isinstance(inner, (ast.MatchAs, ast.MatchStar)) and inner.name:
                bind(inner.name, inner)
            elif isinstance(inner, ast.MatchMapping) and inner.rest:
                bind(inner.rest, inner)

    todo = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for how, name in _imported(node):
                bind(name, how)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name, node)
        else:
            nested = False
            for name in node._fields:
                value = getattr(node, name)
                if name in ("body", "orelse", "finalbody", "handlers", "cases"):
                    nested = True
                    continue
                for part in value if isinstance(value, list) else [value]:
                    if isinstance(part, ast.AST):
                        stores(part)
            if nested:
                for name in ("body", "orelse", "finalbody"):
                    todo.extend(s for s in getattr(node, name, None) or () if isinstance(s, ast.stmt))
                for handler in getattr(node, "handlers", ()):
                    if handler.name:
                        bind(handler.name, handler)
                    todo.extend(handler.body)
                for case in getattr(node, "cases", ()):
                    stores(case.pattern)
                    if case.guard is not None:
                        stores(case.guard)
                    todo.extend(case.body)
    return bindings
