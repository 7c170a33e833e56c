"""What a type annotation says a value holds: one class, one class or None, or a collection
of one class.

`Task`, `"Task"`, `Optional[Task]`, `Task | None`, `Union[Task, None]`, `list["Task"]`,
`Sequence[Task]`, `Annotated[Task, ...]`, read from `ast` (a LibCST annotation is read
from its source text, so there is one reader for both). The class is named as the module
that holds the annotation resolves it (``resolve``): through its imports, relative ones
included, so `Task` in `app/services/tasks.py` after `from ..models import Task` becomes
`app.models.Task` and the index can say whether that is a model.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from optimize.analyzers.pickling import pickled_by_fields


class Shape(Enum):
    ONE = "M"
    OPTIONAL = "M | None"
    MANY = "list[M]"  # a collection whose elements are M (iterating it gives M)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class TypeRef:
    """An annotation read as a class and a shape; ``qualname`` as the module resolves it."""

    qualname: str
    shape: Shape


OPTIONAL_NAMES = frozenset({"Optional"})
UNION_NAMES = frozenset({"Union"})
ANNOTATED_NAMES = frozenset({"Annotated"})
# Collections whose elements are all of the one type argument.
COLLECTION_NAMES = frozenset({
    "list", "List", "Sequence", "MutableSequence", "Iterable", "Iterator", "Collection",
    "set", "Set", "frozenset", "FrozenSet", "AbstractSet", "MutableSet",
})
_MAX_DEPTH = 8


def read_annotation(node: ast.AST | None, resolve: Callable[[str], str | None]) -> TypeRef | None:
    """``node`` as a `TypeRef`; None for anything else (`dict[str, Task]`, a type variable
    the module does not import, `Task | User`)."""
    return _read(node, resolve, 0)


def read_annotation_text(text: str, resolve: Callable[[str], str | None]) -> TypeRef | None:
    """An annotation from its source text (a LibCST annotation's code)."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return read_annotation(node, resolve)


def _read(node: ast.AST | None, resolve: Callable[[str], str | None], depth: int) -> TypeRef | None:
    if node is None or depth > _MAX_DEPTH:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            inner = ast.parse(node.value.strip(), mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return _read(inner, resolve, depth + 1)
    if isinstance(node, (ast.Name, ast.Attribute)):
        written = _dotted(node)
        qualname = resolve(written) if written else None
        return None if qualname is None else TypeRef(qualname, Shape.ONE)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _optional([node.left, node.right], resolve, depth)
    if isinstance(node, ast.Subscript):
        outer = (_dotted(node.value) or "").rsplit(".", 1)[-1]
        arguments = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer in ANNOTATED_NAMES and arguments:
            return _read(arguments[0], resolve, depth + 1)
        if outer in OPTIONAL_NAMES and len(arguments) == 1:
            inner = _read(arguments[0], resolve, depth + 1)
            return None if inner is None or inner.shape is Shape.MANY else TypeRef(inner.qualname, Shape.OPTIONAL)
        if outer in UNION_NAMES:
            return _optional(arguments, resolve, depth)
        if outer in COLLECTION_NAMES and len(arguments) == 1:
            inner = _read(arguments[0], resolve, depth + 1)
            return None if inner is None or inner.shape is not Shape.ONE else TypeRef(inner.qualname, Shape.MANY)
        if outer in {"tuple", "Tuple"} and len(arguments) == 2 and _is_ellipsis(arguments[1]):
            inner = _read(arguments[0], resolve, depth + 1)
            return None if inner is None or inner.shape is not Shape.ONE else TypeRef(inner.qualname, Shape.MANY)
    return None


def _optional(members: list[ast.AST], resolve: Callable[[str], str | None], depth: int) -> TypeRef | None:
    """`X | None` / `Union[X, None]`: one class besides None."""
    others = [m for m in members if not (isinstance(m, ast.Constant) and m.value is None)]
    if len(others) != 1 or len(members) != 2:
        return None
    inner = _read(others[0], resolve, depth + 1)
    if inner is None or inner.shape is Shape.MANY:
        return None
    return TypeRef(inner.qualname, Shape.OPTIONAL)


def _is_ellipsis(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a name or attribute chain; `get_settings().debug` keeps its call."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    if isinstance(node, ast.Call):
        head = dotted(node.func)
        return None if head is None else f"{head}()"
    return None


def _dotted(node: ast.AST) -> str | None:
    """A name or attribute chain only (no call inside): what a type annotation can name."""
    written = dotted(node)
    return None if written is None or "(" in written else written
