"""How the ORM codemods read SQLAlchemy code in one function: `select(M)...` chains,
`session.execute(...)` calls, and which names are sessions.

What can run between two statements, and what it does to a session, is asked of
`optimize.analyzers.flow` and `optimize.analyzers.effects`."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node

from optimize.codemods.base import Codemod

SESSION_TYPES = {
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlmodel.Session",
    "sqlmodel.ext.asyncio.session.AsyncSession",
}
SELECT_FUNCTIONS = {"sqlalchemy.select", "sqlalchemy.future.select", "sqlalchemy.sql.select", "sqlmodel.select"}
LOADER_OPTIONS = {
    "sqlalchemy.orm.selectinload": "selectin",
    "sqlalchemy.orm.joinedload": "joined",
    "sqlalchemy.orm.subqueryload": "subquery",
    "sqlalchemy.orm.immediateload": "immediate",
}
EAGER_STRATEGIES = {"joined", "selectin", "subquery", "immediate"}
# Calls that show their receiver is a session, even when nothing declares it one. Names
# common on other objects (`get`, `add`, `delete`, `scalar`) are left out: `payload.get()`
# does not make `payload` a session.
SESSION_ONLY_METHODS = {
    "refresh", "commit", "flush", "execute", "scalars", "rollback", "expire", "expire_all",
    "expunge", "expunge_all", "begin", "begin_nested", "run_sync",
}
RESULT_METHODS = {"scalar_one", "scalar_one_or_none", "one", "one_or_none", "first", "scalar"}


def unwrap_await(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.expression if isinstance(node, cst.Await) else node


def name_of(node: cst.CSTNode) -> str | None:
    return get_full_name_for_node(node)


@dataclass
class SelectInfo:
    """`select(M).where(...).options(selectinload(M.rel))` read from an expression."""

    model: str
    options: set[str] = field(default_factory=set)  # relationship names eagerly loaded
    other: list[str] = field(default_factory=list)  # other method names in the chain
    where: list[cst.BaseExpression] = field(default_factory=list)
    filter_by: list[cst.Arg] = field(default_factory=list)


def read_select(codemod: Codemod, expr: cst.BaseExpression) -> SelectInfo | None:
    """Walk a method chain down to `select(M)`; None when it is not one."""
    chain: list[cst.Call] = []
    node = expr
    while (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and not codemod.refers_to(node.func, SELECT_FUNCTIONS)  # `sa.select(...)` ends the chain
    ):
        chain.append(node)
        node = node.func.value
    if not isinstance(node, cst.Call) or not codemod.refers_to(node.func, SELECT_FUNCTIONS):
        return None
    if len(node.args) != 1 or node.args[0].keyword or node.args[0].star:
        return None
    model = name_of(node.args[0].value)
    if model is None:
        return None
    info = SelectInfo(model.rsplit(".", 1)[-1])
    for call in reversed(chain):
        method = call.func.attr.value
        if method in {"where", "filter"}:
            info.where.extend(a.value for a in call.args)
        elif method == "filter_by":
            info.filter_by.extend(call.args)
        elif method == "options":
            for arg in call.args:
                option = arg.value
                if (
                    isinstance(option, cst.Call)
                    and any(codemod.refers_to(option.func, [q]) for q in LOADER_OPTIONS)
                    and len(option.args) == 1
                    and isinstance(option.args[0].value, cst.Attribute)
                ):
                    info.options.add(option.args[0].value.attr.value)
                else:
                    info.other.append("options")
        else:
            info.other.append(method)
    return info


def execute_call(node: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """(session, statement) for `session.execute(stmt)` / `await session.execute(stmt)`."""
    node = unwrap_await(node)
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in {"execute", "exec"}
        and node.args
        and node.args[0].keyword is None
    ):
        return node.func.value, node.args[0].value
    return None


def session_dependencies(codemod: Codemod, function: cst.FunctionDef) -> dict[str, str | None]:
    """Parameters that are sessions, mapped to the dependency they come from
    (`db: AsyncSession = Depends(get_db)` -> {"db": "app.db.get_db"}); None if unknown."""
    sessions: dict[str, str | None] = {}
    for param in [*function.params.params, *function.params.kwonly_params]:
        typed = param.annotation is not None and codemod.refers_to(param.annotation.annotation, SESSION_TYPES)
        dependency = None
        default = param.default
        if isinstance(default, cst.Call) and default.args and name_of(default.func) in {"Depends", "fastapi.Depends"}:
            names = codemod.qualified_names(default.args[0].value) or {name_of(default.args[0].value) or ""}
            dependency = sorted(names)[0] or None
        if typed or dependency:
            sessions[param.name.value] = dependency
    return sessions


def session_names(codemod: Codemod, function: cst.FunctionDef) -> dict[str, str | None]:
    """Every name ``function`` uses as a session, mapped to its dependency (None when not
    known): parameters typed as a session or injected from a dependency the index ties to
    a session factory (`user = Depends(get_current_user)` is no session), receivers of
    session-only methods (`db.refresh(...)`, `self.session.commit()`), and names bound to
    one of those (`s = db`)."""
    sessions: dict[str, str | None] = {}
    for param in [*function.params.params, *function.params.kwonly_params]:
        if param.annotation is not None and codemod.refers_to(param.annotation.annotation, SESSION_TYPES):
            sessions[param.name.value] = None
    for name, dependency in session_dependencies(codemod, function).items():
        if name in sessions or (dependency and codemod.index.session_factory_for(dependency) is not None):
            sessions[name] = dependency
    for call in m.findall(function.body, m.Call(func=m.Attribute())):
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        receiver = name_of(call.func.value)
        if receiver is not None and call.func.attr.value in SESSION_ONLY_METHODS:
            sessions.setdefault(receiver, None)
    aliases = True
    while aliases:  # `s = db; t = s`: follow the chain
        aliases = False
        for assign in m.findall(function.body, m.Assign(value=m.Name() | m.Attribute())):
            assert isinstance(assign, cst.Assign)
            source = name_of(assign.value)
            if source not in sessions:
                continue
            for target in assign.targets:
                alias = name_of(target.target)
                if alias is not None and alias not in sessions:
                    sessions[alias] = sessions[source]
                    aliases = True
    return sessions
