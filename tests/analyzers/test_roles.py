"""What a file is for, from its path (`analyzers/roles.py`)."""

from __future__ import annotations

import pytest

from optimize.analyzers.roles import file_role


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("alembic/versions/0001_init.py", "migration"),
        ("app/migrations/0002.py", "migration"),
        ("prefect/server/database/_migrations/versions/postgresql/0003.py", "migration"),
        ("src/dispatch/database/revisions/tenant/versions/2024_a.py", "migration"),
        ("lnbits/core/migrations.py", "migration"),
        ("tests/test_api.py", "test"),
        ("app/test_models.py", "test"),
        ("conftest.py", "test"),
        ("scripts/seed.py", "script"),
        ("app/versions/report.py", None),
        ("app/models.py", None),
    ],
)
def test_file_role(path: str, role: str | None) -> None:
    assert file_role(path) == role
