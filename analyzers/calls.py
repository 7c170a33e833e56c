"""The call graph across modules: who calls a function, and how.

Each function's facts keep its call sites (`CallSite`): the callee as the module's imports
name it, whether the result is thrown away (`await f(...)` as a statement), whether the
call sits where its errors are handled or a transaction is open (a `try` body with
handlers, an `async with` block), and whether a commit can run after it in the caller
(later in the function, or anywhere in a loop around it: the over-approximation that holds
for structured code). Each file keeps how often every identifier is read, so that a
function whose name is also used other than in the calls the index resolves to it (passed
as a callback, called through an object the index cannot type) is not taken to have only
the callers found.

`CallGraph.callers` answers for a module-level function: every call site in the
repository, each resolved to it through imports and re-exports, or None when it may be
reached another way.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optimize.analyzers.pickling import pickled_by_fields
from optimize.analyzers.walk import Nodes, Visitor

if TYPE_CHECKING:
    from optimize.analyzers.facts import FunctionInfo
    from optimize.analyzers.index import RepoIndex

# `@router.post(...)`, `@app.get(...)`, `@app.websocket(...)`: the function is an endpoint.
ROUTE_DECORATORS = frozenset({
    "get", "post", "put", "patch", "delete", "head", "options", "api_route", "route", "websocket",
})


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class CallSite:
    callee: str  # as the calling module resolves it: `app.services.tasks.update_task`
    written: str  # the identifier the call is written with: `update_task`, `done` (an alias)
    line: int
    statement: bool  # the call is the whole statement (awaited or not): its result is unused
    awaited: bool
    guarded: bool  # in a `try` body with handlers, or in an `async with` block
    commit_after: bool  # a `.commit()` of the caller can run after it


def is_route(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Decorated as an endpoint: `@router.post(...)`, `@app.get(...)`."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS:
            return True
    return False


class SiteScanner(Visitor):
    """The call sites (`sites()`) of a function body's statements, visited one by one: a
    nested definition's calls are its own. The facts' function scanner extends it, so that
    one walk of a body reads its sites and its other facts; it descends into a nested
    class body (its calls run with the function), where this records nothing (`quiet`)."""

    def __init__(self, resolve: Callable[[ast.AST], str | None]) -> None:
        self.resolve = resolve
        self.loops: list[ast.AST] = []
        self.guarded = 0
        self.quiet = 0  # inside a nested class body: no site, no commit
        self.found: list[tuple[ast.Call, str, bool, bool, bool, tuple[ast.AST, ...]]] = []
        self.commits: list[tuple[tuple[int, int], frozenset[ast.AST]]] = []
        # Calls that are a whole statement (`f()`, `await f()`) and calls awaited, by id:
        # marked by their statement or `await` before the call itself is visited.
        self.statements: set[int] = set()
        self.awaited_calls: set[int] = set()

    def sites(self) -> list[CallSite]:
        commits = self.commits
        sites = []
        for call, callee, statement, awaited, guarded, loops in self.found:
            position = (call.lineno, call.col_offset)
            after = any(c > position for c, _ in commits) or any(
                loop in commit_loops for _, commit_loops in commits for loop in loops
            )
            func = call.func
            written = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            # Interned: a repository repeats the same callee names tens of thousands of
            # times, and one object per name keeps the facts (and their pickle) smaller.
            sites.append(CallSite(sys.intern(callee), sys.intern(written), call.lineno, statement, awaited, guarded, after))
        return sites

    def visit_Expr(self, node: ast.Expr) -> None:
        value = node.value
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call):
            self.statements.add(id(value))
        self.generic_visit(node)

    def visit_Await(self, node: ast.Await) -> None:
        self._site_await(node)
        self.generic_visit(node)

    def _site_await(self, node: ast.Await) -> None:
        if isinstance(node.value, ast.Call):
            self.awaited_calls.add(id(node.value))

    def visit_FunctionDef(self, node: ast.AST) -> None:
        return  # a nested definition's body runs when it is called, not here

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef

    def _loop(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        self.loops.append(node)
        self.generic_visit(node)
        self.loops.pop()

    visit_For = _loop
    visit_AsyncFor = _loop
    visit_While = _loop

    def visit_Try(self, node: ast.Try) -> None:
        if node.handlers:
            self.guarded += 1
        for statement in node.body:
            self.visit(statement)
        if node.handlers:
            self.guarded -= 1
        for statement in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(statement)

    visit_TryStar = visit_Try

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        self.guarded += 1
        self.generic_visit(node)
        self.guarded -= 1

    def visit_Call(self, node: ast.Call) -> None:
        self._site(node)
        self.generic_visit(node)

    def _site(self, node: ast.Call) -> None:
        if self.quiet:
            return
        if isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
            self.commits.append(((node.lineno, node.col_offset), frozenset(self.loops)))
        callee = self.resolve(node.func)
        if callee:
            self.found.append((
                node, callee, id(node) in self.statements, id(node) in self.awaited_calls, self.guarded > 0, tuple(self.loops),
            ))


def name_uses(nodes: Nodes) -> dict[str, int]:
    """How often each identifier is read in the module (``nodes``: its `analyzers.walk`):
    names and attribute names (an import or a definition does not count, a call does)."""
    counts: dict[str, int] = {}
    get = counts.get
    for node, _ in nodes.of(ast.Name):
        counts[node.id] = get(node.id, 0) + 1
    for node, _ in nodes.of(ast.Attribute):
        counts[node.attr] = get(node.attr, 0) + 1
    for node, _ in nodes.of(ast.Constant):
        value = node.value
        if type(value) is str and value.isidentifier():  # getattr(module, "name"), string references
            counts[value] = get(value, 0) + 1
    return counts


class CallGraph:
    """Callers of functions, resolved through the index."""

    def __init__(self, index: RepoIndex) -> None:
        self.index = index

    def callers(self, function: FunctionInfo) -> list[tuple[FunctionInfo, CallSite]] | None:
        """Every call of ``function`` (a module-level function) in the repository, or None
        when it may be reached otherwise: in some file, a name that may be it (its own,
        or one an import binds it to, through re-exports that rename it) is read more
        often than calls account for, or one of those calls does not resolve to a known
        function."""
        module, _, short = function.qualname.rpartition(".")
        home = self.index.facts.get(function.path)
        if home is None or module != home.module:
            return None  # a method: called through objects the index does not type
        found = []
        # The names an import may bind it to anywhere, through re-exports that rename it.
        aliases = self.index.import_aliases(frozenset({short}))
        for facts in self.index.facts.values():
            names = {short} | {local for local, target in facts.imports.items() if target.rsplit(".", 1)[-1] in aliases}
            reads = sum(facts.name_uses.get(name, 0) for name in names)
            if not reads:
                continue
            sites = [
                (caller, site)
                for caller in facts.functions.values()
                for site in caller.sites
                if site.written in names
            ]
            if len(sites) != reads:
                return None  # read other than in a call of a function: a callback, module-level code
            for caller, site in sites:
                target = self.index.function(site.callee, caller.path)
                if target is None:
                    return None  # may be this function, reached in a way the index cannot follow
                if (target.path, target.qualname) == (function.path, function.qualname):
                    found.append((caller, site))
        return found
