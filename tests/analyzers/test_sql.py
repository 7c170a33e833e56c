"""Raw SQL read with sqlglot in each dialect (`analyzers/sql.py`)."""

from __future__ import annotations

import pytest

from optimize.analyzers.sql import dialect_of, read_sql

DIALECTS = ("postgres", "sqlite", "mysql")


def checks(text: str, dialect: str) -> set[str]:
    reading = read_sql(text, dialect)
    assert reading.unreadable is None, reading.unreadable
    return {s.check for s in reading.shapes}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM tasks", {"select-star"}),
        ("SELECT t.* FROM tasks t", {"select-star"}),
        ("SELECT count(*) FROM tasks", set()),
        ("SELECT id FROM tasks ORDER BY id LIMIT 20 OFFSET 40", {"offset-pagination"}),
        ("SELECT id FROM tasks WHERE title LIKE '%x%'", {"leading-wildcard"}),
        ("SELECT id FROM tasks WHERE title LIKE 'x%'", set()),
        ("DELETE FROM tasks", {"unbounded-write"}),
        ("UPDATE tasks SET done = 1", {"unbounded-write"}),
        ("UPDATE tasks SET done = 1 WHERE id = :id", set()),
        ("SELECT id FROM users WHERE id NOT IN (SELECT owner_id FROM tasks)", {"not-in-subquery"}),
        ("SELECT id FROM users WHERE id NOT IN (1, 2)", set()),
        ("SELECT * FROM a; DELETE FROM b", {"select-star", "unbounded-write"}),
    ],
)
def test_shapes_in_every_dialect(sql: str, expected: set[str], dialect: str) -> None:
    assert checks(sql, dialect) == expected


def test_dialect_differences() -> None:
    # MySQL quotes identifiers with backticks and writes `LIMIT offset, count`.
    assert checks("SELECT * FROM `tasks`", "mysql") == {"select-star"}
    assert read_sql("SELECT * FROM `tasks`", "postgres").unreadable
    assert checks("SELECT id FROM tasks LIMIT 40, 20", "mysql") == {"offset-pagination"}
    # PostgreSQL's ILIKE and $1 parameters.
    assert checks("SELECT id FROM tasks WHERE title ILIKE '%x' AND project_id = $1", "postgres") == {"leading-wildcard"}


def test_a_broken_statement_is_one_answer_never_an_exception() -> None:
    assert "does not parse as postgres SQL" in read_sql("SELECT id FROM WHERE", "postgres").unreadable
    assert read_sql("VACUUM tasks", "postgres").shapes == ()  # kept whole by sqlglot: nothing to read


def test_dialect_of() -> None:
    assert dialect_of(["sqlite"], {}, None) == "sqlite"
    assert dialect_of(["sqlite", "postgres"], {"requirements.txt": b"aiomysql\n"}, None) == "mysql"
    assert dialect_of([], {"pyproject.toml": b'dependencies = ["asyncpg>=0.29"]'}, None) == "postgres"
    assert dialect_of([], {}, None) == "postgres"
    assert dialect_of(["sqlite"], {}, "mysql") == "mysql"
