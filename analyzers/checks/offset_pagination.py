"""## What it does
Finds OFFSET pagination: `.offset(n)` on a select or legacy query, and `OFFSET n` (or
MySQL's `LIMIT n, m`) in raw SQL.

## Why is this bad?
The database still reads every skipped row and throws it away: page 1,000 of 20 rows reads
20,020 rows. Deep pages get slower as the table grows, and rows inserted meanwhile shift
the pages, so users see duplicates or miss rows.

## Example
```python
stmt = select(Task).order_by(Task.id).offset(page * size).limit(size)
```

## Use instead
Keyset (seek) pagination on the order key, with the last key the client saw:
```python
stmt = select(Task).where(Task.id > after_id).order_by(Task.id).limit(size)
```
An `.offset(0)` is not reported.
"""

from __future__ import annotations

from optimize.analyzers.checks.base import Clean, Report
from optimize.analyzers.checks.query_shape import QueryShapeCheck


class OffsetPagination(QueryShapeCheck):
    ID = "offset-pagination"
    TITLE = "OFFSET pagination, which reads every skipped row"
    ORM_KIND = "offset"
    FIX = "paginate by key: `.where(M.key > last_key).order_by(M.key).limit(n)`"

    def orm_message(self, shape) -> str:
        return ".offset(...) pagination reads and drops every skipped row; deep pages get slower as the table grows"

    def orm_fix(self, shape) -> str:
        key = shape.detail or "M.id"
        return f"paginate by key on the order key: `.where({key} > last_seen).order_by({key}).limit(n)`"


OffsetPagination.EXAMPLES = [
    Report(
        name="an ORM select with offset, keyset on its order key",
        code="""
            from sqlalchemy import select

            def page(db, n, size):
                return db.scalars(select(Task).order_by(Task.created_at).offset(n * size).limit(size)).all()
        """,
        message=".offset(...) pagination reads and drops every skipped row",
    ),
    Report(
        name="the legacy Query API",
        code="""
            def page(db, n):
                return db.query(Task).filter(Task.done.is_(False)).offset(n).limit(20).all()
        """,
        message=".offset(...) pagination",
    ),
    Report(
        name="raw SQL through text() with f-string holes",
        code="""
            from sqlalchemy import text

            def page(db, size, skip):
                return db.execute(text(f"SELECT id, title FROM tasks ORDER BY id LIMIT {size} OFFSET {skip}"))
        """,
        message="raw SQL: OFFSET {…} reads and drops every skipped row",
    ),
    Report(
        name="MySQL's LIMIT offset, count",
        requirements="aiomysql\n",
        code="""
            async def page(conn):
                return await conn.execute("SELECT id FROM tasks ORDER BY id LIMIT 40, 20")
        """,
        message="raw SQL: OFFSET 40",
    ),
    Clean(
        name="keyset pagination, offset(0), and not a query",
        code="""
            from sqlalchemy import select, text

            def page(db, after, size):
                first = db.scalars(select(Task).where(Task.id > after).order_by(Task.id).limit(size)).all()
                again = db.scalars(select(Task).offset(0)).all()
                text_offset = layout.offset(10)
                rows = db.execute(text("SELECT id FROM tasks WHERE id > :after ORDER BY id LIMIT 20"))
                return first, again, text_offset, rows
        """,
    ),
]
