"""Engine options passed through a `**` dict, beyond the codemods' examples: what
`read_options` proves, SQLAlchemy's behaviour the added keyword relies on, layouts across
modules, and syntax newer than the interpreter running the tests."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from sqlalchemy import create_engine

from optimize.analyzers.index import RepoIndex
from optimize.codemods.pool_overflow import PoolOverflow
from optimize.codemods.pool_pre_ping import PoolPrePing
from optimize.transform import run_codemod


def run(codemod, files: dict[str, str], path: str):
    files = {p: textwrap.dedent(s).lstrip() for p, s in files.items()}
    index = RepoIndex.build({p: s.encode() for p, s in files.items()})
    return run_codemod(codemod, cst.parse_module(files[path]), path, index=index)


# --- what Python and SQLAlchemy do (the claims the rewrite rests on) ------------------------


def test_a_keyword_next_to_a_dict_without_it_is_accepted(tmp_path: Path) -> None:
    options = {"pool_size": 3}
    engine = create_engine(f"sqlite:///{tmp_path}/x.db", **options, pool_pre_ping=True)
    assert engine.pool._pre_ping is True


def test_a_keyword_the_dict_also_has_raises() -> None:
    options = {"pool_pre_ping": False}
    with pytest.raises(TypeError, match="multiple values"):
        create_engine("sqlite://", **options, pool_pre_ping=True)


def test_the_rewritten_module_builds_an_engine_with_pre_ping(tmp_path: Path) -> None:
    result = run(PoolPrePing, {"app/db.py": """
        from sqlalchemy import create_engine

        ENGINE_OPTIONS = {"pool_size": 3, "pool_recycle": 1800}

        def build_engine(url):
            return create_engine(url, **ENGINE_OPTIONS)
    """}, "app/db.py")
    assert "**ENGINE_OPTIONS, pool_pre_ping=True)" in result.tree.code
    module_path = tmp_path / "rewritten_db.py"
    module_path.write_text(result.tree.code)
    spec = importlib.util.spec_from_file_location("rewritten_db", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    engine = module.build_engine(f"sqlite:///{tmp_path}/x.db")
    assert engine.pool._pre_ping is True and engine.pool.size() == 3


# --- dicts across modules and scopes -----------------------------------------------------------

DB_WITH_FACTORY = """
    from sqlalchemy.ext.asyncio import create_async_engine

    ENGINE_OPTIONS = {"pool_size": 10}

    def build_engine(url: str):
        return create_async_engine(url, **ENGINE_OPTIONS)
"""


def test_a_module_level_dict_another_module_imports_is_not_followed_from_a_function() -> None:
    result = run(PoolPrePing, {
        "backend/app/db.py": DB_WITH_FACTORY,
        "backend/app/tests/conftest.py": """
            from app.db import ENGINE_OPTIONS

            ENGINE_OPTIONS["pool_pre_ping"] = False
        """,
    }, "backend/app/db.py")
    assert not result.changes
    assert "ENGINE_OPTIONS is imported by backend/app/tests/conftest.py" in result.refusals[0].reason


def test_the_same_dict_imported_by_nobody_is_followed() -> None:
    result = run(PoolPrePing, {
        "backend/app/db.py": DB_WITH_FACTORY,
        "backend/app/main.py": "from app.db import build_engine\n",
    }, "backend/app/db.py")
    assert "return create_async_engine(url, **ENGINE_OPTIONS, pool_pre_ping=True)" in result.tree.code


def test_a_module_level_engine_is_built_before_any_importer_can_change_the_dict() -> None:
    result = run(PoolPrePing, {
        "app/db.py": """
            from sqlalchemy import create_engine
            ENGINE_OPTIONS = {"pool_size": 10}
            engine = create_engine(DATABASE_URL, **ENGINE_OPTIONS)
        """,
        "app/other.py": "from app.db import ENGINE_OPTIONS\n",
    }, "app/db.py")
    assert "create_engine(DATABASE_URL, **ENGINE_OPTIONS, pool_pre_ping=True)" in result.tree.code


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ('opts["pool_pre_ping"] = False', "opts is changed or passed on at line 3"),
        ('del opts["pool_size"]', "opts is changed or passed on at line 3"),
        ('opts.setdefault("pool_pre_ping", False)', "opts is changed or passed on at line 3"),
        ("configure(opts)", "opts is changed or passed on at line 3"),
        ("alias = opts", "opts is changed or passed on at line 3"),
        ('opts |= {"pool_pre_ping": False}', "opts is bound more than once"),
        ("opts = {}", "opts is bound more than once"),
    ],
)
def test_any_use_that_may_change_the_dict_stops_the_rewrite(statement: str, reason: str) -> None:
    source = f"""
        from sqlalchemy import create_engine
        opts = {{"pool_size": 5}}
        {statement}
        engine = create_engine(DATABASE_URL, **opts)
    """
    for codemod in (PoolPrePing, PoolOverflow):
        result = run(codemod, {"app/db.py": source}, "app/db.py")
        assert result.tree.code == textwrap.dedent(source).lstrip() and not result.changes
        assert reason in result.refusals[0].reason, result.refusals


@pytest.mark.parametrize(
    ("binding", "reason"),
    [
        ('opts = {"pool_size": 5, **BASE_OPTIONS}', "unpacks another mapping"),
        ("opts = dict(BASE_OPTIONS, pool_size=5)", "is built from another mapping"),
        ('opts = {KEY: 5}', "has a key that is not a string literal: KEY"),
        ("opts = load_options()", "is not a literal dict"),
        ('if TESTING:\n    opts = {"pool_size": 5}', "bound inside a block"),
        ("from app.config import opts", "opts is imported"),
    ],
)
def test_a_dict_that_is_not_provably_literal_is_not_followed(binding: str, reason: str) -> None:
    source = "from sqlalchemy import create_engine\n" + binding + "\nengine = create_engine(URL, **opts)\n"
    result = run(PoolPrePing, {"app/db.py": source}, "app/db.py")
    assert result.tree.code == source and not result.changes
    assert reason in result.refusals[0].reason, result.refusals


def test_reads_of_the_dict_and_a_second_engine_do_not_stop_the_rewrite() -> None:
    result = run(PoolPrePing, {"app/db.py": """
        from sqlalchemy import create_engine
        opts = {"pool_size": 5}
        logger.info("pool %s, %s", opts["pool_size"], opts.get("echo"))
        if "echo" in opts:
            print(sorted(opts.keys()))
        engine = create_engine(PRIMARY_URL, **opts)
        replica = create_engine(REPLICA_URL, **opts)
    """}, "app/db.py")
    assert result.tree.code.count("**opts, pool_pre_ping=True)") == 2 and not result.refusals


def test_a_pool_class_in_the_dict_is_seen() -> None:
    source = """
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool
        opts = {"poolclass": NullPool}
        engine = create_engine("postgresql://app@db/app", **opts)
    """
    for codemod in (PoolPrePing, PoolOverflow):
        result = run(codemod, {"app/db.py": source}, "app/db.py")
        assert not result.changes
        assert "poolclass=NullPool in the dict opts (line 3)" in result.refusals[0].reason


def test_a_dict_set_to_a_setting_with_a_literal_field_is_raised_in_the_settings_module() -> None:
    files = {
        "app/core/config.py": """
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                DB_MAX_OVERFLOW: int = 5

            settings = Settings()
        """,
        "app/db.py": """
            from sqlalchemy import create_engine
            from app.core.config import settings
            opts = {"max_overflow": settings.DB_MAX_OVERFLOW}
            engine = create_engine("postgresql://app@db/app", **opts)
        """,
    }
    engine_module = run(PoolOverflow, files, "app/db.py")
    assert not engine_module.changes and not engine_module.refusals
    config = run(PoolOverflow, files, "app/core/config.py")
    assert "DB_MAX_OVERFLOW: int = 20" in config.tree.code


def test_newer_syntax_around_the_engine() -> None:
    # `type` aliases and type parameters (Python 3.12) parse with LibCST whatever runs it.
    result = run(PoolPrePing, {"src/app/db.py": """
        from sqlmodel import create_engine

        type EngineOptions = dict[str, object]

        def make_engine[T](url: str) -> T:
            options: EngineOptions = {"pool_size": 10}
            return create_engine(url, **options)
    """}, "src/app/db.py")
    assert "return create_engine(url, **options, pool_pre_ping=True)" in result.tree.code


def test_pre_ping_already_on_beside_kwargs_is_neither_changed_nor_reported() -> None:
    # `**kwargs` holding pool_pre_ping too would raise "multiple values": the explicit
    # keyword is what the engine gets.
    source = """
        from sqlalchemy.ext.asyncio import create_async_engine

        def build(url, **kwargs):
            return create_async_engine(url, pool_pre_ping=True, **kwargs)
    """
    result = run(PoolPrePing, {"app/db.py": source}, "app/db.py")
    assert not result.changes and not result.refusals


# --- where an engine lives ---------------------------------------------------------------------

ONE_ENGINE = 'from sqlalchemy import create_engine\n\nengine = create_engine("postgresql://app@db/app")\n'


@pytest.mark.parametrize(
    "path, role",
    [
        ("migrations/env.py", "migration"),
        ("src/app/db/revisions/core/env.py", "migration"),
        ("tests/conftest.py", "test"),
        ("app/tests/test_db.py", "test"),
    ],
)
def test_pre_ping_is_not_added_to_engines_that_live_for_one_run(path: str, role: str) -> None:
    result = run(PoolPrePing, {path: ONE_ENGINE}, path)
    assert not result.changes
    assert [r.reason for r in result.refusals] == [
        f"skipped: an engine in a {role}: it lives for one {role} run, too short for pooled connections to go stale"
    ]


@pytest.mark.parametrize("path", ["scripts/worker.py", "app/db.py", "src/app/core/db.py"])
def test_pre_ping_is_added_to_engines_of_the_application_and_its_scripts(path: str) -> None:
    result = run(PoolPrePing, {path: ONE_ENGINE}, path)
    assert 'create_engine("postgresql://app@db/app", pool_pre_ping=True)' in result.tree.code
    assert len(result.changes) == 1


# --- the URL through a name ------------------------------------------------------------------


def test_a_url_imported_from_another_module_is_not_read_as_the_calls() -> None:
    files = {
        "app/__init__.py": "",
        "app/config.py": 'DATABASE_URL = "sqlite:///./app.db"\n',
        "app/db.py": """
            from sqlalchemy import create_engine

            from .config import DATABASE_URL

            engine = create_engine(DATABASE_URL, pool_size=10)
        """,
    }
    # Another module's name may be patched before this one is imported: not followed.
    assert "pool_pre_ping=True" in run(PoolPrePing, files, "app/db.py").tree.code
    refused = run(PoolOverflow, files, "app/db.py")
    assert not refused.changes and "the URL is not a literal" in refused.refusals[0].reason


@pytest.mark.parametrize(
    "binding", ['DATABASE_URL: str = "sqlite:///./app.db"', 'DATABASE_URL = "sqlite" "+aiosqlite:///./app.db"']
)
def test_a_sqlite_url_bound_just_before_with_an_annotation_or_in_two_literals_is_read(binding: str) -> None:
    source = f"""
        from sqlalchemy.ext.asyncio import create_async_engine

        {binding}
        engine = create_async_engine(DATABASE_URL)
    """
    for codemod in (PoolPrePing, PoolOverflow):
        result = run(codemod, {"app/db.py": source}, "app/db.py")
        assert not result.changes
        assert [r.reason for r in result.refusals] == [
            "skipped: sqlite URL: the engine keeps no server connection to validate or overflow"
        ]
