"""## What it does
Finds `SELECT *` (and `t.*`) in the select list of raw SQL run through `text(...)`,
`execute`, `exec_driver_sql` or asyncpg's `fetch*`.

## Why is this bad?
Every column is read and sent, including large ones the code never uses; a column added
later silently joins every such query, and index-only scans become impossible.

## Example
```python
rows = await conn.fetch("SELECT * FROM tasks WHERE project_id = $1", project_id)
```

## Use instead
```python
rows = await conn.fetch("SELECT id, title, status FROM tasks WHERE project_id = $1", project_id)
```
`count(*)` and a star inside a subquery or `EXISTS (SELECT * ...)` are not reported.
"""

from __future__ import annotations

from optimize.analyzers.checks.base import Clean, Report
from optimize.analyzers.checks.query_shape import QueryShapeCheck


class SelectStar(QueryShapeCheck):
    ID = "select-star"
    TITLE = "SELECT * in raw SQL"
    FIX = "name the columns the code reads"


SelectStar.EXAMPLES = [
    Report(
        name="asyncpg fetch and a module-level query",
        code="""
            TASKS = "SELECT t.* FROM tasks t WHERE t.project_id = $1"

            async def tasks(conn, project_id):
                a = await conn.fetch("SELECT * FROM tasks WHERE project_id = $1", project_id)
                b = await conn.fetch(TASKS, project_id)
                return a, b
        """,
        message="raw SQL: SELECT * reads every column",
    ),
    Clean(
        name="count(*), EXISTS, named columns, not SQL",
        code="""
            from sqlalchemy import text

            def f(db, client):
                db.execute(text("SELECT count(*) FROM tasks"))
                db.execute(text("SELECT id FROM tasks t WHERE EXISTS (SELECT * FROM tags WHERE tags.task_id = t.id)"))
                client.fetch("https://example.com/*")
        """,
    ),
]
