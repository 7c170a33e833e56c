"""## What it does
Finds `x NOT IN (SELECT ...)` in raw SQL.

## Why is this bad?
If the subquery yields a single NULL, `NOT IN` is never true and the query silently
returns nothing; and PostgreSQL cannot turn it into an anti-join, so it often runs the
subquery per row or hashes it whole.

## Example
```sql
SELECT id FROM users WHERE id NOT IN (SELECT owner_id FROM tasks)
```

## Use instead
```sql
SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.owner_id = u.id)
```
"""

from __future__ import annotations

from optimize.analyzers.checks.base import Clean, Report
from optimize.analyzers.checks.query_shape import QueryShapeCheck


class NotInSubquery(QueryShapeCheck):
    ID = "not-in-subquery"
    TITLE = "NOT IN (subquery) in raw SQL"
    FIX = "use NOT EXISTS (SELECT 1 ... WHERE ...) instead"


NotInSubquery.EXAMPLES = [
    Report(
        name="NOT IN a subquery",
        code="""
            from sqlalchemy import text

            def idle(db):
                return db.execute(text("SELECT id FROM users WHERE id NOT IN (SELECT owner_id FROM tasks)"))
        """,
        message="raw SQL: NOT IN (SELECT ...)",
    ),
    Clean(
        name="NOT EXISTS and NOT IN a list",
        code="""
            from sqlalchemy import text

            def idle(db):
                db.execute(text("SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.owner_id = u.id)"))
                db.execute(text("SELECT id FROM users WHERE id NOT IN (1, 2, 3)"))
        """,
    ),
]
