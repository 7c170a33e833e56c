"""What an expression holds, for the ORM query forms.

Given a LibCST expression, the codemod reading its module (names resolved through the
module's imports) and the repository index, these functions answer with typed data:

- `read_statement`: a statement over one class, `select(M)` (SQLAlchemy,
  `sqlalchemy.future`, SQLModel) or a legacy `session.query(M)` chain, with its equality
  criteria on M's columns, the criteria it cannot read that way and its other chain
  methods; M is resolved through the import that names it (`RepoIndex.model_for`), so a
  plain class that shares a model's name is not taken for the model;
- `read_source`: a statement handed to a session (`session.execute(stmt)`,
  `session.scalars(stmt)`, SQLModel's `session.exec(stmt)`, awaited or not) or a legacy
  query, and what it yields before a fetch (`Result`, `ScalarResult`, `Query`);
- `read_fetch`: what a result call holds: `M | None` (`scalar_one_or_none()`,
  `scalars().first()`, `query(M)....first()`, `query(M).get(x)`, SQLModel
  `exec(...).first()`), `M` (`one()`, `scalar_one()`), `list[M]`, or rows;
- `holds_sql`: whether an expression holds an SQL construct (a column, an alias, a
  subquery, a bound parameter) rather than a Python value.

Which names are sessions is `analyzers.sessions`; what a name holds at a point of a
function is `analyzers.holds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from collections.abc import Callable, Iterable
from typing import Protocol

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.helpers import get_full_name_for_node

from optimize.analyzers.index import RepoIndex
from optimize.analyzers.models import ModelInfo
from optimize.analyzers.cst_find import findall

SELECT_FUNCTIONS = frozenset({
    "sqlalchemy.select",
    "sqlalchemy.future.select",
    "sqlalchemy.sql.select",
    "sqlalchemy.sql.expression.select",
    "sqlmodel.select",
    "sqlmodel.sql.expression.select",
})
# SQLModel's `select(M)` of one entity is a `SelectOfScalar`: `session.exec` hands back
# its objects, where the same statement from SQLAlchemy's `select` yields rows.
SQLMODEL_SELECTS = frozenset({"sqlmodel.select", "sqlmodel.sql.expression.select"})
AND_FUNCTIONS = frozenset({
    "sqlalchemy.and_", "sqlalchemy.sql.and_", "sqlalchemy.sql.expression.and_", "sqlmodel.and_",
})
SQL_PACKAGES = ("sqlalchemy", "sqlmodel")
CRITERIA_METHODS = frozenset({"where", "filter"})
# Loader options that load a relationship with the statement's own objects.
LOADER_OPTIONS = frozenset({
    f"{module}.{name}"
    for module in ("sqlalchemy.orm", "sqlalchemy.orm.strategy_options", "sqlmodel")
    for name in ("selectinload", "joinedload", "subqueryload", "immediateload")
})
_LITERALS = (
    cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString,
)


class NameReader(Protocol):
    """What reading an expression needs from the codemod that holds its module."""

    context: CodemodContext

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """The qualified names ``node`` may refer to, through the module's imports."""
        ...


# --- what a name refers to ------------------------------------------------------------------


def absolute_names(reader: NameReader, node: cst.CSTNode) -> frozenset[str]:
    """The names ``node`` refers to, spelled from the repository root as an import would
    spell them: a relative import is resolved against the module's package and a
    module-level definition gets the module's name. Function locals keep their
    ``f.<locals>.x`` form (they name no importable object)."""
    module = reader.context.full_module_name or ""
    package = reader.context.full_package_name or ""
    found: set[str] = set()
    for name in reader.qualified_names(node):
        if "<locals>" in name:
            found.add(name)
        elif name.startswith("."):
            found.add(from_package(package, name))
        elif "." not in name and module:
            found.add(f"{module}.{name}")
        else:
            found.add(name)
    return frozenset(found)


def from_package(package: str, relative: str) -> str:
    """`..core.db` read in package `app.routers` -> `app.core.db`."""
    level = len(relative) - len(relative.lstrip("."))
    parts = package.split(".") if package else []
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    rest = relative.lstrip(".")
    return ".".join([*parts, rest] if rest else parts)


def _star_modules(reader: NameReader) -> list[str]:
    """Modules this module imports with `from x import *` (a name it uses unbound may come
    from one of them)."""
    wrapper = reader.context.wrapper
    if wrapper is None:
        return []
    package = reader.context.full_package_name or ""
    modules = []
    for statement in wrapper.module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                dotted = get_full_name_for_node(small.module) if small.module is not None else None
                written = "." * len(small.relative) + (dotted or "")
                modules.append(from_package(package, written) if small.relative else written)
    return modules


def _is_sql_name(name: str) -> bool:
    return name.split(".", 1)[0] in SQL_PACKAGES


# --- the class a statement is about --------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """The class a statement selects, as written and as resolved through the imports."""

    node: cst.BaseExpression
    names: frozenset[str]  # the absolute names it may refer to
    model: ModelInfo | None  # the mapped model it is; None for anything else

    @property
    def written(self) -> str:
        return get_full_name_for_node(self.node) or "?"

    def same_model(self, other: Entity) -> bool:
        if self.model is None or other.model is None:
            return self.model is other.model and self.written == other.written
        return (self.model.path, self.model.name) == (other.model.path, other.model.name)


def resolve_entity(reader: NameReader, index: RepoIndex, node: cst.BaseExpression) -> Entity | None:
    """``node`` (`Task`, `models.Task`) as a class of the repository; None when it is not
    a name at all. ``model`` is set only when every name it may refer to is the same mapped
    model: the model is found through the import, never by its bare name."""
    if not isinstance(node, (cst.Name, cst.Attribute)):
        return None
    names = absolute_names(reader, node)
    if names:
        # Every import that may bind the name (`try: ... except ImportError:`) must agree.
        found = [index.model_for(name) for name in sorted(names) if "<locals>" not in name]
        if not found or any(info is None for info in found):
            return Entity(node, names, None)
    elif isinstance(node, cst.Name):
        # Unbound here: one of the modules star-imported may define it.
        names = frozenset(f"{module}.{node.value}" for module in _star_modules(reader))
        found = [info for name in sorted(names) if (info := index.model_for(name)) is not None]
    else:
        return Entity(node, names, None)
    distinct = {(info.path, info.name) for info in found if info is not None}
    model = found[0] if len(distinct) == 1 else None
    return Entity(node, names, model)


# --- statements ------------------------------------------------------------------------------


class Form(Enum):
    SELECT = "select"  # `select(M)`: SQLAlchemy 1.4/2.0 style, SQLModel
    QUERY = "query"  # `session.query(M)`: the legacy Query API


@dataclass(frozen=True)
class Equality:
    """`M.column == value` (either way round) or `filter_by(column=value)`."""

    column: str
    value: cst.BaseExpression
    node: cst.CSTNode


@dataclass(frozen=True)
class Statement:
    """A statement over one entity, and what narrows or changes it."""

    form: Form
    entity: Entity
    equalities: tuple[Equality, ...]
    other_criteria: tuple[cst.CSTNode, ...]  # criteria that are not `M.column == value`
    methods: tuple[str, ...]  # every other chain method, in order (order_by, options, ...)
    session: cst.BaseExpression | None  # QUERY: what `.query(M)` was called on
    sqlmodel: bool = False  # built with SQLModel's `select`
    loads: frozenset[str] = frozenset()  # relationships of M its loader options load
    # An option not read as one loader of one relationship (`selectinload(M.a).joinedload(A.b)`,
    # `options(*loaders)`, `Load(M)`, `raiseload("*")`): what it loads is not known.
    unread_options: bool = False
    node: cst.BaseExpression | None = field(default=None, compare=False)  # the chain it was read from


def read_statement(reader: NameReader, index: RepoIndex, expr: cst.BaseExpression) -> Statement | None:
    """``expr`` as `select(M)...` or `session.query(M)...`; None when it is neither or
    selects anything but one entity (`select(M.id)`, `select(M, N)`, `select([M])`)."""
    chain: list[cst.Call] = []
    node = expr
    while True:
        if not isinstance(node, cst.Call):
            return None
        if _refers_to(reader, node.func, SELECT_FUNCTIONS):
            form, session = Form.SELECT, None
            break
        if not isinstance(node.func, cst.Attribute):
            return None
        if node.func.attr.value == "query":
            form, session = Form.QUERY, node.func.value
            break
        chain.append(node)
        node = node.func.value
    if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
        return None
    entity = resolve_entity(reader, index, node.args[0].value)
    if entity is None:
        return None
    sqlmodel = form is Form.SELECT and _refers_to(reader, node.func, SQLMODEL_SELECTS)
    equalities: list[Equality] = []
    others: list[cst.CSTNode] = []
    methods: list[str] = []
    loads: set[str] = set()
    unread = False
    for call in reversed(chain):
        method = call.func.attr.value  # type: ignore[union-attr]
        if method in CRITERIA_METHODS:
            for arg in call.args:
                if arg.keyword is not None or arg.star:
                    others.append(arg)
                else:
                    _read_criterion(reader, index, entity, arg.value, equalities, others)
        elif method == "filter_by":
            for arg in call.args:
                if arg.keyword is None or arg.star:
                    others.append(arg)
                else:
                    equalities.append(Equality(arg.keyword.value, arg.value, arg))
        else:
            methods.append(method)
            if method == "options":
                loaded = _loaded_by_options(reader, index, entity, call)
                loads |= loaded
                unread = unread or len(loaded) < len(call.args)
    return Statement(
        form, entity, tuple(equalities), tuple(others), tuple(methods), session, sqlmodel, frozenset(loads), unread, expr
    )


def _loaded_by_options(reader: NameReader, index: RepoIndex, entity: Entity, call: cst.Call) -> set[str]:
    """The relationships of ``entity`` that `.options(selectinload(M.rel), ...)` loads
    with the statement; an option on another class (`joinedload(Other.rel)`) loads
    nothing of M's."""
    loaded = set()
    for arg in call.args:
        option = arg.value
        if (
            isinstance(option, cst.Call)
            and _refers_to(reader, option.func, LOADER_OPTIONS)
            and len(option.args) == 1
            and isinstance(option.args[0].value, cst.Attribute)
        ):
            attribute = option.args[0].value
            owner = resolve_entity(reader, index, attribute.value)
            if owner is not None and owner.same_model(entity) and entity.model is not None:
                loaded.add(attribute.attr.value)
    return loaded


def _read_criterion(
    reader: NameReader,
    index: RepoIndex,
    entity: Entity,
    expr: cst.BaseExpression,
    equalities: list[Equality],
    others: list[cst.CSTNode],
) -> None:
    """Split a where/filter argument into equalities on ``entity``'s columns (through
    `and_(...)` and `&`) and everything else."""
    if isinstance(expr, cst.Call) and _refers_to(reader, expr.func, AND_FUNCTIONS):
        for arg in expr.args:
            if arg.keyword is not None or arg.star:
                others.append(arg)
            else:
                _read_criterion(reader, index, entity, arg.value, equalities, others)
        return
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitAnd):
        _read_criterion(reader, index, entity, expr.left, equalities, others)
        _read_criterion(reader, index, entity, expr.right, equalities, others)
        return
    if (
        isinstance(expr, cst.Comparison)
        and len(expr.comparisons) == 1
        and isinstance(expr.comparisons[0].operator, cst.Equal)
    ):
        left, right = expr.left, expr.comparisons[0].comparator
        left_column = _column_of(reader, index, entity, left)
        right_column = _column_of(reader, index, entity, right)
        if left_column is not None and right_column is None:
            equalities.append(Equality(left_column, right, expr))
            return
        if right_column is not None and left_column is None:
            equalities.append(Equality(right_column, left, expr))
            return
    others.append(expr)


def _column_of(reader: NameReader, index: RepoIndex, entity: Entity, expr: cst.BaseExpression) -> str | None:
    """The column name when ``expr`` is `M.column` of the statement's own entity."""
    if not isinstance(expr, cst.Attribute):
        return None
    owner = resolve_entity(reader, index, expr.value)
    if owner is None or not owner.same_model(entity):
        return None
    return expr.attr.value


def _refers_to(reader: NameReader, node: cst.CSTNode, names: Iterable[str]) -> bool:
    return bool(reader.qualified_names(node) & set(names))


# --- what a statement yields once run, and what a fetch holds ---------------------------------


class Yields(Enum):
    """What running a statement hands back, before any fetch."""

    RESULT = "Result"  # rows: `session.execute(stmt)`
    SCALARS = "ScalarResult"  # objects: `session.scalars(stmt)`, SQLModel `session.exec(select(M))`
    QUERY = "Query"  # the legacy `session.query(M)...`
    SCALAR = "scalar"  # `session.scalar(stmt)`: the first object itself


class Holds(Enum):
    """What a fetch evaluates to (M: the selected model)."""

    OBJECT_OR_NONE = "M | None"
    OBJECT = "M"  # raises when no row matches
    OBJECTS = "list[M]"
    ROW_OR_NONE = "Row | None"
    ROW = "Row"
    ROWS = "list[Row]"


@dataclass(frozen=True)
class Source:
    """A statement handed to a session (or a legacy query, which is its own source)."""

    session: cst.BaseExpression
    method: str  # execute / scalars / scalar / exec / query
    statement: Statement
    yields: Yields
    awaited: bool
    extra_args: tuple[cst.Arg, ...] = ()  # parameters or options passed beside the statement


def read_source(reader: NameReader, index: RepoIndex, expr: cst.BaseExpression) -> Source | None:
    """``expr`` as `[await] session.execute(stmt)` / `.scalars(stmt)` / `.exec(stmt)` or
    as a `session.query(M)...` chain."""
    awaited = isinstance(expr, cst.Await)
    inner = expr.expression if isinstance(expr, cst.Await) else expr
    if (
        isinstance(inner, cst.Call)
        and isinstance(inner.func, cst.Attribute)
        and inner.func.attr.value in {"execute", "scalars", "exec"}
        and inner.args
        and inner.args[0].keyword is None
        and not inner.args[0].star
    ):
        statement = read_statement(reader, index, inner.args[0].value)
        if statement is None or statement.form is not Form.SELECT:
            return None
        method = inner.func.attr.value
        yields = Yields.SCALARS if method == "scalars" or (method == "exec" and statement.sqlmodel) else Yields.RESULT
        return Source(inner.func.value, method, statement, yields, awaited, tuple(inner.args[1:]))
    if awaited:
        return None
    statement = read_statement(reader, index, inner)
    if statement is None or statement.form is not Form.QUERY or statement.session is None:
        return None
    return Source(statement.session, "query", statement, Yields.QUERY, False)


@dataclass(frozen=True)
class Fetch:
    """A result call and what it holds."""

    source: Source
    steps: tuple[str, ...]  # the methods applied to the source, in order: ("scalars", "first")
    holds: Holds
    key: cst.BaseExpression | None = None  # `query(M).get(key)`: the identity asked for

    @property
    def written(self) -> str:
        """`execute(...).scalars().first()`, `query(...).get(...)` (for messages)."""
        steps = "".join(f".{s}(...)" if s == "get" else f".{s}()" for s in self.steps)
        return f"{self.source.method}(...){steps}"


# (what the object is, method) -> what the call gives: another object or a final value.
_STEPS: dict[tuple[Yields, str], Yields | Holds] = {
    (Yields.RESULT, "unique"): Yields.RESULT,
    (Yields.RESULT, "scalars"): Yields.SCALARS,
    (Yields.RESULT, "scalar_one_or_none"): Holds.OBJECT_OR_NONE,
    (Yields.RESULT, "scalar"): Holds.OBJECT_OR_NONE,
    (Yields.RESULT, "scalar_one"): Holds.OBJECT,
    (Yields.RESULT, "first"): Holds.ROW_OR_NONE,
    (Yields.RESULT, "one_or_none"): Holds.ROW_OR_NONE,
    (Yields.RESULT, "one"): Holds.ROW,
    (Yields.RESULT, "all"): Holds.ROWS,
    (Yields.SCALARS, "unique"): Yields.SCALARS,
    (Yields.SCALARS, "first"): Holds.OBJECT_OR_NONE,
    (Yields.SCALARS, "one_or_none"): Holds.OBJECT_OR_NONE,
    (Yields.SCALARS, "one"): Holds.OBJECT,
    (Yields.SCALARS, "all"): Holds.OBJECTS,
    (Yields.QUERY, "first"): Holds.OBJECT_OR_NONE,
    (Yields.QUERY, "one_or_none"): Holds.OBJECT_OR_NONE,
    (Yields.QUERY, "scalar"): Holds.OBJECT_OR_NONE,
    (Yields.QUERY, "get"): Holds.OBJECT_OR_NONE,
    (Yields.QUERY, "one"): Holds.OBJECT,
    (Yields.QUERY, "all"): Holds.OBJECTS,
}
_MAX_STEPS = 3  # `.unique().scalars().first()` is the longest fetch


def read_fetch(
    reader: NameReader,
    index: RepoIndex,
    expr: cst.BaseExpression,
    source_of: Callable[[str], Source | None] | None = None,
) -> Fetch | None:
    """``expr`` as a fetch from a source: `(await db.execute(stmt)).scalar_one_or_none()`,
    `db.scalars(stmt).first()`, `await db.scalar(stmt)` (``expr`` being the call inside the
    await), `db.query(M).filter(...).first()`, `db.query(M).get(x)`, or such a call on a
    name that ``source_of`` says holds a source (`result.scalar_one_or_none()`)."""
    if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
        return None
    if expr.func.attr.value == "scalar" and len(expr.args) == 1 and expr.args[0].keyword is None:
        statement = read_statement(reader, index, expr.args[0].value)
        if statement is not None and statement.form is Form.SELECT:
            source = Source(expr.func.value, "scalar", statement, Yields.SCALAR, False)
            return Fetch(source, (), Holds.OBJECT_OR_NONE)
    steps: list[cst.Call] = []
    node: cst.BaseExpression = expr
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and len(steps) < _MAX_STEPS:
        steps.insert(0, node)
        receiver = node.func.value
        if isinstance(receiver, cst.Name) and source_of is not None:
            held = source_of(receiver.value)
            if held is not None:
                return _fold(held, steps)
        source = read_source(reader, index, receiver)
        if source is not None:
            return _fold(source, steps)
        node = receiver
    return None


def read_objects(
    reader: NameReader,
    index: RepoIndex,
    expr: cst.BaseExpression,
    source_of: Callable[[str], Source | None] | None = None,
) -> Fetch | None:
    """``expr`` as something whose iteration gives the selected objects: a fetch of
    `list[M]` (`.scalars().all()`, `query(M).all()`), a `ScalarResult`
    (`session.scalars(stmt)`, `result.scalars()`, SQLModel `session.exec(select(M))`) or a
    legacy `Query` (`session.query(M).filter(...)`)."""
    fetch = read_fetch(reader, index, expr, source_of)
    if fetch is not None:
        return fetch if fetch.holds is Holds.OBJECTS else None
    inner = expr.expression if isinstance(expr, cst.Await) else expr
    source = read_source(reader, index, expr)
    if source is not None and source.yields in {Yields.SCALARS, Yields.QUERY}:
        return Fetch(source, (), Holds.OBJECTS)
    if (
        isinstance(inner, cst.Call)
        and isinstance(inner.func, cst.Attribute)
        and inner.func.attr.value in {"scalars", "unique"}
        and not inner.args
    ):
        receiver = inner.func.value
        base = None
        if isinstance(receiver, cst.Name) and source_of is not None:
            base = source_of(receiver.value)
        if base is None:
            base = read_source(reader, index, receiver)
        if base is not None:
            state = _STEPS.get((base.yields, inner.func.attr.value))
            if state is Yields.SCALARS:
                return Fetch(base, (inner.func.attr.value,), Holds.OBJECTS)
    return None


def _fold(source: Source, calls: list[cst.Call]) -> Fetch | None:
    """Follow ``calls`` from what ``source`` yields; a Fetch when the last one gives a value."""
    state: Yields | Holds = source.yields
    key = None
    for position, call in enumerate(calls):
        method = call.func.attr.value  # type: ignore[union-attr]
        if not isinstance(state, Yields):
            return None  # a value was already fetched: `.first().name` is not a fetch
        if method == "get" and state is Yields.QUERY:
            if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
                return None
            key = call.args[0].value
        elif call.args:
            return None
        following = _STEPS.get((state, method))
        if following is None:
            return None
        state = following
        if isinstance(state, Holds) and position != len(calls) - 1:
            return None
    if not isinstance(state, Holds):
        return None
    steps = tuple(c.func.attr.value for c in calls)  # type: ignore[union-attr]
    return Fetch(source, steps, state, key)


# --- a Python value or an SQL construct ------------------------------------------------------


def holds_sql(
    reader: NameReader, index: RepoIndex, expr: cst.BaseExpression, scope: cst.CSTNode | None
) -> bool:
    """Whether ``expr`` may hold an SQL construct (a model's column, an `aliased(...)`
    class, a subquery's column, `bindparam(...)`, `func.max(...)`) rather than a Python
    value. Local names are followed to what ``scope`` (the enclosing function) binds to
    them; an expression of a kind not read here counts as SQL (the conservative answer)."""
    return _holds_sql(reader, index, expr, scope, set())


def _holds_sql(
    reader: NameReader, index: RepoIndex, expr: cst.BaseExpression, scope: cst.CSTNode | None, seen: set[str]
) -> bool:
    if isinstance(expr, _LITERALS):
        return False
    if isinstance(expr, cst.Name):
        return _name_holds_sql(reader, index, expr, scope, seen)
    if isinstance(expr, cst.Attribute):
        if any(_is_sql_name(n) for n in reader.qualified_names(expr)):
            return True
        return _holds_sql(reader, index, expr.value, scope, seen)
    if isinstance(expr, cst.Subscript):
        return _holds_sql(reader, index, expr.value, scope, seen)
    if isinstance(expr, cst.Await):
        return _holds_sql(reader, index, expr.expression, scope, seen)
    if isinstance(expr, cst.Call):
        if any(_is_sql_name(n) for n in reader.qualified_names(expr.func)):
            return True  # select(...), aliased(...), func.now(), bindparam(...), literal(...)
        if isinstance(expr.func, cst.Attribute):
            # A method of an SQL construct builds another (`.subquery()`, `.label()`); a
            # method of anything else (`db.scalar(...)`, `str.strip()`) gives a value.
            return _holds_sql(reader, index, expr.func.value, scope, seen)
        return False  # int(x), UUID(x), a helper's return value
    if isinstance(expr, cst.UnaryOperation):
        return _holds_sql(reader, index, expr.expression, scope, seen)
    if isinstance(expr, cst.BinaryOperation):
        return any(_holds_sql(reader, index, side, scope, seen) for side in (expr.left, expr.right))
    if isinstance(expr, cst.IfExp):
        return any(_holds_sql(reader, index, side, scope, seen) for side in (expr.body, expr.orelse))
    return True


def _name_holds_sql(
    reader: NameReader, index: RepoIndex, name: cst.Name, scope: cst.CSTNode | None, seen: set[str]
) -> bool:
    if name.value in {"None", "True", "False"}:
        return False
    names = absolute_names(reader, name)
    if any(_is_sql_name(n) for n in names):
        return True
    if any(index.model_for(n) is not None for n in names if "<locals>" not in n):
        return True  # the model class itself
    if name.value in seen:
        return False  # already being followed: its other bindings decide
    seen.add(name.value)
    local = any("<locals>" in n for n in names)
    where = scope if local else _module_of(reader)
    if where is None:
        return local  # a local whose function is not known: not provably a value
    return any(_holds_sql(reader, index, value, scope, seen) for value in bindings(where, name.value, local))


def _module_of(reader: NameReader) -> cst.Module | None:
    wrapper = reader.context.wrapper
    return None if wrapper is None else wrapper.module


def bindings(scope: cst.CSTNode, name: str, nested: bool = True) -> list[cst.BaseExpression]:
    """What ``scope`` binds to ``name``: assignment values, the iterable of a `for` over
    it, the context expression of `with ... as name`. A name unpacked from a tuple is
    bound to the whole right-hand side. ``nested`` False reads only ``scope``'s own
    top-level statements (module-level names)."""
    nodes: Iterable[cst.CSTNode]
    if nested:
        nodes = findall(
            scope,
            m.Assign() | m.AnnAssign() | m.AugAssign() | m.NamedExpr() | m.For() | m.CompFor() | m.WithItem(),
        )
    else:
        nodes = [s for line in getattr(scope, "body", ()) if isinstance(line, cst.SimpleStatementLine) for s in line.body]
    found: list[cst.BaseExpression] = []
    for node in nodes:
        for target, value in _bound_pairs(node):
            if any(isinstance(n, cst.Name) and n.value == name for n in _names_in_target(target)):
                found.append(value)
    return found


def _bound_pairs(node: cst.CSTNode) -> list[tuple[cst.BaseExpression, cst.BaseExpression]]:
    if isinstance(node, cst.Assign):
        return [(t.target, node.value) for t in node.targets]
    if isinstance(node, (cst.AnnAssign, cst.AugAssign)) and node.value is not None:
        return [(node.target, node.value)]
    if isinstance(node, cst.NamedExpr):
        return [(node.target, node.value)]
    if isinstance(node, (cst.For, cst.CompFor)):
        return [(node.target, node.iter)]
    if isinstance(node, cst.WithItem) and node.asname is not None:
        return [(node.asname.name, node.item)]
    return []


def _names_in_target(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _names_in_target(e.value)]
    if isinstance(target, cst.StarredElement):
        return _names_in_target(target.value)
    return []
