"""One walk of a module's `ast`, shared by every fact collector.

Collecting a file's facts used to walk its tree six times (imports, name reads, query
shapes twice, factories, the rest); on a thousand files the walks cost more than parsing.
`walk` visits every node once, in `ast.walk`'s breadth-first order, with the line of the
innermost function around it (0 at module level), and keeps the nodes by class
(`Nodes`): each collector reads only the classes it looks at (the imports are a few
hundredth of a module's nodes, the name reads half of them), in the walk's order.
Expression contexts and operators are left out (see `_SKIPPED`).
"""

from __future__ import annotations

import ast
from collections import deque
from typing import Iterable, Iterator

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
# Fields that only ever hold an expression context (`Load`, `Store`) or an operator (`Add`,
# `Eq`): a third of a module's nodes, which no collector reads but through the node that
# holds them (`node.op`, `node.ops`). Neither walk nor visitor descends into them, nor
# looks into the fields that never hold a node (identifiers, flags, a constant's value):
# a `Name` or a `Constant` then has no field to read at all.
_SKIPPED = frozenset({
    "ctx", "op", "ops",
    "id", "attr", "arg", "name", "asname", "module", "level", "kind", "conversion", "is_async", "type_comment",
})
_VALUE_IS_DATA = (ast.Constant, ast.MatchSingleton)  # `value` is a Python value, not a node
_CHILDREN: dict[type, tuple[str, ...]] = {}


def children_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class that may hold child nodes worth visiting."""
    try:
        return _CHILDREN[kind]
    except KeyError:
        skipped = _SKIPPED | ({"value"} if issubclass(kind, _VALUE_IS_DATA) else set())
        found = _CHILDREN[kind] = tuple(f for f in kind._fields if f not in skipped)
        return found


# Classes whose nodes one collector reads in their joint order share a list: an import
# binds over an earlier one of the same name, a factory keeps its place among assignments.
_SHARED = {ast.ImportFrom: ast.Import, ast.AnnAssign: ast.Assign}


class Nodes:
    """A module's nodes with their scopes, by class, each class in the walk's order."""

    __slots__ = ("_lists",)

    def __init__(self, lists: dict[type, list[tuple[ast.AST, int]]]) -> None:
        self._lists = lists

    def of(self, *kinds: type) -> Iterator[tuple[ast.AST, int]]:
        """The nodes of these classes: each class in the walk's order, one after the other
        (classes that share a list, `_SHARED`, together in their joint order)."""
        seen: set[int] = set()
        for kind in kinds:
            found = self._lists.get(kind)
            if found is not None and id(found) not in seen:
                seen.add(id(found))
                yield from found


def walk(tree: ast.AST) -> Nodes:
    """Every node of ``tree`` with its scope: the line of the innermost function (or
    lambda) that contains it, 0 for module-level code. A function's own node carries
    the scope it is defined in."""
    lists: dict[type, list[tuple[ast.AST, int]]] = {}
    todo: deque[tuple[ast.AST, int]] = deque([(tree, 0)])
    pop, push, node_type, shared = todo.popleft, todo.append, ast.AST, _SHARED
    children = _CHILDREN
    while todo:
        node, scope = pop()
        kind = type(node)
        found = lists.get(kind)
        if found is None:
            found = lists[kind] = lists.setdefault(shared.get(kind, kind), [])
        found.append((node, scope))
        fields = children.get(kind)
        if fields is None:
            fields = children_fields(kind)
        if not fields:
            continue  # a Name, a Constant: nothing below
        inner = node.lineno if isinstance(node, _FUNCTIONS) else scope
        for name in fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, node_type):
                        push((item, inner))
            elif isinstance(value, node_type):
                push((value, inner))
    return Nodes(lists)


def scopes_around(nodes: Nodes) -> dict[int, set[int]]:
    """Each function's scope (its line) -> the scopes it is defined in: one, or several
    when functions share a line (`def f(): return lambda: 1`)."""
    around: dict[int, set[int]] = {}
    for node, scope in nodes.of(*_FUNCTIONS):
        around.setdefault(node.lineno, set()).add(scope)
    return around


def with_enclosing(scopes: Iterable[int], around: dict[int, set[int]]) -> set[int]:
    """``scopes`` and every scope around them (`scopes_around`), up to the module's (0)."""
    found = set(scopes)
    todo = list(found)
    while todo:
        for outer in around.get(todo.pop(), ()):
            if outer not in found:
                found.add(outer)
                todo.append(outer)
    return found


def descendants(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and every node below it in `ast.walk`'s order, without the expression
    contexts and operators (`_SKIPPED`): `ast.walk` reads every field of every node."""
    todo = deque([node])
    pop, push, node_type, children = todo.popleft, todo.append, ast.AST, _CHILDREN
    while todo:
        node = pop()
        yield node
        kind = type(node)
        fields = children.get(kind)
        if fields is None:
            fields = children_fields(kind)
        for name in fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, node_type):
                        push(item)
            elif isinstance(value, node_type):
                push(value)


class Visitor(ast.NodeVisitor):
    """`ast.NodeVisitor` with the same dispatch (`visit_<Class>`, else `generic_visit`),
    looked up once per node class instead of by name on every node, and children read
    from `_fields` directly: the function scanners visit every function body, and the
    stock lookups were most of their cost. A child with nothing below it and no method of
    its own (a `Name`, a `Constant`: four nodes in ten) is not visited at all: visiting it
    would do nothing."""

    _methods: dict[type, object]
    _idle: dict[type, bool]  # node class -> visiting one does nothing
    # `ast.NodeVisitor`'s own `visit_Constant` only forwards to the `visit_Num`/`visit_Str`
    # methods of Python 3.7 visitors: a call per constant for nothing.
    visit_Constant = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._methods = {}
        cls._idle = {}

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
        fields = _CHILDREN.get(kind)
        if fields is None:
            fields = children_fields(kind)
        idle = type(self)._idle
        for name in fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        skip = idle.get(type(item))
                        if skip is None:
                            skip = self._is_idle(type(item))
                        if not skip:
                            self.visit(item)
            elif isinstance(value, ast.AST):
                skip = idle.get(type(value))
                if skip is None:
                    skip = self._is_idle(type(value))
                if not skip:
                    self.visit(value)

    @classmethod
    def _is_idle(cls, kind: type) -> bool:
        found = cls._idle[kind] = not children_fields(kind) and getattr(cls, "visit_" + kind.__name__, None) is None
        return found
