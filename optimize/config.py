"""`[tool.optimize]` in the target repository's pyproject.toml.

```toml
[tool.optimize]
disable = ["pool-overflow"]        # or enable = [...] to run only those
exclude = ["migrations/**"]        # globs, relative to the repository root
max-file-size = 1_000_000          # bytes; larger files are skipped with a notice
jobs = 4                           # processes that plan files (default: one per CPU)
unsafe-in-tests = false            # unsafe-tier codemods skip test files unless true

[tool.optimize.pool-overflow]      # per-codemod options
target = 30
```
Values are data: nothing here is evaluated.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimize.errors import ConfigError

if TYPE_CHECKING:
    from optimize.codemods.base import Codemod

_TOP_KEYS = {"enable", "disable", "exclude", "jobs", "max-file-size", "unsafe-in-tests", "sql-dialect"}
# What `sql-dialect` may name: sqlglot's names of the databases SQLAlchemy talks to.
SQL_DIALECTS = ("postgres", "sqlite", "mysql", "tsql", "oracle", "duckdb", "snowflake", "bigquery")
# Each job is a process holding the whole repository index: far more than the machine has
# cores is a typo, not a setting.
MAX_JOBS = 256


@dataclass
class Config:
    enable: list[str] | None = None
    disable: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    max_file_size: int = 1_000_000
    jobs: int | None = None  # None: one per available CPU
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    uses_black: bool = False
    uses_ruff: bool = False  # `[tool.ruff]` in pyproject.toml (`ruff.toml` is found by `optimize.linting`)
    unsafe_in_tests: bool = False  # unsafe-tier codemods rewrite test files too
    sql_dialect: str | None = None  # None: read from the engine URLs and drivers


def _string_list(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[tool.optimize] {key}: expected a list of strings")
    return value


def _option_type_error(default: Any, value: Any) -> str | None:
    """What an option's value should have been, judged by its default; None when it fits."""
    if default is None:
        return None
    if isinstance(default, bool) or not isinstance(default, int):
        if not isinstance(value, type(default)):
            return type(default).__name__
    elif isinstance(value, bool) or not isinstance(value, int):  # TOML true is not a number
        return "int"
    if isinstance(default, list) and default:
        item = type(default[0])
        if not all(isinstance(v, item) for v in value):
            return f"a list of {item.__name__}"
    return None


def _codemod_options(key: str, value: Any, codemod: type[Codemod]) -> dict[str, Any]:
    """``[tool.optimize.<key>]``, checked against the codemod's ``OPTIONS`` (names and
    types) and ``OPTION_CHECKS`` (choices, bounds, parsable code), so that a bad value is
    this one error, not a surprise in every file."""
    if not isinstance(value, dict):
        raise ConfigError(f"[tool.optimize] {key}: expected a table of options")
    known = codemod.OPTIONS
    for opt, opt_value in value.items():
        if opt not in known:
            raise ConfigError(
                f"[tool.optimize.{key}] {opt}: unknown option"
                + (f" (known: {', '.join(sorted(known))})" if known else " (it takes none)")
            )
        expected = _option_type_error(known[opt], opt_value)
        if expected:
            raise ConfigError(f"[tool.optimize.{key}] {opt}: expected {expected}")
        check = codemod.OPTION_CHECKS.get(opt)
        problem = check(opt_value) if check is not None else None
        if problem:
            raise ConfigError(f"[tool.optimize.{key}] {opt}: {problem}")
    return dict(value)


def load_config(root: Path, committed: bytes | None = None, *, from_commit: bool = False) -> Config:
    """The configuration in ``root``'s pyproject.toml; with ``from_commit``, the one in
    the recorded commit (``committed``: its bytes, None when the commit has none)."""
    from optimize.analyzers.checks.registry import by_id as checks_by_id
    from optimize.codemods.registry import by_id

    pyproject = root / "pyproject.toml"
    if not from_commit and not pyproject.is_file():
        return Config()
    if from_commit and committed is None:
        return Config()
    try:
        text = committed.decode("utf-8") if from_commit else pyproject.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"pyproject.toml: cannot be read: {exc}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError("pyproject.toml: tool: expected a table")
    section = tool.get("optimize", {})
    config = Config(uses_black=isinstance(tool.get("black"), dict), uses_ruff=isinstance(tool.get("ruff"), dict))
    if not isinstance(section, dict):
        raise ConfigError("[tool.optimize] must be a table")
    codemods = {**by_id(), **checks_by_id()}  # codemods and checks take options alike
    for key, value in section.items():
        if key in codemods:
            config.options[key] = _codemod_options(key, value, codemods[key])
        elif key == "enable":
            config.enable = _string_list(value, key)
        elif key == "disable":
            config.disable = _string_list(value, key)
        elif key == "exclude":
            config.exclude = _string_list(value, key)
        elif key == "max-file-size":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError("[tool.optimize] max-file-size: expected a positive integer")
            config.max_file_size = value
        elif key == "unsafe-in-tests":
            if not isinstance(value, bool):
                raise ConfigError("[tool.optimize] unsafe-in-tests: expected true or false")
            config.unsafe_in_tests = value
        elif key == "sql-dialect":
            if value not in SQL_DIALECTS:
                raise ConfigError(f"[tool.optimize] sql-dialect: expected one of {', '.join(SQL_DIALECTS)}")
            config.sql_dialect = value
        elif key == "jobs":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_JOBS:
                raise ConfigError(f"[tool.optimize] jobs: expected a positive integer up to {MAX_JOBS}")
            config.jobs = value
        else:
            raise ConfigError(
                f"[tool.optimize] {key}: unknown key (known: {', '.join(sorted(_TOP_KEYS))}, or a codemod or check id)"
            )
    for key in ("enable", "disable"):
        for cid in getattr(config, key) or []:
            if cid not in codemods:
                raise ConfigError(f"[tool.optimize] {key}: unknown codemod or check id {cid!r}")
    return config
