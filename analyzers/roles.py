"""What a file is for, read from its path: a test, a migration, a script, or application
code. Rewrites that change behaviour at the edges (the unsafe tier) leave tests alone by
default, since a test's query asserts the database's state; pool sizes in scripts,
migrations and tests serve that one job, and an engine of a test run or a migration lives
too briefly for the server to drop its pooled connections."""

from __future__ import annotations

from pathlib import PurePosixPath

TEST_DIRS = frozenset({"tests", "test", "testing"})
MIGRATION_DIRS = frozenset({"migrations", "alembic", "revisions"})
SCRIPT_DIRS = frozenset({"scripts", "script", "bin", "tools"})
# The files whose code runs once and ends (a test run, a migration), unlike a script, which
# may be a long-lived worker.
ONE_RUN_ROLES = frozenset({"test", "migration"})


def file_role(path: str) -> str | None:
    """`"test"`, `"migration"`, `"script"`, or None for application code."""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    dirs = {part.lower() for part in parts[:-1]}
    # `versions/` alone is too common a name; Alembic's sits in one of these (Netflix's
    # dispatch: `database/revisions/<schema>/versions/`).
    if dirs & MIGRATION_DIRS or any(d.endswith("migrations") for d in dirs) or name == "migrations.py":
        return "migration"  # `_migrations/` (prefect), a `migrations.py` module of steps (lnbits)
    if dirs & TEST_DIRS or name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return "test"
    if dirs & SCRIPT_DIRS:
        return "script"
    return None
