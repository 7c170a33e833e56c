"""## What it does
Finds `len(....all())` over a query: every row is fetched and turned into an object only
to be counted.

## Why is this bad?
The database sends every matching row and SQLAlchemy builds an object for each, where one
`SELECT count(*)` returns a single number: the cost grows with the table instead of
staying constant.

## Example
```python
open_tasks = len(db.scalars(select(Task).where(Task.done.is_(False))).all())
```

## Use instead
```python
open_tasks = db.scalar(select(func.count()).select_from(Task).where(Task.done.is_(False)))
```
When the list is also used, keep it and count the list instead: nothing is fetched twice.
"""

from __future__ import annotations

from optimize.analyzers.checks.base import Clean, Report
from optimize.analyzers.checks.query_shape import QueryShapeCheck


class CountViaLen(QueryShapeCheck):
    ID = "count-via-len"
    TITLE = "len(query.all()) fetches every row to count them"
    ORM_KIND = "len-all"
    FIXED_BY = "count-in-database"
    FIX = "count in the database: `db.scalar(select(func.count()).select_from(M).where(...))`"

    def orm_message(self, shape) -> str:
        return "len(....all()) fetches every row and builds an object for each, only to count them"


CountViaLen.EXAMPLES = [
    Report(
        name="select, awaited select and the legacy Query API",
        code="""
            from sqlalchemy import select

            async def counts(db, sync_db):
                a = len((await db.scalars(select(Task))).all())
                b = len(sync_db.query(Task).filter(Task.done.is_(False)).all())
                return a, b
        """,
        message="len(....all()) fetches every row",
    ),
    Clean(
        name="a count in the database, and the length of a list kept for use",
        code="""
            from sqlalchemy import func, select

            def counts(db):
                n = db.scalar(select(func.count()).select_from(Task))
                tasks = db.scalars(select(Task)).all()
                return n, len(tasks), tasks, len(registry.all())
        """,
    ),
]
