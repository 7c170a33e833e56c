"""The base of the checks that report a query's shape: each reads the SQL strings and the
ORM calls the facts recorded (`analyzers.query_shapes`), the strings parsed with sqlglot
in the project's dialect (`analyzers.sql`), and reports the shapes of its own id."""

from __future__ import annotations

from typing import ClassVar

from optimize.analyzers.checks.base import IndexCheck
from optimize.analyzers.query_shapes import OrmShape
from optimize.analyzers.sql import read_sql


class QueryShapeCheck(IndexCheck):
    ORM_KIND: ClassVar[str | None] = None  # the `OrmShape.kind` this check also reports
    FIX: ClassVar[str] = ""

    def check(self) -> None:
        dialect = self.index.sql_dialect
        for facts in self.index.facts.values():
            for sql in facts.queries.sql:
                reading = read_sql(sql.text, dialect)
                self.sql_reading(facts.path, sql.line, reading)
            for shape in facts.queries.orm:
                if shape.kind == self.ORM_KIND and not self.served(facts.path, shape):
                    self.report(facts.path, shape.line, self.orm_message(shape), self.orm_fix(facts.path, shape))

    def sql_reading(self, path: str, line: int, reading) -> None:
        for shape in reading.shapes:
            if shape.check == self.ID:
                self.report(path, line, f"raw SQL: {shape.message}", self.FIX)

    def served(self, path: str, shape: OrmShape) -> bool:
        """Whether the schema already serves this ORM shape (no finding then)."""
        return False

    def orm_message(self, shape: OrmShape) -> str:
        raise NotImplementedError

    def orm_fix(self, path: str, shape: OrmShape) -> str:
        return self.FIX
