"""## What it does
Reports raw SQL strings that do not parse in the project's dialect, nor in any other
database its URLs and drivers name (a statement guarded by `dialect.name == "postgresql"`
in a project that also runs on SQLite), once each: the other SQL checks could not read them.

## Why is this bad?
Either the statement is broken (and fails at run time), or it is written for another
database than the one the project's engine URLs and drivers name, or sqlglot does not
know the syntax. In every case nothing was checked in it.

## Example
```python
db.execute(text("SELECT id FROM `tasks`"))  # MySQL quoting, PostgreSQL project
```

## Use instead
```python
db.execute(text('SELECT id FROM "tasks"'))
```
or set `sql-dialect` in `[tool.optimize]` when the detected dialect is wrong.
"""

from __future__ import annotations

from optimize.analyzers.checks.base import Clean, Report
from optimize.analyzers.checks.query_shape import QueryShapeCheck
from optimize.analyzers.sql import read_sql


class SqlSyntax(QueryShapeCheck):
    ID = "sql-syntax"
    TITLE = "raw SQL that does not parse in the project's dialect (not analysed)"
    FIX = "fix the statement, or set `sql-dialect` in [tool.optimize]"

    def check(self) -> None:
        self._text: dict[tuple[str, int], str] = {
            (f.path, s.line): s.text for f in self.index.facts.values() for s in f.queries.sql
        }
        super().check()

    def sql_reading(self, path: str, line: int, reading) -> None:
        if not reading.unreadable:
            return
        # A project that names several databases may guard a statement by dialect: it is
        # unreadable only when no database the project names reads it.
        text = self._text.get((path, line))
        others = sorted(self.index.sql_dialects - {self.index.sql_dialect})
        if text is not None and any(read_sql(text, d).unreadable is None for d in others):
            return
        self.report(path, line, f"raw SQL not analysed: {reading.unreadable}", self.FIX)


SqlSyntax.EXAMPLES = [
    Report(
        name="MySQL quoting in a PostgreSQL project",
        requirements="asyncpg\n",
        code="""
            from sqlalchemy import text

            def f(db):
                return db.execute(text("SELECT id FROM `tasks`"))
        """,
        message="raw SQL not analysed: does not parse as postgres SQL",
    ),
    Clean(
        name="a project on PostgreSQL and SQLite: PostgreSQL's NOTIFY",
        requirements="asyncpg\naiosqlite\n",
        code="""
            from sqlalchemy import text

            engine = create_async_engine("sqlite+aiosqlite:///x.db")

            async def notify(conn):
                await conn.execute(text("NOTIFY automations, 'changed'"))
        """,
    ),
    Clean(
        name="the same in a MySQL project, and a command sqlglot keeps whole",
        requirements="pymysql\n",
        code="""
            from sqlalchemy import text

            def f(db):
                db.execute(text("SELECT id FROM `tasks`"))
                db.execute(text("VACUUM tasks"))
        """,
    ),
]
