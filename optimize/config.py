"""`[tool.optimize]` in the target repository's pyproject.toml.

```toml
[tool.optimize]
disable = ["pool-overflow"]        # or enable = [...] to run only those
exclude = ["migrations/**"]        # globs, relative to the repository root
max-file-size = 1_000_000          # bytes; larger files are skipped with a notice
jobs = 4                           # processes that plan files (default: one per CPU)

[tool.optimize.pool-overflow]      # per-codemod options
target = 30
```
Values are data: nothing here is evaluated.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimize.errors import ConfigError

_TOP_KEYS = {"enable", "disable", "exclude", "jobs", "max-file-size"}


@dataclass
class Config:
    enable: list[str] | None = None
    disable: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    max_file_size: int = 1_000_000
    jobs: int | None = None  # None: one per available CPU
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    uses_black: bool = False


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


def load_config(root: Path) -> Config:
    from optimize.codemods.registry import by_id

    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return Config()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"pyproject.toml: cannot be read: {exc}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError("pyproject.toml: tool: expected a table")
    section = tool.get("optimize", {})
    config = Config(uses_black=isinstance(tool.get("black"), dict))
    if not isinstance(section, dict):
        raise ConfigError("[tool.optimize] must be a table")
    codemods = by_id()
    for key, value in section.items():
        if key in codemods:
            if not isinstance(value, dict):
                raise ConfigError(f"[tool.optimize] {key}: expected a table of options")
            known = codemods[key].OPTIONS
            for opt, opt_value in value.items():
                if opt not in known:
                    raise ConfigError(
                        f"[tool.optimize.{key}] {opt}: unknown option"
                        + (f" (known: {', '.join(sorted(known))})" if known else " (it takes none)")
                    )
                expected = _option_type_error(known[opt], opt_value)
                if expected:
                    raise ConfigError(f"[tool.optimize.{key}] {opt}: expected {expected}")
            config.options[key] = dict(value)
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
        elif key == "jobs":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError("[tool.optimize] jobs: expected a positive integer")
            config.jobs = value
        else:
            raise ConfigError(
                f"[tool.optimize] {key}: unknown key (known: {', '.join(sorted(_TOP_KEYS))}, or a codemod id)"
            )
    for key in ("enable", "disable"):
        for cid in getattr(config, key) or []:
            if cid not in codemods:
                raise ConfigError(f"[tool.optimize] {key}: unknown codemod id {cid!r}")
    return config
