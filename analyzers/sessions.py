"""Which names of a function are sessions, where each comes from, and whether an object a
statement runs on is a session or a connection.

A name is a session when the code says so:
- a parameter annotated with a session type (`db: AsyncSession`, `Annotated[Session, ...]`,
  SQLModel's `Session`), or injected with `Depends(dep)` where the index ties `dep` to a
  session factory (`get_db` yields from `SessionLocal()`), seen from this module;
- a name bound by `with SessionLocal() as s` / `async with factory() as s`, or by
  `s = SessionLocal()` / `s = Session(engine)`, the factory resolved through the imports;
- the receiver of a method only sessions have (`db.refresh(...)`, `self.session.commit()`);
- a name bound to one of those (`s = db`).

Each session maps to the dependency or factory it comes from (None when not known), which
the index answers `expire_on_commit` for. `may_be_sessions` adds the parameters injected
from a dependency the index cannot place: a rewrite that must not hand a session elsewhere
treats those as sessions too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node

from optimize.analyzers.index import RepoIndex
from optimize.analyzers.session_types import CONNECTION_TYPES, SESSION_TYPES
from optimize.analyzers.values import NameReader, absolute_names, bindings
from optimize.analyzers.cst_find import findall

# `engine.connect()` / `engine.begin()` hand out connections, never sessions.
CONNECTION_METHODS = frozenset({"connect", "begin"})
DEPENDS = frozenset({"fastapi.Depends", "fastapi.param_functions.Depends", "Depends"})
# Calls that show their receiver is a session, even when nothing declares it one. Names
# common on other objects (`get`, `add`, `delete`, `scalar`) are left out: `payload.get()`
# does not make `payload` a session.
SESSION_ONLY_METHODS = frozenset({
    "refresh", "commit", "flush", "execute", "scalars", "rollback", "expire", "expire_all",
    "expunge", "expunge_all", "begin", "begin_nested", "run_sync",
})


@dataclass
class Sessions:
    """The sessions of one function."""

    names: dict[str, str | None] = field(default_factory=dict)  # session -> dependency / factory
    injected: dict[str, str | None] = field(default_factory=dict)  # every `Depends(...)` parameter
    connections: set[str] = field(default_factory=set)  # `with engine.begin() as conn`
    managed: set[str] = field(default_factory=set)  # every `with ... as name`: closed when the block ends

    @property
    def may_be_sessions(self) -> dict[str, str | None]:
        """The sessions and every injected parameter the index cannot show is something else."""
        found = dict(self.names)
        for name, dependency in self.injected.items():
            found.setdefault(name, dependency)
        return found


def sessions_of(reader: NameReader, index: RepoIndex, function: cst.FunctionDef, path: str | None = None) -> Sessions:
    """The sessions of ``function`` (see the module's doc); ``path`` is its file, the place
    dependencies and factories are looked up from."""
    found = Sessions()
    params = [*function.params.posonly_params, *function.params.params, *function.params.kwonly_params]
    for param in params:
        annotation = param.annotation.annotation if param.annotation is not None else None
        if annotation is not None and _names_type(reader, annotation, SESSION_TYPES):
            found.names[param.name.value] = None
        dependency = _dependency(reader, param)
        if dependency is not None or _depends(reader, param):
            found.injected[param.name.value] = dependency
            if dependency and index.session_factory_for(dependency, path) is not None:
                found.names[param.name.value] = dependency
            elif param.name.value in found.names and dependency:
                found.names[param.name.value] = dependency
    for item in findall(function.body, m.WithItem()):
        assert isinstance(item, cst.WithItem)
        if item.asname is None:
            continue
        found.managed |= {n.value for n in findall(item.asname.name, m.Name())}
        if isinstance(item.asname.name, cst.Name):
            _bind(reader, index, path, found, item.asname.name.value, item.item)
    for assign in findall(function.body, m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.Call())):
        assert isinstance(assign, cst.Assign) and isinstance(assign.targets[0].target, cst.Name)
        _bind(reader, index, path, found, assign.targets[0].target.value, assign.value)
    for call in findall(function.body, m.Call(func=m.Attribute())):
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        receiver = get_full_name_for_node(call.func.value)
        if receiver is not None and call.func.attr.value in SESSION_ONLY_METHODS and receiver not in found.connections:
            found.names.setdefault(receiver, None)
    aliases = True
    while aliases:  # `s = db; t = s`: follow the chain
        aliases = False
        for assign in findall(function.body, m.Assign(value=m.Name() | m.Attribute())):
            assert isinstance(assign, cst.Assign)
            source = get_full_name_for_node(assign.value)
            if source not in found.names:
                continue
            for target in assign.targets:
                alias = get_full_name_for_node(target.target)
                if alias is not None and alias not in found.names:
                    found.names[alias] = found.names[source]
                    aliases = True
    return found


def _bind(reader: NameReader, index: RepoIndex, path: str | None, found: Sessions, name: str, value: cst.BaseExpression) -> None:
    """``name`` bound to ``value`` (`SessionLocal()`, `Session(engine)`, `engine.begin()`)."""
    inner = value.expression if isinstance(value, cst.Await) else value
    if not isinstance(inner, cst.Call):
        return
    if isinstance(inner.func, cst.Attribute) and inner.func.attr.value in CONNECTION_METHODS:
        if _type_kind(reader, inner.func.value) is not Receiver.SESSION:
            found.connections.add(name)
            return
    if _names_type(reader, inner.func, SESSION_TYPES):
        found.names[name] = None
        return
    for qualname in sorted(n for n in absolute_names(reader, inner.func) if "<locals>" not in n):
        factory = index.session_factory_for(qualname, path)
        if factory is not None:
            found.names[name] = qualname
            return


def _dependency(reader: NameReader, param: cst.Param) -> str | None:
    """`app.db.get_db` for `db = Depends(get_db)` or `db: Annotated[S, Depends(get_db)]`."""
    candidates = [param.default] if param.default is not None else []
    if param.annotation is not None:
        candidates += list(findall(param.annotation.annotation, m.Call()))
    for call in candidates:
        if isinstance(call, cst.Call) and call.args and _is_depends(reader, call):
            names = sorted(n for n in absolute_names(reader, call.args[0].value) if "<locals>" not in n)
            if names:
                return names[0]
            return get_full_name_for_node(call.args[0].value)
    return None


def _depends(reader: NameReader, param: cst.Param) -> bool:
    """Whether the parameter is injected at all (`Depends()` with no argument included)."""
    candidates = [param.default] if param.default is not None else []
    if param.annotation is not None:
        candidates += list(findall(param.annotation.annotation, m.Call()))
    return any(isinstance(c, cst.Call) and _is_depends(reader, c) for c in candidates)


def _is_depends(reader: NameReader, call: cst.Call) -> bool:
    names = reader.qualified_names(call.func)
    return bool(names & DEPENDS) or get_full_name_for_node(call.func) in {"Depends", "fastapi.Depends"}


def _names_type(reader: NameReader, annotation: cst.CSTNode, types: frozenset[str]) -> bool:
    return any(reader.qualified_names(n) & types for n in [annotation, *findall(annotation, m.Name() | m.Attribute())])


class Receiver(Enum):
    SESSION = "session"
    CONNECTION = "connection"  # Connection / Engine: no identity map, no `get`
    UNKNOWN = "unknown"


def receiver_kind(reader: NameReader, expr: cst.BaseExpression, scope: cst.CSTNode | None) -> Receiver:
    """What the object a statement runs on is, from its annotation (`db: AsyncSession`,
    `Annotated[Session, Depends(...)]`), `with engine.begin() as conn` or
    `conn = engine.connect()` in ``scope``."""
    if not isinstance(expr, cst.Name) or scope is None:
        return Receiver.UNKNOWN
    for annotation in _annotations_of(scope, expr.value):
        kinds = {_type_kind(reader, n) for n in findall(annotation, m.Name() | m.Attribute())}
        if Receiver.CONNECTION in kinds:
            return Receiver.CONNECTION
        if Receiver.SESSION in kinds:
            return Receiver.SESSION
    for value in bindings(scope, expr.value):
        inner = value.expression if isinstance(value, cst.Await) else value
        if not isinstance(inner, cst.Call):
            continue
        if isinstance(inner.func, cst.Attribute) and inner.func.attr.value in CONNECTION_METHODS:
            return Receiver.CONNECTION
        kind = _type_kind(reader, inner.func)
        if kind is not Receiver.UNKNOWN:
            return kind
    return Receiver.UNKNOWN


def _annotations_of(scope: cst.CSTNode, name: str) -> list[cst.BaseExpression]:
    found = []
    for param in findall(scope, m.Param()):
        if isinstance(param, cst.Param) and param.name.value == name and param.annotation is not None:
            found.append(param.annotation.annotation)
    for assign in findall(scope, m.AnnAssign(target=m.Name(name))):
        if isinstance(assign, cst.AnnAssign):
            found.append(assign.annotation.annotation)
    return found


def _type_kind(reader: NameReader, node: cst.CSTNode) -> Receiver:
    names = reader.qualified_names(node)
    if names & CONNECTION_TYPES:
        return Receiver.CONNECTION
    if names & SESSION_TYPES:
        return Receiver.SESSION
    return Receiver.UNKNOWN
