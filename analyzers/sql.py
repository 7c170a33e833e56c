"""Reading a SQL string with `sqlglot`: the shapes the SQL checks report.

Parsed in the project's dialect (`postgres`, `sqlite`, `mysql`, ...: see `dialect_of`), so
that `` `t` `` is an identifier in MySQL and an error in PostgreSQL. A statement that does
not parse is one `unreadable` answer, never an exception; a valid statement sqlglot keeps as an opaque
command (`VACUUM`, some DDL), or cannot parse but is a known command (`NOTIFY`, `LISTEN`,
`COPY`, `PRAGMA`, ...), has no shape. `sqlglot` is imported on the
first string read: a scan of a project with no raw SQL never loads it.

Shapes, by the id of the check that reports them:
- `select-star`: `SELECT *` or `t.*` in the outermost select list (a `count(*)` or a star
  inside a subquery or `EXISTS` is not one);
- `offset-pagination`: `OFFSET n` (and MySQL's `LIMIT n, m`);
- `leading-wildcard`: `LIKE` / `ILIKE` whose pattern literal starts with `%`;
- `unbounded-write`: `UPDATE` or `DELETE` without `WHERE`;
- `not-in-subquery`: `x NOT IN (SELECT ...)`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_DIALECT = "postgres"
# Driver packages that say which database the project talks to.
_DRIVER_DIALECTS = {
    "asyncpg": "postgres", "psycopg": "postgres", "psycopg2": "postgres", "psycopg2-binary": "postgres",
    "psycopg-binary": "postgres", "pg8000": "postgres", "aiosqlite": "sqlite", "pymysql": "mysql",
    "aiomysql": "mysql", "asyncmy": "mysql", "mysqlclient": "mysql", "mysql-connector-python": "mysql",
}


def dialects_named(url_dialects: Iterable[str], project_files: Mapping[str, bytes]) -> frozenset[str]:
    """Every database the repository's URLs and driver dependencies name: a project that
    supports PostgreSQL and SQLite writes statements for each."""
    text = b"\n".join(project_files.values()).decode("utf-8", "replace").lower()
    return frozenset(url_dialects) | {d for name, d in _DRIVER_DIALECTS.items() if name in text}


@dataclass(frozen=True)
class Shape:
    check: str
    message: str


@dataclass(frozen=True)
class Reading:
    shapes: tuple[Shape, ...] = ()
    unreadable: str | None = None  # why the string could not be analysed


def dialect_of(url_dialects: Iterable[str], project_files: Mapping[str, bytes], configured: str | None) -> str:
    """The dialect SQL strings are read in: the configuration's, else the one database
    named by the repository's URLs, else by its driver dependencies, else PostgreSQL."""
    if configured:
        return configured
    found = set(url_dialects)
    if len(found) == 1:
        return found.pop()
    text = b"\n".join(project_files.values()).decode("utf-8", "replace").lower()
    drivers = {d for name, d in _DRIVER_DIALECTS.items() if name in text}
    return drivers.pop() if len(drivers) == 1 else DEFAULT_DIALECT


_HOLE = re.compile(r":_hole\d+")
# Statements sqlglot does not model but databases run: nothing in them for the checks.
_UNMODELLED = frozenset({
    "notify", "listen", "unlisten", "vacuum", "analyze", "reindex", "cluster", "copy", "lock",
    "discard", "pragma", "set", "reset", "show", "grant", "revoke", "comment", "refresh", "do",
})


def shown(sql: str) -> str:
    """SQL for a message: the f-string holes `query_shapes` made placeholders shown as `{…}`."""
    return _HOLE.sub("{…}", sql)


@lru_cache(maxsize=4096)
def read_sql(text: str, dialect: str) -> Reading:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    # sqlglot logs a warning for each statement it keeps as an opaque command.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except (SqlglotError, ValueError, RecursionError) as exc:
        if text.split(None, 1)[0].lower() in _UNMODELLED:
            return Reading()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Reading(unreadable=f"does not parse as {dialect} SQL: {first}")
    shapes: list[Shape] = []
    for statement in statements:
        if isinstance(statement, exp.Command):
            continue  # valid SQL sqlglot keeps whole (`VACUUM`, some DDL): nothing to read in it
        shapes.extend(_shapes(statement, exp))
    return Reading(tuple(dict.fromkeys(shapes)))


def _shapes(statement, exp) -> list[Shape]:
    found: list[Shape] = []
    if isinstance(statement, exp.Select) and any(
        isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
        for e in statement.expressions
    ):
        found.append(Shape("select-star", "SELECT * reads every column, and more as the table grows"))
    for offset in statement.find_all(exp.Offset):
        found.append(Shape("offset-pagination", f"OFFSET {shown(offset.expression.sql())} reads and drops every skipped row"))
    for like in statement.find_all(exp.Like, exp.ILike):
        pattern = like.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string and pattern.this.startswith("%"):
            found.append(Shape("leading-wildcard", f"{like.key.upper()} '{shown(pattern.this)}' starts with %, so no index can serve it"))
    if isinstance(statement, (exp.Update, exp.Delete)) and statement.args.get("where") is None:
        found.append(Shape("unbounded-write", f"{statement.key.upper()} without WHERE touches every row of the table"))
    for not_ in statement.find_all(exp.Not):
        inner = not_.this
        if isinstance(inner, exp.In) and inner.args.get("query") is not None:
            found.append(Shape("not-in-subquery", "NOT IN (SELECT ...) matches nothing once the subquery yields a NULL, and plans badly"))
    return found


_CREATE_INDEX = re.compile(r"^\s*create\s+(unique\s+)?index\b", re.I)
_ONLY = re.compile(r"\bon\s+only\s+", re.I)


def created_indexes(text: str) -> list[tuple[str, tuple[str, ...], frozenset[str]]]:
    """(table, key columns, the columns keyed with a trigram operator class) of each
    `CREATE INDEX` in ``text``, as a migration's `op.execute("CREATE INDEX ...")` writes it.
    A key that is an expression (`lower(email)`, `coalesce(a, b)`, `name COLLATE NOCASE`)
    ends the columns read: an index on an expression serves no test of the bare column."""
    if not _CREATE_INDEX.match(text):
        return []
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        # `ON ONLY t` (an index on a partitioned table's parent) is PostgreSQL that
        # sqlglot does not read; the table and keys are the same without it.
        statements = sqlglot.parse(_ONLY.sub("ON ", text), read="postgres")
    except (SqlglotError, ValueError, RecursionError):
        return []
    found = []
    for statement in statements:
        index = statement.this if isinstance(statement, exp.Create) else None
        if not isinstance(index, exp.Index) or not isinstance(index.args.get("table"), exp.Table):
            continue
        params = index.args.get("params")
        columns: list[str] = []
        trigram: set[str] = set()
        for key in params.args.get("columns") or [] if params is not None else []:
            key = key.this if isinstance(key, exp.Ordered) else key
            if isinstance(key, exp.Opclass):
                if key.expression.name in {"gin_trgm_ops", "gist_trgm_ops"} and isinstance(key.this, exp.Column):
                    trigram.add(key.this.name)
                key = key.this
            if not isinstance(key, exp.Column):
                break
            columns.append(key.name)
        if columns:
            found.append((index.args["table"].name, tuple(columns), frozenset(trigram)))
    return found
