"""`settings_flags`: which bool settings fields a module can read, on small repositories."""

from __future__ import annotations

import textwrap

from optimize.analyzers.index import RepoIndex
from optimize.analyzers.settings_lookup import resolve_setting, settings_flags

DEBUG = frozenset({"debug", "DEBUG"})

CONFIG = """
    from functools import lru_cache
    from pydantic_settings import BaseSettings

    class Settings(BaseSettings):
        PROJECT_NAME: str = "api"
        DEBUG: bool = False
        DEBUG_SQL: bool = False

    settings = Settings()

    @lru_cache
    def get_settings() -> Settings:
        return Settings()
"""


def build(files: dict[str, str]) -> RepoIndex:
    return RepoIndex.build({p: textwrap.dedent(s).lstrip().encode() for p, s in files.items()})


def chains(index: RepoIndex, path: str) -> list[str]:
    return sorted(f.chain for f in settings_flags(index, path, DEBUG))


def test_an_imported_instance_and_function_both_read_the_field() -> None:
    index = build({
        "app/core/config.py": CONFIG,
        "app/main.py": "from app.core.config import settings, get_settings\n",
    })
    flags = settings_flags(index, "app/main.py", DEBUG)
    assert sorted(f.chain for f in flags) == ["get_settings().DEBUG", "settings.DEBUG"]
    assert {(f.root, f.attributes) for f in flags} == {("app.core.config.Settings", ("DEBUG",))}
    assert {(f.field.path, f.field.line) for f in flags} == {("app/core/config.py", 6)}
    assert {f.head for f in flags} == {"settings", "get_settings"}


def test_relative_import_src_layout_and_a_package_re_export() -> None:
    index = build({
        "src/app/core/config.py": CONFIG,
        "src/app/core/__init__.py": "from .config import settings\n",
        "src/app/factory.py": "from .core import settings\n",
        "src/app/other.py": "from app.core.config import settings\n",
    })
    assert chains(index, "src/app/factory.py") == ["settings.DEBUG"]
    assert chains(index, "src/app/other.py") == ["settings.DEBUG"]


def test_nested_settings_and_a_field_inherited_from_another_module() -> None:
    index = build({
        "backend/app/core/base.py": """
            from pydantic_settings import BaseSettings

            class CommonSettings(BaseSettings):
                debug: bool = False
        """,
        "backend/app/core/config.py": """
            from pydantic import BaseModel
            from app.core.base import CommonSettings

            class ApiSettings(BaseModel):
                debug: bool = False

            class Settings(CommonSettings):
                api: ApiSettings = ApiSettings()

            settings = Settings()
        """,
        "backend/app/main.py": "from app.core.config import settings\n",
    })
    flags = settings_flags(index, "backend/app/main.py", DEBUG)
    assert sorted(f.chain for f in flags) == ["settings.api.debug", "settings.debug"]
    inherited = next(f for f in flags if f.chain == "settings.debug")
    assert (inherited.field.cls, inherited.field.path) == ("CommonSettings", "backend/app/core/base.py")


def test_a_settings_instance_bound_in_the_module_itself() -> None:
    index = build({
        "app/main.py": """
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                DEBUG: bool = False

            settings = Settings()
        """,
    })
    assert chains(index, "app/main.py") == ["settings.DEBUG"]


def test_classes_plain_objects_and_non_bool_fields_are_not_flags() -> None:
    index = build({
        "app/core/config.py": """
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                DEBUG: str = "no"
                LOG_LEVEL: str = "INFO"

            settings = Settings()
        """,
        "app/state.py": """
            class Runtime:
                debug: bool = False

            runtime = Runtime()
        """,
        "app/main.py": """
            from app.core.config import Settings, settings
            from app.state import runtime, Runtime
        """,
    })
    assert chains(index, "app/main.py") == []


def test_a_module_that_is_not_indexed_is_read_from_its_source() -> None:
    index = build({"app/core/config.py": CONFIG})
    source = "from app.core.config import settings\n"
    assert [f.chain for f in settings_flags(index, "app/new.py", DEBUG, source)] == ["settings.DEBUG"]
    assert settings_flags(index, "app/new.py", DEBUG) == []


def test_the_chain_a_flag_names_resolves_to_the_same_field() -> None:
    index = build({"app/core/config.py": CONFIG, "app/main.py": "from app.core.config import settings\n"})
    (flag,) = settings_flags(index, "app/main.py", DEBUG)
    assert resolve_setting(index, "app/main.py", flag.chain).field == flag.field
