"""Text that suggests a file defines ORM models, read from a file no parser can read.

When such a file is left out of the index, the codemods that need the repository's models
find none of the models it defines; the reason a file was skipped says so, so that a user
who sees nothing rewritten knows why.
"""

from __future__ import annotations

import re

# The names a SQLAlchemy 1.4/2.0 or SQLModel models module spells, as written in it.
_MARKERS = (b"DeclarativeBase", b"declarative_base", b"Mapped[", b"mapped_column(", b"relationship(")
_SQLMODEL_TABLE = re.compile(rb"\bSQLModel\b.*?\btable\s*=\s*True", re.DOTALL)


def model_marker(source: bytes) -> str | None:
    """The first sign in ``source`` that it defines models (e.g. ``DeclarativeBase``), or None."""
    for marker in _MARKERS:
        if marker in source:
            return marker.decode()
    if _SQLMODEL_TABLE.search(source):
        return "SQLModel with table=True"
    return None
