"""Query shapes one file shows in its `ast`: the SQL strings it runs and the ORM calls
whose cost does not depend on the data it reads. Computed with the file's other facts
(`facts.collect_file_facts`) and read by the checks; nothing here parses SQL (that is
`analyzers.sql`, run only when a check asks).

- **SQL strings**: the first argument of `text(...)`, of `execute` / `exec_driver_sql` /
  `executemany` and of asyncpg's `fetch` / `fetchrow` / `fetchval`, when it is a string
  literal, an implicit concatenation, an f-string (each hole becomes a `:_holeN`
  placeholder) or a module-level name bound to one of those.
- **ORM shapes**: `.offset(n)` on a query chain (with the chain's `order_by` key),
  `.like(...)` / `.ilike(...)` whose pattern starts with `%`, and `len(<...>.all())`.
- **Dialects**: the schemes of database URLs written in the file (`postgresql+asyncpg://`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from optimize.analyzers.annotations import dotted
from optimize.analyzers.pickling import pickled_by_fields
from optimize.analyzers.models import trigram_columns
from optimize.analyzers.sql import created_indexes
from optimize.analyzers.walk import Nodes, descendants, walk

SQL_CALLS = {"execute", "exec_driver_sql", "executemany", "fetch", "fetchrow", "fetchval"}
_QUERY_METHODS = {
    "select", "query", "where", "filter", "filter_by", "order_by", "limit", "join", "outerjoin",
    "options", "group_by", "having", "distinct", "select_from",
}
_CRITERIA = {"where", "filter", "order_by", "join", "outerjoin", "having"}
_URL = re.compile(r"^(postgres(?:ql)?|sqlite|mysql|mariadb|mssql|oracle)(?:\+\w+)?://")
_DIALECTS = {"postgres": "postgres", "postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql",
             "mariadb": "mysql", "mssql": "tsql", "oracle": "oracle"}


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SqlString:
    text: str
    line: int
    call: str  # the call it is passed to: `text`, `execute`, `fetch`


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class OrmShape:
    kind: str  # "offset", "leading-wildcard", "len-all"
    line: int
    detail: str = ""  # offset: the chain's order_by key; leading-wildcard: the method
    cls: str = ""  # leading-wildcard on `M.col`: the class as the module resolves it,
    column: str = ""  # and the column


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ColumnUse:
    """`Task.project_id` in a filter, an order or a join condition (or `filter_by(col=...)`
    on a chain over `Task`): the class as the module resolves it, the attribute, how."""

    cls: str
    column: str
    line: int
    how: str  # where / filter / filter_by / order_by / join
    # The line of the function the use is in (0: the module). Uses in one function are
    # taken to build one statement: `q = q.where(...)` steps in turn.
    scope: int = 0
    # `M.a == x`, `M.a.in_(xs)`, `filter_by(a=x)` outside any `or_`: a test an index on the
    # column narrows to few rows, so it serves the other tests on its table in the scope.
    equality: bool = False
    # `M.a.is_(None)`, `M.a == None`: two states, like a boolean; a partial index serves it.
    null_test: bool = False
    # `M.a == x.y`: the other side, qualified ("?" when it does not resolve). When it is a
    # column too (`M.a > M.b`), no index on one of them serves the test.
    versus: str = ""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class MigrationIndex:
    """An index an Alembic migration creates: `op.create_index(name, table, [cols])`, an
    `index=True` column or an `sa.Index` / `sa.UniqueConstraint` in `op.create_table`."""

    table: str
    columns: tuple[str, ...]
    trigram: frozenset[str] = frozenset()  # columns indexed with `gin_trgm_ops` / `gist_trgm_ops`


@pickled_by_fields
@dataclass(slots=True)
class QueryShapes:
    sql: list[SqlString] = field(default_factory=list)
    orm: list[OrmShape] = field(default_factory=list)
    dialects: set[str] = field(default_factory=set)
    column_uses: list[ColumnUse] = field(default_factory=list)
    migration_indexes: list[MigrationIndex] = field(default_factory=list)
    # Loops (`for`, comprehensions) over anything: the attributes their bodies read on the
    # loop variable, and the bodies that call a query method with it (`db.get(M, t.x)`),
    # each with the scopes of those loops (`ColumnUse.scope`). The `n-plus-one` check
    # parses only files, and functions, where one could be a relationship or a query.
    loop_reads: dict[str, set[int]] = field(default_factory=dict)
    loop_queries: set[int] = field(default_factory=set)
    loop_gets: dict[str, set[int]] = field(default_factory=dict)  # first arguments of `x.get(A, key)` in loops


def _string(node: ast.AST, constants: dict[str, str]) -> str | None:
    """The SQL text of a literal, an f-string with placeholders, or a constant's name."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        holes = 0
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            else:
                parts.append(f":_hole{holes}")
                holes += 1
        return "".join(parts)
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _pattern_prefix(node: ast.AST) -> str | None:
    """The literal start of a LIKE pattern: `"%x"`, `f"%{q}%"`, `"%" + q`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _pattern_prefix(node.left)
    return None


def _chain(node: ast.AST) -> list[ast.Call]:
    """The calls of a method chain, outermost first: `select(M).where(...).offset(n)`."""
    calls = []
    while isinstance(node, ast.Call):
        calls.append(node)
        node = node.func.value if isinstance(node.func, ast.Attribute) else None
    return calls


def _query_names(nodes: Nodes) -> dict[int, dict[str, ast.AST | None]]:
    """Per function, the names assigned a query built there (`q = select(M).order_by(k)`),
    each with the first `order_by` key it was given: a later `q = q.offset(n)` on its own
    line paginates that query."""
    found: dict[int, dict[str, ast.AST | None]] = {}
    assign = ast.Assign
    for node, scope in nodes.of(assign):
        if type(node) is assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            chain = _chain(value)
            names = found.setdefault(scope, {})
            base = chain[-1].func.value if chain and isinstance(chain[-1].func, ast.Attribute) else None
            # `q = select(M)...`, or `q = q.order_by(k)` on a name already holding one
            if any(_called(c) in {"select", "query"} for c in chain) or (
                isinstance(base, ast.Name) and base.id in names
            ):
                order = next((c for c in chain if _called(c) == "order_by" and c.args), None)
                if names.get(node.targets[0].id) is None:
                    names[node.targets[0].id] = order.args[0] if order else None
    return found


def _offset_shape(line: int, key: ast.AST | None, resolve: Callable[[str | None], str | None]) -> OrmShape:
    column = _column(key) if key is not None else None
    owner = resolve(dotted(column.value)) if column is not None else None
    return OrmShape(
        "offset", line, ast.unparse(key) if key is not None else "", owner or "", column.attr if column and owner else ""
    )


def _called(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else (dotted(call.func) or "").rsplit(".", 1)[-1]


TEXT_FUNCTIONS = {"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlmodel.text"}
# A string handed to `execute` / `fetch` is taken for SQL only when it starts like SQL: an
# HTTP client's `fetch(url)` is not.
_SQL_START = re.compile(
    r"^\s*(?:--[^\n]*\n\s*)*\(?\s*(select|with|insert|update|delete|merge|upsert|replace|values|explain)\b", re.I
)


_LOOPS = frozenset({ast.For, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp})


def query_shapes(
    tree: ast.Module, resolve: Callable[[str | None], str | None], nodes: Nodes | None = None
) -> QueryShapes:
    """``resolve`` turns a dotted name into what the module's imports make of it; ``nodes``
    is the module's `analyzers.walk.walk`, when the caller has it already."""
    nodes = walk(tree) if nodes is None else nodes
    shapes = QueryShapes()
    constants = {
        t.id: text
        for n in tree.body
        if isinstance(n, ast.Assign) and (text := _string(n.value, {})) is not None
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    queries = _query_names(nodes)
    ranking: set[int] = set()  # calls inside an `order_by(...)`
    for node, _ in nodes.of(ast.Constant):
        if type(node.value) is str and (url := _URL.match(node.value)):
            shapes.dialects.add(_DIALECTS[url.group(1)])
    for node, scope in nodes.of(*_LOOPS):
        _loop_body(node, shapes, scope)
    for node, scope in nodes.of(ast.Call):
        if type(node.func) is ast.Attribute:
            method = node.func.attr
            if method in _CRITERIA or method == "filter_by":
                _column_uses(node, resolve, shapes.column_uses, scope)
            if method == "order_by":
                # `order_by(desc(M.a.like("%q%")))` ranks rows already chosen: no search
                ranking.update(id(n) for a in node.args for n in descendants(a) if isinstance(n, ast.Call))
            if method in _MIGRATION_METHODS:
                _migration_indexes(node, shapes.migration_indexes)
        called = _called(node)
        is_text = called == "text" and resolve(dotted(node.func)) in TEXT_FUNCTIONS
        if is_text or (called in SQL_CALLS and isinstance(node.func, ast.Attribute)):
            text = _string(node.args[0], constants) if node.args else None
            if text is not None and (is_text and text.strip() or _SQL_START.match(text)):
                shapes.sql.append(SqlString(text, node.lineno, called))
        elif called == "offset" and isinstance(node.func, ast.Attribute) and len(node.args) == 1:
            chain = _chain(node.func.value)
            base = chain[-1].func.value if chain and isinstance(chain[-1].func, ast.Attribute) else node.func.value
            named = queries.get(scope, {})
            held = isinstance(base, ast.Name) and base.id in named
            if (any(_called(c) in _QUERY_METHODS for c in chain) or held) and not (
                isinstance(node.args[0], ast.Constant) and node.args[0].value in (0, None)
            ):
                order = next((c for c in chain if _called(c) == "order_by" and c.args), None)
                key = order.args[0] if order else (named[base.id] if held else None)  # type: ignore[union-attr]
                shapes.orm.append(_offset_shape(node.lineno, key, resolve))
        elif called in {"like", "ilike"} and isinstance(node.func, ast.Attribute) and node.args:
            prefix = _pattern_prefix(node.args[0])
            if prefix is not None and prefix.startswith("%") and id(node) not in ranking:
                column = _column(node.func.value)
                owner = resolve(dotted(column.value)) if column is not None else None
                shapes.orm.append(
                    OrmShape("leading-wildcard", node.lineno, called, owner or "", column.attr if column and owner else "")
                )
        elif (
            isinstance(node.func, ast.Name)
            and node.func.id == "len"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Call)
            and _called(node.args[0]) == "all"
            and isinstance(node.args[0].func, ast.Attribute)
        ):
            inner = node.args[0].func.value
            inner = inner.value if isinstance(inner, ast.Await) else inner
            if any(_called(c) in _QUERY_METHODS | {"scalars", "execute", "exec"} for c in _chain(inner)):
                shapes.orm.append(OrmShape("len-all", node.lineno))
    return shapes


_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)
# Methods of a column that an index on it serves: `M.a.in_(xs)`, `M.a.is_(None)`, `.desc()`.
_SERVED_METHODS = {"in_", "is_", "is_not", "isnot", "between", "startswith", "desc", "asc", "nulls_first", "nulls_last"}


def _column(node: ast.AST) -> ast.Attribute | None:
    """``node`` as a bare `M.col` (through `.desc()` / `.asc()`)."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"desc", "asc", "nulls_first", "nulls_last"}
    ):
        node = node.func.value
    return node if isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute)) else None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class _Served:
    column: ast.Attribute
    equality: bool  # `==` / `in_` not under an `or_`
    null_test: bool  # `is_(None)`, `== None`, `is_not(None)`
    versus: ast.Attribute | None = None  # compared with this attribute, which may be a column


_OR_CALLS = {"or_", "not_"}


def _served_columns(expr: ast.AST, method: str) -> list[_Served]:
    """The columns of a criterion that an index on the column alone could serve: a side
    of a comparison whose other side is not another column (`M.a == x`, `M.a > since`), a
    column method (`M.a.in_(...)`, `M.a.is_(None)`), an `order_by` key. A column inside an
    expression (`cast(M.a, ...)`, `M.a + M.b == x`, `func.f(M.a)`, `M.a > M.b`) is not."""
    found: list[_Served] = []
    if method == "order_by":
        column = _column(expr)
        return [_Served(column, False, False)] if column is not None else []
    stack: list[tuple[ast.AST, bool]] = [(expr, False)]  # (node, under an or_ / not_ / |)
    while stack:
        node, alternative = stack.pop()
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], _COMPARISONS):
            left, right = _column(node.left), _column(node.comparators[0])
            if (left is None) != (right is None):
                other = node.comparators[0] if left is not None else node.left
                null = isinstance(other, ast.Constant) and other.value is None
                equal = isinstance(node.ops[0], (ast.Eq, ast.In)) and not null and not alternative
                found.append(_Served(left or right, equal, null))  # type: ignore[arg-type]
            elif left is not None and right is not None:
                # `M.a == context.run.id` or `M.a > N.b`: which side is a column of a model
                # is the index's to say, so each side is kept with the other one.
                equal = isinstance(node.ops[0], ast.Eq) and not alternative
                found.append(_Served(left, equal, False, right))
                found.append(_Served(right, equal, False, left))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _SERVED_METHODS
            and (column := _column(node.func.value)) is not None
            and not any(_column(a) is not None for a in node.args)
        ):
            null = node.func.attr in {"is_", "is_not", "isnot"} and any(
                isinstance(a, ast.Constant) and a.value is None for a in node.args
            )
            found.append(_Served(column, node.func.attr == "in_" and not alternative, null))
        under = alternative or (
            isinstance(node, ast.Call) and _called(node) in _OR_CALLS
        ) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Invert, ast.Not))
        )
        stack.extend((child, under) for child in ast.iter_child_nodes(node))
    return found


def _is_sql_function(node: ast.AST) -> bool:
    """`func.count(...)`, `sa.func.sum(...)`: a SQL function call (its `.filter` is FILTER)."""
    written = dotted(node.func) if isinstance(node, ast.Call) else None
    return written is not None and ("func" in written.split(".")[:-1])


def _column_uses(
    call: ast.Call, resolve: Callable[[str | None], str | None], found: list[ColumnUse], scope: int
) -> None:
    method = call.func.attr  # type: ignore[union-attr]
    if method == "filter" and _is_sql_function(call.func.value):  # type: ignore[union-attr]
        return  # `func.count(M.id).filter(M.a == x)`: an aggregate's FILTER clause, read after the scan
    if method in _CRITERIA:
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            for served in _served_columns(arg, method):
                node = served.column
                owner = resolve(dotted(node.value))
                if owner and owner[:1].isalpha():
                    versus = ""
                    if served.versus is not None:
                        other = resolve(dotted(served.versus.value))
                        versus = f"{other}.{served.versus.attr}" if other else "?"
                    found.append(
                        ColumnUse(
                            owner, node.attr, node.lineno, method, scope, served.equality, served.null_test, versus
                        )
                    )
    elif method == "filter_by" and call.keywords:
        entity = next(
            (c.args[0] for c in _chain(call.func.value) if _called(c) in {"select", "query"} and c.args),  # type: ignore[union-attr]
            None,
        )
        owner = resolve(dotted(entity)) if entity is not None else None
        if owner:
            found.extend(
                ColumnUse(
                    owner, k.arg, call.lineno, method, scope,
                    equality=not (isinstance(k.value, ast.Constant) and k.value.value is None),
                    null_test=isinstance(k.value, ast.Constant) and k.value.value is None,
                )
                for k in call.keywords
                if k.arg
            )


def _strings(node: ast.AST) -> tuple[str, ...]:
    items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
    return tuple(e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str))


_MIGRATION_METHODS = frozenset({"execute", "create_index", "create_unique_constraint", "create_table"})


def _migration_indexes(call: ast.Call, found: list[MigrationIndex]) -> None:
    """Alembic's `op.create_index(name, table, cols)`, `op.create_unique_constraint(name,
    table, cols)` and `op.create_table(table, *columns_and_constraints)`."""
    method = call.func.attr  # type: ignore[union-attr]
    args = list(call.args)
    for position, keyword in ((1, "table_name"), (2, "columns")):  # `op.create_index(name, table_name=..., columns=...)`
        value = next((k.value for k in call.keywords if k.arg == keyword), None)
        if value is not None and len(args) == position and method in {"create_index", "create_unique_constraint"}:
            args.append(value)
    if method == "execute" and args:
        sql = args[0].args[0] if isinstance(args[0], ast.Call) and _called(args[0]) == "text" and args[0].args else args[0]
        if isinstance(sql, ast.Constant) and isinstance(sql.value, str):
            found.extend(MigrationIndex(*index) for index in created_indexes(sql.value))
    elif method in {"create_index", "create_unique_constraint"} and len(args) >= 3:
        table, columns = _strings(args[1]), _strings(args[2])
        if table and columns:
            found.append(MigrationIndex(table[0], columns, trigram_columns(call)))
    elif method == "create_table" and args and _strings(args[0]):
        table = _strings(args[0])[0]
        for item in args[1:]:
            if not isinstance(item, ast.Call):
                continue
            name = _called(item)
            if name == "Column" and item.args and _strings(item.args[0]) and any(
                k.arg in {"index", "unique", "primary_key"} and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in item.keywords
            ):
                found.append(MigrationIndex(table, _strings(item.args[0])[:1]))
            elif name in {"Index", "UniqueConstraint", "PrimaryKeyConstraint"}:
                columns = tuple(c for a in item.args for c in _strings(a))
                if name == "Index":
                    columns = columns[1:]  # the first string is the index's name
                if columns:
                    found.append(MigrationIndex(table, columns))


_KEYED_CALLS = {"get", "get_one"}  # `session.get(M, key)`: two arguments at least
_CRITERIA_CALLS = {"filter", "where", "filter_by"}
_RUN_CALLS = {"execute", "scalars", "scalar", "exec"}


def _queries_with(call: ast.Call, names: set[str]) -> bool:
    """Whether ``call`` is a query step that uses one of ``names``: `db.get(M, t.x)`,
    `.filter(M.id == t.x)`, `db.execute(select(...).where(... t ...))`."""
    if not isinstance(call.func, ast.Attribute):
        return False
    method = call.func.attr
    if method in _KEYED_CALLS and len(call.args) < 2:
        return False
    if method not in _KEYED_CALLS | _CRITERIA_CALLS | _RUN_CALLS:
        return False
    values = [*call.args, *(k.value for k in call.keywords)]
    return any(isinstance(n, ast.Name) and n.id in names for v in values for n in descendants(v))


def _loop_body(node: ast.AST, shapes: QueryShapes, scope: int) -> None:
    if isinstance(node, (ast.For, ast.AsyncFor)):
        targets, body = [node.target], node.body
    else:
        targets = [g.target for g in node.generators]  # type: ignore[attr-defined]
        body = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]  # type: ignore[attr-defined]
    names = {t.id for t in targets if isinstance(t, ast.Name)}
    if not names:
        return
    for part in body:
        for inner in descendants(part):
            if isinstance(inner, ast.Attribute):
                base = inner.value
                if isinstance(base, ast.Attribute) and base.attr == "awaitable_attrs":
                    base = base.value
                if isinstance(base, ast.Name) and base.id in names:
                    shapes.loop_reads.setdefault(inner.attr, set()).add(scope)
            elif isinstance(inner, ast.Call) and _queries_with(inner, names):
                if _called(inner) in _KEYED_CALLS:
                    # `db.get(User, t.owner_id)`: a query only when its first argument is
                    # a model class (`d.get(k, default)` on a dict is not); the index says.
                    first = dotted(inner.args[0])
                    shapes.loop_gets.setdefault((first or "").rsplit(".", 1)[-1], set()).add(scope)
                else:
                    shapes.loop_queries.add(scope)
