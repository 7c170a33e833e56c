"""One walk of a module's `ast`, shared by every fact collector.

Collecting a file's facts used to walk its tree six times (imports, name reads, query
shapes twice, factories, the rest); on a thousand files the walks cost more than parsing.
`walk` visits every node once, in `ast.walk`'s breadth-first order, with the line of the
innermost function around it (0 at module level), and the collectors read the list.
Expression contexts and operators are left out (see `_SKIPPED`).
"""

from __future__ import annotations

import ast
from collections import deque

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
# Fields that only ever hold an expression context (`Load`, `Store`) or an operator (`Add`,
# `Eq`): a third of a module's nodes, which no collector reads but through the node that
# holds them (`node.op`, `node.ops`). Neither walk nor visitor descends into them.
_SKIPPED = frozenset({"ctx", "op", "ops"})
_CHILDREN: dict[type, tuple[str, ...]] = {}


def children_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class that may hold child nodes worth visiting."""
    try:
        return _CHILDREN[kind]
    except KeyError:
        found = _CHILDREN[kind] = tuple(f for f in kind._fields if f not in _SKIPPED)
        return found


def walk(tree: ast.AST) -> list[tuple[ast.AST, int]]:
    """Every node of ``tree`` with its scope: the line of the innermost function (or
    lambda) that contains it, 0 for module-level code. A function's own node carries
    the scope it is defined in."""
    found: list[tuple[ast.AST, int]] = []
    todo: deque[tuple[ast.AST, int]] = deque([(tree, 0)])
    pop, extend, append = todo.popleft, todo.extend, found.append
    while todo:
        node, scope = pop()
        append((node, scope))
        inner = node.lineno if isinstance(node, _FUNCTIONS) else scope
        children = []
        kind = type(node)
        fields = _CHILDREN.get(kind) or children_fields(kind)
        for name in fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                children.append((value, inner))
            elif isinstance(value, list):
                children.extend((item, inner) for item in value if isinstance(item, ast.AST))
        extend(children)
    return found


class Visitor(ast.NodeVisitor):
    """`ast.NodeVisitor` with the same dispatch (`visit_<Class>`, else `generic_visit`),
    looked up once per node class instead of by name on every node, and children read
    from `_fields` directly: the function scanners visit every function body, and the
    stock lookups were most of their cost."""

    _methods: dict[type, object]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._methods = {}

    def visit(self, node: ast.AST):
        kind = type(node)
        methods = type(self)._methods
        try:
            method = methods[kind]
        except KeyError:
            method = methods[kind] = getattr(type(self), "visit_" + kind.__name__, None)
        if method is None:
            return self.generic_visit(node)
        return method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        kind = type(node)
        for name in _CHILDREN.get(kind) or children_fields(kind):
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)
