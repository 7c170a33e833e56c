"""One walk of a module's `ast`, shared by every fact collector.

Collecting a file's facts used to walk its tree six times (imports, name reads, query
shapes twice, factories, the rest); on a thousand files the walks cost more than parsing.
`walk` visits every node once, in `ast.walk`'s breadth-first order, with the line of the
innermost function around it (0 at module level), and the collectors read the list.
"""

from __future__ import annotations

import ast
from collections import deque

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


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
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                children.append((value, inner))
            elif isinstance(value, list):
                children.extend((item, inner) for item in value if isinstance(item, ast.AST))
        extend(children)
    return found
