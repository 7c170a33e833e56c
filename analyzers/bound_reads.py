"""Which `name = obj.attr` statements can be shown to read a loaded relationship.

`redundant-lazy-load` reports such a statement ("the value is used") only when `obj.attr`
is shown loaded before it in its function: a refresh of `obj`, or a query result bound to
`obj`, in that function (`codemods.redundant_lazy_load`). A query result is fetched by a
call the function makes (`x.execute(...)`, `.scalars(...)`, `.scalar(...)`, `.exec(...)`,
a `x.query(...)` chain: `FileFacts.fetch_scopes`), so a function that neither calls
`.refresh(...)` nor both binds the name (its parameters aside: they hold what the caller
passed) and makes such a call has no proof, its statement is not a candidate, and the
file is not parsed for it. The question is answered generously: a binding or a call
anywhere inside the function, nested functions, lambdas and comprehensions included,
counts for it, and a query run at module level for every function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from optimize.analyzers.walk import Nodes, with_enclosing


def provable_reads(
    nodes: Nodes, reads: Iterable[tuple[str, int, str]], fetching: frozenset[int], around: dict[int, set[int]]
) -> list[tuple[str, int]]:
    """(attribute, scope) of the ``reads`` (attribute, scope, object name) whose object the
    function at that scope (`walk`'s scope: a function's line) may load: it refreshes
    something, or binds the name and fetches something (``fetching``: the scopes that
    may, `FileFacts.fetch_scopes`), somewhere inside (``around``: `walk.scopes_around`)."""
    reads = list(reads)
    if not reads:
        return []
    names = {obj for _, _, obj in reads}
    binding: dict[str, set[int]] = {}

    def bound(name: str | None, scope: int) -> None:
        if name in names:
            binding.setdefault(name, set()).add(scope)

    for node, scope in nodes.of(ast.Name):
        if type(node.ctx) is not ast.Load:
            bound(node.id, scope)
    for node, scope in nodes.of(ast.ExceptHandler, ast.MatchAs, ast.MatchStar):
        bound(node.name, scope)
    for node, scope in nodes.of(ast.MatchMapping):
        bound(node.rest, scope)
    for node, scope in nodes.of(ast.Import, ast.ImportFrom):
        for alias in node.names:
            bound(alias.asname or alias.name.split(".", 1)[0], scope)
    for node, scope in nodes.of(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        bound(node.name, scope)
    refreshing = {
        scope for node, scope in nodes.of(ast.Call) if type(node.func) is ast.Attribute and node.func.attr == "refresh"
    }
    refreshed = with_enclosing(refreshing, around)
    binds = {obj: with_enclosing(scopes, around) for obj, scopes in binding.items()}
    return [
        (attr, scope)
        for attr, scope, obj in reads
        if scope in refreshed or (scope in binds.get(obj, ()) and (scope in fetching or 0 in fetching))
    ]
