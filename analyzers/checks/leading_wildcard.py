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

A column of a model that already has a trigram index (`postgresql_ops={"col":
"gin_trgm_ops"}` in the model, or one a migration creates, `op.create_index` or raw `CREATE
INDEX ... (col gin_trgm_ops)`) is not reported. Raw SQL is reported whatever its indexes.
"""

from __future__ import annotations

from optimize.analyzers.checks.base import Clean, Report
from optimize.analyzers.checks.query_shape import QueryShapeCheck


class LeadingWildcard(QueryShapeCheck):
    ID = "leading-wildcard"
    TITLE = "LIKE / ILIKE pattern starting with %, which no index serves"
    ORM_KIND = "leading-wildcard"
    FIX = "search by prefix (`q%`), or add a trigram (pg_trgm GIN) or full-text index"

    def served(self, path: str, shape) -> bool:
        if not shape.cls:
            return False
        # `db.Flow.name`: a model reached through an object (prefect's database interface)
        # or a re-export the index does not follow is taken by its class name when one model
        # of the application has it; this can only drop a finding.
        model = self.index.model_for(shape.cls, path)
        if model is None:
            name = shape.cls.rsplit(".", 1)[-1]
            named = [m for m in self.index.application_models() if m.name == name]
            model = named[0] if len(named) == 1 else None
        return model is not None and self.index.has_trigram_index(model, shape.column)

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
        name="a column with a trigram index, in the model or by a migration",
        files={
            "app/__init__.py": "",
            "app/models.py": """
                from sqlalchemy import Index
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

                class Base(DeclarativeBase):
                    pass

                class Task(Base):
                    __tablename__ = "tasks"
                    __table_args__ = (
                        Index("ix_tasks_title_trgm", "title", postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"}),
                    )
                    id: Mapped[int] = mapped_column(primary_key=True)
                    title: Mapped[str]
                    body: Mapped[str]
            """,
            "migrations/versions/0005_trgm.py": """
                from alembic import op

                def upgrade():
                    op.execute("CREATE INDEX ix_tasks_body_trgm ON tasks USING gin (body gin_trgm_ops)")
            """,
        },
        code="""
            from sqlalchemy import or_, select
            from .models import Task

            def search(db, q):
                return db.scalars(select(Task).where(or_(Task.title.ilike(f"%{q}%"), Task.body.ilike(f"%{q}%")))).all()
        """,
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
