"""pool-overflow beyond its examples: SQLAlchemy's own behaviour on the engines it refuses,
settings chains across modules, and the never-lower rule over many values."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optimize.analyzers.index import RepoIndex
from optimize.analyzers.settings_lookup import resolve_setting
from optimize.codemods.pool_overflow import PoolOverflow
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool, SingletonThreadPool, StaticPool

from optimize.transform import run_codemod


def run(files: dict[str, str], path: str, **options):
    files = {p: textwrap.dedent(s).lstrip() for p, s in files.items()}
    index = RepoIndex.build({p: s.encode() for p, s in files.items()})
    return run_codemod(PoolOverflow, cst.parse_module(files[path]), path, index=index, options=options)


# --- what SQLAlchemy does with max_overflow (the claims the refusals rest on) -------------


@pytest.mark.parametrize("poolclass", [NullPool, StaticPool])
def test_async_engine_with_a_pool_without_overflow_raises(poolclass, tmp_path) -> None:
    with pytest.raises(TypeError, match="max_overflow"):
        create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db", poolclass=poolclass, max_overflow=20)


def test_sync_engine_with_singleton_thread_pool_raises(tmp_path) -> None:
    # (SingletonThreadPool is not an asyncio pool: only a sync engine can take it.)
    with pytest.raises(TypeError, match="max_overflow"):
        create_engine(f"sqlite:///{tmp_path}/x.db", poolclass=SingletonThreadPool, max_overflow=20)


def test_in_memory_aiosqlite_raises() -> None:
    with pytest.raises(TypeError, match="max_overflow"):
        create_async_engine("sqlite+aiosqlite://", max_overflow=20)


def test_file_aiosqlite_accepts_it(tmp_path) -> None:
    # A file sqlite URL gets a queue pool: the argument is accepted, though the codemod
    # still leaves sqlite URL literals alone (no server connections to overflow).
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db", max_overflow=20)
    assert engine.pool._max_overflow == 20


def test_an_added_argument_is_accepted_by_a_real_engine(tmp_path) -> None:
    result = run({"app/db.py": """
        from sqlalchemy.ext.asyncio import create_async_engine
        engine = create_async_engine("postgresql+asyncpg://user@localhost/app", pool_size=3)
    """}, "app/db.py")
    assert "max_overflow=20" in result.tree.code
    assert "up to 3 + 20 = 23 connections per process" in result.changes[0].rationale
    namespace = {}
    exec(compile(result.tree.code, "db.py", "exec"), namespace)  # noqa: S102 -- our own rewritten snippet; builds, does not connect
    assert namespace["engine"].pool._max_overflow == 20


# --- settings chains ----------------------------------------------------------------------

CONFIG = """
    from functools import lru_cache
    from pydantic import BaseModel
    from pydantic_settings import BaseSettings

    class DatabaseSettings(BaseModel):
        pool_size: int = 10
        max_overflow: int = 5

    class Settings(BaseSettings):
        database: DatabaseSettings = DatabaseSettings()

    @lru_cache
    def get_settings() -> Settings:
        return Settings()

    settings = get_settings()
"""

ENGINE = """
    from sqlalchemy.ext.asyncio import create_async_engine
    from app.config import settings

    engine = create_async_engine(
        settings.database.url,
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
    )
"""


def test_chain_resolves_through_get_settings_and_annotations() -> None:
    files = {"app/config.py": CONFIG, "app/db.py": ENGINE}
    index = RepoIndex.build({p: textwrap.dedent(s).encode() for p, s in files.items()})
    found = resolve_setting(index, "app/db.py", "settings.database.max_overflow").field
    assert (found.path, found.cls, found.name, found.value) == ("app/config.py", "DatabaseSettings", "max_overflow", 5)
    assert resolve_setting(index, "app/db.py", "settings.database.nope").field is None


def test_engine_module_is_left_alone_and_the_field_is_raised_in_its_own() -> None:
    files = {"app/config.py": CONFIG, "app/db.py": ENGINE}
    engine_side = run(files, "app/db.py")
    assert engine_side.tree.code == textwrap.dedent(ENGINE).lstrip()
    assert not engine_side.changes and not engine_side.refusals
    settings_side = run(files, "app/config.py")
    assert "max_overflow: int = 20" in settings_side.tree.code
    assert settings_side.changes[0].rationale.startswith(
        "DatabaseSettings.max_overflow 5 -> 20: up to 10 + 20 = 30 connections per process"
    )


def test_engine_reading_a_computed_field_is_refused() -> None:
    config = CONFIG.replace("max_overflow: int = 5", 'max_overflow: int = int(os.environ["X"])')
    result = run({"app/config.py": config, "app/db.py": ENGINE}, "app/db.py")
    assert [r.reason for r in result.refusals] == [
        (
            "skipped: max_overflow=settings.database.max_overflow reads DatabaseSettings.max_overflow, "
            "which is not a literal"
        )
    ]


def test_two_modules_of_the_same_name_the_one_beside_the_engine_is_read() -> None:
    # `import config` in app/db.py, run with app/ on the path, is app/config.py: the
    # index's module resolver answers, as for every other import.
    files = {"app/config.py": CONFIG, "other/config.py": CONFIG, "app/db.py": ENGINE.replace("app.config", "config")}
    index = RepoIndex.build({p: textwrap.dedent(s).encode() for p, s in files.items()})
    found = resolve_setting(index, "app/db.py", "settings.database.max_overflow").field
    assert found is not None and found.path == "app/config.py"


def test_a_module_name_two_files_may_be_is_refused() -> None:
    files = {"a/config.py": CONFIG, "b/config.py": CONFIG, "app/db.py": ENGINE.replace("app.config", "config")}
    result = run(files, "app/db.py")
    assert result.refusals and "cannot resolve the setting" in result.refusals[0].reason


def test_pool_less_engine_reading_a_setting_is_refused_with_the_type_error() -> None:
    engine = ENGINE.replace("settings.database.url,", "settings.database.url, poolclass=NullPool,")
    engine = "from sqlalchemy.pool import NullPool\n" + textwrap.dedent(engine)
    result = run({"app/config.py": CONFIG, "app/db.py": engine}, "app/db.py")
    assert "NullPool" in result.refusals[0].reason and "TypeError" in result.refusals[0].reason


# --- never lowered ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(value=st.integers(min_value=1, max_value=200), target=st.integers(min_value=1, max_value=100))
def test_values_are_raised_to_the_target_never_lowered(value: int, target: int) -> None:
    # (0 is a deliberate "no overflow", left alone: the example "max_overflow=0 is a choice")
    source = f"class Settings:\n    max_overflow: int = {value}\n"
    result = run_codemod(PoolOverflow, cst.parse_module(source), "s.py", options={"target": target})
    assert f"max_overflow: int = {max(value, target)}\n" in result.tree.code
    assert bool(result.changes) == (value < target)


def test_no_argument_is_added_when_the_url_is_only_known_at_run_time() -> None:
    """An in-memory sqlite URL (common in test settings) rejects max_overflow."""
    source = """
        from sqlalchemy.ext.asyncio import create_async_engine
        engine = create_async_engine(settings.database_url, pool_size=3)
    """
    result = run({"app/db.py": source}, "app/db.py")
    assert "max_overflow" not in result.tree.code
    assert "in-memory sqlite" in result.refusals[0].reason
    with pytest.raises(TypeError):
        from sqlalchemy.ext.asyncio import create_async_engine

        create_async_engine("sqlite+aiosqlite://", pool_size=3, max_overflow=20)


@pytest.mark.parametrize(
    "path, place",
    [("scripts/backfill.py", "a script"), ("migrations/env.py", "a migration"), ("tests/conftest.py", "a test")],
)
def test_engines_that_serve_one_job_are_left_alone(path: str, place: str) -> None:
    source = 'from sqlalchemy import create_engine\n\nengine = create_engine("postgresql://app@db/app", max_overflow=1)\n'
    result = run({path: source}, path)
    assert not result.changes
    assert [r.reason for r in result.refusals] == [f"skipped: an engine in {place}: its pool is sized for that one job"]


def test_a_settings_default_under_a_limit_comment_is_left_alone() -> None:
    config = CONFIG.replace(
        "max_overflow: int = 5", "# pgbouncer: keep it low, see ops/limits.md\n    max_overflow: int = 5"
    )
    result = run({"app/config.py": config, "app/db.py": ENGINE}, "app/config.py")
    assert not result.changes
    assert "sits under a comment about connection limits" in result.refusals[0].reason
