"""## What it does
Finds `LIKE` / `ILIKE` patterns that start with `%`: `.ilike(f"%{q}%")`, `.like("%" + q)`
in the ORM, `name ILIKE '%' || :q` written as a literal in raw SQL.

## Why is this bad?
A B-tree index serves a pattern only up to its first wildcard. A pattern that starts with
one makes every search read the whole table, so search endpoints slow down linearly with
the data.

## Example
```python
select(Task).where(Task.title.ilike(f"%{q}%"))
```

## Use instead
A prefix search where that is what users need (`ilike(f"{q}%")`, served by an index with
`text_pattern_ops`), or a trigram index for substring search on PostgreSQL:
```sql
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX ix_tasks_title_trgm ON tasks USING gin (title gin_trgm_ops);
```
or full-text search (`to_tsvector` / `websearch_to_tsquery`).
"""

from __future__ import annotations

from optimize.analyzers.checks.base import Clean, Report
from optimize.analyzers.checks.query_shape import QueryShapeCheck


class LeadingWildcard(QueryShapeCheck):
    ID = "leading-wildcard"
    TITLE = "LIKE / ILIKE pattern starting with %, which no index serves"
    ORM_KIND = "leading-wildcard"
    FIX = "search by prefix (`q%`), or add a trigram (pg_trgm GIN) or full-text index"

    def orm_message(self, shape) -> str:
        return f".{shape.detail}(...) with a pattern starting with %: every search reads the whole table"


LeadingWildcard.EXAMPLES = [
    Report(
        name="an f-string pattern in the ORM",
        code="""
            from sqlalchemy import select

            def search(db, q):
                return db.scalars(select(Task).where(Task.title.ilike(f"%{q}%"))).all()
        """,
        message=".ilike(...) with a pattern starting with %",
    ),
    Report(
        name="concatenation, and raw SQL",
        code="""
            from sqlalchemy import text

            def search(db, q):
                a = db.query(Task).filter(Task.title.like("%" + q)).all()
                b = db.execute(text("SELECT id FROM tasks WHERE title ILIKE '%draft%'"))
                return a, b
        """,
        message="raw SQL: ILIKE '%draft%' starts with %",
    ),
    Clean(
        name="a prefix pattern and a bound parameter",
        code="""
            from sqlalchemy import select, text

            def search(db, q):
                a = db.scalars(select(Task).where(Task.title.ilike(f"{q}%"))).all()
                b = db.execute(text("SELECT id FROM tasks WHERE title LIKE :pattern"), {"pattern": q})
                return a, b
        """,
    ),
]
