"""## What it does
Reports raw SQL strings that do not parse in the project's dialect, once each: the other
SQL checks could not read them.

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


class SqlSyntax(QueryShapeCheck):
    ID = "sql-syntax"
    TITLE = "raw SQL that does not parse in the project's dialect (not analysed)"
    FIX = "fix the statement, or set `sql-dialect` in [tool.optimize]"

    def sql_reading(self, path: str, line: int, reading) -> None:
        if reading.unreadable:
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
