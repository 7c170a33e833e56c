"""The options an engine call receives: its keyword arguments and the literal dicts it
splats with `**`.

`create_engine(url, **ENGINE_OPTIONS)` hides its options from the call. A splatted name is
followed only when it provably holds the literal written where it is bound:

- it is bound exactly once, by `name = {...}` or `name = dict(k=v, ...)` (annotated or
  not) whose keys are all string literals (no `**other`, no positional `dict(mapping)`),
  at the top level of the module or of the function that makes the call, before the call;
- every other use of it reads it: `**name` into a call or a dict (a copy), `name[key]`,
  `key in name`, `name.get(...)`, `name.keys()` and the like. An assignment or `del` of a
  key, `name.update(...)`, `name |= ...`, passing `name` to a call or binding it to another
  name may change what the engine receives, so the options are then unknown;
- a module-level dict read by an engine call inside a function is imported by no other
  module of the repository (which could change it before the function runs).

Anything else leaves the options unknown, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import (
    Assignment,
    BuiltinAssignment,
    ImportAssignment,
    ExpressionContext,
    ExpressionContextProvider,
    GlobalScope,
    Scope,
    ScopeProvider,
)
from optimize.analyzers.parents import ParentNodeProvider

from typing import Any, Protocol

from optimize.analyzers.index import RepoIndex


class Codemod(Protocol):
    """What reading options needs from the codemod holding the module: its metadata
    (scopes, expression contexts, parents, positions), its file and the index."""

    index: RepoIndex

    @property
    def path(self) -> str: ...

    def get_metadata(self, key: Any, node: cst.CSTNode, default: Any = ...) -> Any: ...

    def enclosing_statement(self, node: cst.CSTNode) -> cst.CSTNode: ...

    def line_of(self, node: cst.CSTNode) -> int: ...

    def qualified_names(self, node: cst.CSTNode) -> set[str]: ...

# Metadata a codemod that reads engine options must declare.
OPTIONS_METADATA = (ScopeProvider, ExpressionContextProvider)

# Methods that read a dict without changing it.
_READING_METHODS = frozenset({"get", "keys", "values", "items", "copy", "__contains__", "__getitem__"})


@dataclass(frozen=True)
class Option:
    """One option the engine receives: ``value`` as written, and where it is written
    (``origin`` is empty for a keyword argument of the call itself)."""

    name: str
    value: cst.BaseExpression
    origin: str = ""

    @property
    def in_call(self) -> bool:
        return not self.origin

    def where(self) -> str:
        """` in the dict ENGINE_OPTIONS (line 4)`, or nothing for a keyword of the call."""
        return f" in {self.origin}" if self.origin else ""


@dataclass(frozen=True)
class EngineOptions:
    """Every option an engine call receives, when they can all be read.

    ``unknown`` says why some cannot (a `**` argument that is not followed); ``options``
    then holds only what could be read and must not be taken as complete.
    """

    options: Mapping[str, Option] = field(default_factory=dict)
    unknown: str | None = None
    splatted: tuple[str, ...] = ()  # the names of the dicts followed

    def get(self, name: str) -> Option | None:
        return self.options.get(name)


def code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _literal_key(node: cst.BaseExpression) -> str | None:
    """A key written as a plain string literal; None for f-strings, names, numbers."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = _literal_key(node.left), _literal_key(node.right)
        return None if left is None or right is None else left + right
    return None


def read_options(call: cst.Call, codemod: Codemod) -> EngineOptions:
    """The options ``call`` (a node of the tree ``codemod`` has metadata for) receives."""
    options: dict[str, Option] = {}
    splats: list[cst.Arg] = []
    for arg in call.args:
        if arg.star == "**":
            splats.append(arg)
        elif arg.keyword is not None:
            options.setdefault(arg.keyword.value, Option(arg.keyword.value, arg.value))
    followed: list[str] = []
    for arg in splats:
        found = _splatted_dict(arg.value, call, codemod)
        if isinstance(found, str):
            return EngineOptions(options, f"engine options come through **{code(arg.value)}, {found}")
        name, origin, entries = found
        followed.append(name)
        for key, value in entries.items():
            # The same key twice is a TypeError when the call runs: the keyword is kept.
            options.setdefault(key, Option(key, value, origin))
    return EngineOptions(options, None, tuple(followed))


def _splatted_dict(
    value: cst.BaseExpression, call: cst.Call, codemod: Codemod
) -> tuple[str, str, dict[str, cst.BaseExpression]] | str:
    """(name, origin, entries) of the literal dict ``**value`` provably holds, or why not."""
    if not isinstance(value, cst.Name):
        return "which may already set them (not a name bound to a literal dict)"
    name = value.value
    scope = codemod.get_metadata(ScopeProvider, value, None)
    if scope is None:
        return "which may already set them"
    referents = {r for access in scope.accesses[value] if access.node is value for r in access.referents}
    if len(referents) != 1:
        how = "nowhere the module shows" if not referents else "more than once"
        return f"which may already set them ({name} is bound {how})"
    assignment = next(iter(referents))
    if isinstance(assignment, ImportAssignment):
        return f"which may already set them ({name} is imported, not a literal dict of this module)"
    if not isinstance(assignment, Assignment):
        return f"which may already set them ({name} is not bound in the module)"
    if isinstance(assignment.node, cst.Param):
        return f"which may already set them ({name} is a parameter)"
    if not isinstance(assignment.node, cst.Name):
        return f"which may already set them ({name} is not bound by an assignment)"
    if len(assignment.scope.assignments[name]) != 1:
        return f"which may already set them ({name} is bound more than once)"
    call_scope = codemod.get_metadata(ScopeProvider, call, None)
    if assignment.scope is not call_scope and not isinstance(assignment.scope, GlobalScope):
        return f"which may already set them ({name} is bound in an enclosing function)"
    bound = _binding_value(assignment.node, assignment.scope, codemod)
    if isinstance(bound, str):
        return f"which may already set them ({name} {bound})"
    statement, literal = bound
    line = codemod.line_of(statement)
    if assignment.scope is call_scope and line >= codemod.line_of(call):
        return f"which may already set them ({name} is bound after the call)"
    entries = _entries(literal, codemod)
    if isinstance(entries, str):
        return f"which may already set them ({name} at line {line} {entries})"
    changed = _first_change(assignment, codemod)
    if changed is not None:
        return f"which may already set them ({name} is changed or passed on at line {changed})"
    if isinstance(assignment.scope, GlobalScope) and call_scope is not assignment.scope:
        importer = _importer(codemod, name)
        if importer is not None:
            return (
                f"which may already set them ({name} is imported by {importer}, which may change it "
                "before the engine is created)"
            )
    return name, f"the dict {name} (line {line})", entries


def value_bound_before(
    value: cst.BaseExpression, call: cst.Call, codemod: Codemod
) -> tuple[int, cst.BaseExpression] | None:
    """(line, value) of the one assignment `name = value` that ``value`` (a name read by
    ``call``) is bound by, at the top of the call's own scope and before it: what the name
    holds at the call, whoever imports or patches the module later (None otherwise)."""
    if not isinstance(value, cst.Name):
        return None
    scope = codemod.get_metadata(ScopeProvider, value, None)
    if scope is None:
        return None
    referents = {r for access in scope.accesses[value] if access.node is value for r in access.referents}
    if len(referents) != 1:
        return None
    assignment = next(iter(referents))
    if (
        type(assignment) is not Assignment
        or not isinstance(assignment.node, cst.Name)
        or len(assignment.scope.assignments[value.value]) != 1
        or assignment.scope is not codemod.get_metadata(ScopeProvider, call, None)
    ):
        return None
    bound = _binding_value(assignment.node, assignment.scope, codemod)
    if isinstance(bound, str):
        return None
    statement, literal = bound
    line = codemod.line_of(statement)
    return (line, literal) if line < codemod.line_of(call) else None


def _binding_value(
    target: cst.Name, scope: Scope, codemod: Codemod
) -> tuple[cst.CSTNode, cst.BaseExpression] | str:
    """(statement, value) of `target = value` at the top level of its scope's body."""
    parent = codemod.get_metadata(ParentNodeProvider, target, None)
    if isinstance(parent, cst.AssignTarget):
        assign = codemod.get_metadata(ParentNodeProvider, parent, None)
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
            return "is bound together with other names"
        value = assign.value
    elif isinstance(parent, cst.AnnAssign) and parent.value is not None:
        value = parent.value
    else:
        return "is not bound by a plain assignment"
    statement = codemod.enclosing_statement(target)
    holder = codemod.get_metadata(ParentNodeProvider, statement, None)
    if isinstance(holder, cst.IndentedBlock):
        holder = codemod.get_metadata(ParentNodeProvider, holder, None)
    if not isinstance(holder, (cst.Module, cst.FunctionDef)):
        return "is bound inside a block (if, loop, try, with, class), not at the top of its scope"
    return statement, value


def _entries(value: cst.BaseExpression, codemod: Codemod) -> dict[str, cst.BaseExpression] | str:
    """The keys and values of `{...}` / `dict(k=v)`; why not for anything else."""
    entries: dict[str, cst.BaseExpression] = {}
    if isinstance(value, cst.Dict):
        for element in value.elements:
            if not isinstance(element, cst.DictElement):
                return "unpacks another mapping into itself"
            key = _literal_key(element.key)
            if key is None:
                return f"has a key that is not a string literal: {code(element.key)}"
            entries.pop(key, None)  # a repeated key: the last one wins
            entries[key] = element.value
        return entries
    if isinstance(value, cst.Call) and _is_builtin_dict(value.func, codemod):
        for arg in value.args:
            if arg.keyword is None or arg.star:
                return "is built from another mapping or iterable"
            entries[arg.keyword.value] = arg.value
        return entries
    return "is not a literal dict"


def _is_builtin_dict(func: cst.BaseExpression, codemod: Codemod) -> bool:
    if not isinstance(func, cst.Name) or func.value != "dict":
        return False
    scope = codemod.get_metadata(ScopeProvider, func, None)
    if scope is None:
        return False
    referents = {r for access in scope.accesses[func] if access.node is func for r in access.referents}
    return len(referents) == 1 and isinstance(next(iter(referents)), BuiltinAssignment)


def _first_change(assignment: Assignment, codemod: Codemod) -> int | None:
    """The line of the first use of the dict that may change it or hand it on; None when
    every use reads it."""
    lines = [
        codemod.line_of(access.node)
        for access in assignment.references
        if not _reads(access.node, codemod)
    ]
    return min(lines) if lines else None


def _reads(node: cst.CSTNode, codemod: Codemod) -> bool:
    """Whether this use of the dict's name only reads the dict."""
    parent = codemod.get_metadata(ParentNodeProvider, node, None)
    if isinstance(parent, cst.Arg) and parent.star == "**" and parent.value is node:
        return True  # `f(**name)`: the callee gets a copy
    if isinstance(parent, cst.StarredDictElement):
        return True  # `{**name}`: a copy
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return codemod.get_metadata(ExpressionContextProvider, parent, None) is ExpressionContext.LOAD
    if isinstance(parent, cst.Attribute) and parent.value is node:
        caller = codemod.get_metadata(ParentNodeProvider, parent, None)
        return (
            parent.attr.value in _READING_METHODS
            and isinstance(caller, cst.Call)
            and caller.func is parent
        )
    if isinstance(parent, cst.ComparisonTarget) and parent.comparator is node:
        return isinstance(parent.operator, (cst.In, cst.NotIn))
    return False


def _importer(codemod: Codemod, name: str) -> str | None:
    """Another indexed module that imports ``name`` from this one, if any."""
    facts = codemod.index.facts.get(codemod.path)
    module = facts.module if facts is not None else ""
    if not module:
        return None
    wanted = f"{module}.{name}"
    for path, other in sorted(codemod.index.facts.items()):
        if path == codemod.path:
            continue
        # Imports name the package root, the index the path: `app.db.X` for `src/app/db.py`.
        if any(q == wanted or ("." in q and wanted.endswith("." + q)) for q in other.imports.values()):
            return path
    return None
