"""What the ORM codemods need to know about one function's straight-line code: which
variable holds which model, which session a variable is, and which statements could
unload or replace what an earlier statement loaded."""

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
# Session methods after which loaded state may be gone.
EXPIRING_METHODS = {"expire", "expire_all", "rollback", "close", "invalidate", "reset"}
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


def assigned_names(node: cst.CSTNode) -> set[str]:
    """Every plain name (re)bound anywhere inside ``node``."""
    names: set[str] = set()
    for target in m.findall(node, m.AssignTarget() | m.AnnAssign() | m.AugAssign() | m.For() | m.WithItem() | m.NamedExpr()):
        for expr in _targets_of(target):
            names.update(n.value for n in m.findall(expr, m.Name()) if isinstance(expr, (cst.Name, cst.Tuple, cst.List)))
    return names


def _targets_of(node: cst.CSTNode) -> list[cst.BaseExpression]:
    if isinstance(node, cst.AssignTarget):
        return [node.target]
    if isinstance(node, (cst.AnnAssign, cst.AugAssign)):
        return [node.target]
    if isinstance(node, cst.For):
        return [node.target]
    if isinstance(node, cst.WithItem):
        return [node.asname.name] if node.asname else []
    if isinstance(node, cst.NamedExpr):
        return [node.target]
    return []


def method_calls(node: cst.CSTNode) -> list[tuple[str, str, cst.Call]]:
    """(receiver, method, call) for every `receiver.method(...)` inside ``node``."""
    found = []
    for call in m.findall(node, m.Call(func=m.Attribute())):
        receiver = name_of(call.func.value) or "?"
        found.append((receiver, call.func.attr.value, call))
    return found


def calls_passing(node: cst.CSTNode, names: set[str]) -> list[cst.Call]:
    """Calls inside ``node`` that receive one of ``names`` as an argument."""
    hits = []
    for call in m.findall(node, m.Call()):
        for arg in call.args:
            if isinstance(arg.value, cst.Name) and arg.value.value in names:
                hits.append(call)
                break
    return hits
