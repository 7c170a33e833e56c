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

    def orm_fix(self, path: str, shape) -> str:
        model = self.index.model_for(shape.cls, path) if shape.cls else None
        key = model.primary_key if model is not None else ()
        if model is None or not key:
            return (
                "paginate by key: order by a unique key (or the order key then the primary key) and filter "
                "past the last row seen, `.where(M.id > last_id).order_by(M.id).limit(n)`"
            )
        name = shape.cls.rsplit(".", 1)[-1]
        column = model.columns.get(shape.column)
        if (column is not None and column.unique) or (shape.column,) == key:
            return f"paginate by key: `.where({shape.detail} > last_seen).order_by({shape.detail}).limit(n)`"
        # The order key is not unique: rows that tie on it would be skipped or repeated
        # across pages unless the primary key breaks the tie.
        tie = f"{name}.{key[0]}" if len(key) == 1 else f"tuple_({', '.join(f'{name}.{k}' for k in key)})"
        column_expr = f"{name}.{shape.column}"
        return (
            f"paginate by key, the primary key breaking ties: `.where(tuple_({column_expr}, {tie}) > (last_value, last_id))"
            f".order_by({column_expr}, {tie}).limit(n)`"
        )


MODELS = """
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class Task(Base):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)
        slug: Mapped[str] = mapped_column(unique=True)
        created_at: Mapped[int]
"""

OffsetPagination.EXAMPLES = [
    Report(
        name="an ORM select with offset, keyset on its order key and the primary key",
        files={"app/__init__.py": "", "app/models.py": MODELS},
        code="""
            from sqlalchemy import select
            from .models import Task

            def page(db, n, size):
                return db.scalars(select(Task).order_by(Task.created_at).offset(n * size).limit(size)).all()
        """,
        message=".offset(...) pagination reads and drops every skipped row",
        fix="`.where(tuple_(Task.created_at, Task.id) > (last_value, last_id)).order_by(Task.created_at, Task.id)",
    ),
    Report(
        name="offset on its own line, on a query built earlier; keyset on a unique order key",
        files={"app/__init__.py": "", "app/models.py": MODELS},
        code="""
            import sqlalchemy as sa
            from .models import Task

            async def page(session, offset, limit, filters):
                query = sa.select(Task).order_by(Task.slug)
                query = await apply_filters(query, filters)
                if offset is not None:
                    query = query.offset(offset)
                return (await session.execute(query.limit(limit))).scalars().all()
        """,
        message=".offset(...) pagination",
        fix="`.where(Task.slug > last_seen).order_by(Task.slug)",
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
                box = make_box()
                box = box.offset(4)
                rows = db.execute(text("SELECT id FROM tasks WHERE id > :after ORDER BY id LIMIT 20"))
                return first, again, text_offset, rows
        """,
    ),
]
