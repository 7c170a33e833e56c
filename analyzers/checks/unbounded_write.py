"""## What it does
Finds `UPDATE` and `DELETE` statements without a `WHERE` clause in raw SQL.

## Why is this bad?
The statement touches every row of the table: it locks them all, writes them all to the
WAL, and, run from a request handler by mistake, wipes or rewrites production data.

## Example
```python
db.execute(text("DELETE FROM sessions"))
```

## Use instead
```python
db.execute(text("DELETE FROM sessions WHERE expires_at < now()"))
```
or `TRUNCATE` where emptying the table is the intent (PostgreSQL, MySQL; SQLite has none).
Migrations are not checked (no check reads them): a backfill there updates every row on
purpose.
"""

from __future__ import annotations

from optimize.analyzers.checks.base import Clean, Report
from optimize.analyzers.checks.query_shape import QueryShapeCheck


class UnboundedWrite(QueryShapeCheck):
    ID = "unbounded-write"
    TITLE = "UPDATE or DELETE without WHERE in raw SQL"
    FIX = "add the WHERE clause that bounds it (or TRUNCATE, if emptying the table is meant)"


UnboundedWrite.EXAMPLES = [
    Report(
        name="delete and update of every row",
        code="""
            from sqlalchemy import text

            def reset(db):
                db.execute(text("DELETE FROM sessions"))
                db.execute(text("UPDATE tasks SET done = false"))
        """,
        message="raw SQL: DELETE without WHERE touches every row",
    ),
    Clean(
        name="bounded writes",
        code="""
            from sqlalchemy import text

            def reset(db, user_id):
                db.execute(text("DELETE FROM sessions WHERE user_id = :u"), {"u": user_id})
                db.execute(text("UPDATE tasks SET done = false WHERE id IN (SELECT task_id FROM stale)"))
        """,
    ),
]
