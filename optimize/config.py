"""`[tool.optimize]` in the target repository's pyproject.toml (or the same keys, top level,
in an `optimize.toml`).

```toml
[tool.optimize]
disable = ["pool-overflow"]        # or enable = [...] to run only those
exclude = ["migrations/", "tests"] # gitignore-style patterns, relative to this file's directory
extend-exclude = ["scripts/*.py"]  # more of the same (as ruff's)
max-file-size = 1_000_000          # bytes; larger files are skipped with a notice
jobs = 4                           # processes that plan files (default: one per CPU)
unsafe-in-tests = false            # unsafe-tier codemods skip test files unless true

[tool.optimize.per-file-ignores]   # codemods and checks that do not run on matching files
"legacy/**" = ["pool-pre-ping", "n-plus-one"]

[tool.optimize.pool-overflow]      # per-codemod options
target = 30
```
The nearest `optimize.toml`, or `pyproject.toml` with a `[tool.optimize]` table, from the
scanned directory up to the repository's top is used, as ruff finds its configuration.
Values are data: nothing here is evaluated.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimize.errors import ConfigError

if TYPE_CHECKING:
    from optimize.codemods.base import Codemod

_TOP_KEYS = {
    "enable", "disable", "exclude", "extend-exclude", "per-file-ignores", "jobs", "max-file-size",
    "unsafe-in-tests", "sql-dialect",
}
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
    uses_ruff_format: bool = False  # `[tool.ruff.format]` (a `ruff-format` hook is found by `optimize.linting`)
    lint_files: str = ""  # digest of `LINT_FILES`: in the config's repr, so in every cache key
    unsafe_in_tests: bool = False  # unsafe-tier codemods rewrite test files too
    sql_dialect: str | None = None  # None: read from the engine URLs and drivers
    # gitignore-style glob -> codemod and check ids that do not run on the files it matches
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    base: str = ""  # the scanned directory relative to the configuration's ("backend/")

    def excludes(self, path: str) -> bool:
        """Whether ``path`` (relative to the scanned directory) matches an `exclude` or
        `extend-exclude` pattern, with gitignore semantics (`pathspec`) as ruff's are."""
        return bool(self.exclude) and _spec(tuple(self.exclude)).match_file(self.base + path)

    def ignored(self, path: str) -> frozenset[str]:
        """The codemod and check ids `per-file-ignores` turns off for ``path``."""
        return frozenset(
            cid for pattern, ids in self.per_file_ignores.items() if _spec((pattern,)).match_file(self.base + path)
            for cid in ids
        )


@lru_cache(maxsize=64)
def _spec(patterns: tuple[str, ...]):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _patterns(value: Any, key: str) -> list[str]:
    patterns = _string_list(value, key)
    try:
        _spec(tuple(patterns))
    except Exception as exc:  # noqa: BLE001 - pathspec raises several types for a bad pattern
        raise ConfigError(f"[tool.optimize] {key}: {exc}") from None
    return patterns


def _per_file_ignores(value: Any, known: dict) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigError("[tool.optimize] per-file-ignores: expected a table of glob = [ids]")
    found = {}
    for pattern, ids in value.items():
        ids = _string_list(ids, f"per-file-ignores.{pattern!r}")
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ConfigError(f"[tool.optimize] per-file-ignores: unknown codemod or check id {unknown[0]!r}")
        _patterns([pattern], "per-file-ignores")
        found[pattern] = ids
    return found


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


CONFIG_FILES = ("optimize.toml", "pyproject.toml")  # in one directory, the first wins


def config_directories(root: Path) -> list[Path]:
    """Where the configuration is looked for, nearest first, as ruff looks for its own:
    ``root`` and its parents up to the top of the git working tree (``root`` alone
    outside one)."""
    chain = [root]
    for here in [root, *root.parents]:
        if (here / ".git").exists():
            return chain
        chain.append(here.parent)
    return [root]


def config_files(root: Path) -> list[tuple[int, str, bytes]]:
    """(directories above ``root``, file name, bytes) of every candidate file, nearest first."""
    found = []
    for depth, directory in enumerate(config_directories(root)):
        for name in CONFIG_FILES:
            path = directory / name
            try:
                if path.is_file():
                    found.append((depth, name, path.read_bytes()))
            except OSError as exc:
                raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return found


# Files beside the configuration that change what a rewrite becomes (`optimize.linting`
# reads ruff's settings and the pre-commit hooks): part of every cache key, by digest.
LINT_FILES = ("ruff.toml", ".ruff.toml", ".pre-commit-config.yaml")


def lint_files_digest(root: Path) -> str:
    found = hashlib.sha1()
    for name in LINT_FILES:
        try:
            data = (root / name).read_bytes()
        except OSError:
            continue
        found.update(name.encode() + b"\0" + data + b"\0")
    return found.hexdigest()


def load_config(root: Path, committed: list[tuple[int, str, bytes]] | None = None, *, from_commit: bool = False) -> Config:
    """The configuration for ``root``: the nearest `optimize.toml`, or `pyproject.toml` with
    a `[tool.optimize]` table, from ``root`` up to the repository's top; with
    ``from_commit``, the candidate files of the recorded commit (``committed``, as
    `config_files` lists them). `[tool.black]` / `[tool.ruff]` are read from the nearest
    `pyproject.toml`, as those tools find theirs."""
    files = (committed or []) if from_commit else config_files(root)
    # Nearest first, read only as far as needed: a broken file further up that neither
    # answer needs does not stop the run.
    nearest_pyproject: dict | None = None
    found: tuple[int, str, dict] | None = None
    for depth, name, data in files:
        if found is not None and nearest_pyproject is not None:
            break
        if name == "optimize.toml" and found is not None:
            continue
        parsed = _toml(depth, name, data)
        label = "../" * depth + name
        tool = parsed.get("tool", {}) if name == "pyproject.toml" else {}
        if not isinstance(tool, dict):
            raise ConfigError(f"{label}: tool: expected a table")
        if name == "pyproject.toml" and nearest_pyproject is None:
            nearest_pyproject = tool
        if found is None and (name == "optimize.toml" or "optimize" in tool):
            found = (depth, label, parsed if name == "optimize.toml" else tool["optimize"])
    tool = nearest_pyproject or {}
    ruff = tool.get("ruff")
    config = Config(
        lint_files=lint_files_digest(root),
        uses_black=isinstance(tool.get("black"), dict),
        uses_ruff=isinstance(ruff, dict),
        uses_ruff_format=isinstance(ruff, dict) and isinstance(ruff.get("format"), dict),
    )
    if found is None:
        return config
    depth, label, section = found
    if not isinstance(section, dict):
        raise ConfigError(f"{label}: [tool.optimize] must be a table")
    # Globs are relative to the configuration's directory, paths to ``root``.
    config.base = "/".join(root.resolve().parts[len(root.resolve().parts) - depth :]) + "/" if depth else ""
    return _read_section(config, section)


def _toml(depth: int, name: str, data: bytes) -> dict:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{'../' * depth}{name}: cannot be read: {exc}") from None


def _read_section(config: Config, section: dict) -> Config:
    from optimize.analyzers.checks.registry import by_id as checks_by_id
    from optimize.codemods.registry import by_id

    codemods = {**by_id(), **checks_by_id()}  # codemods and checks take options alike
    for key, value in section.items():
        if key in codemods:
            config.options[key] = _codemod_options(key, value, codemods[key])
        elif key == "enable":
            config.enable = _string_list(value, key)
        elif key == "disable":
            config.disable = _string_list(value, key)
        elif key in ("exclude", "extend-exclude"):
            config.exclude = [*config.exclude, *_patterns(value, key)]
        elif key == "per-file-ignores":
            config.per_file_ignores = _per_file_ignores(value, codemods)
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
