"""The lowest SQLAlchemy version a project allows, read from its dependency files.

A pin in a lock file (poetry.lock, uv.lock, Pipfile.lock) or an `==` pin wins; otherwise
the lowest lower bound any requirement states. Unknown (None) when nothing says.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Mapping

_REQUIREMENT = re.compile(
    r"""(?ix)(?:^|["'\s])sqlalchemy(?:\[[^\]]*\])?\s*(?P<op>===|==|>=|~=|>|\^|~)\s*(?P<ver>\d+(?:\.\d+)*)"""
)
_POETRY = re.compile(r"""(?ix)^\s*sqlalchemy\s*=\s*(?:\{[^}]*version\s*=\s*)?["'](?P<op>[\^~>=]*)\s*(?P<ver>\d+(?:\.\d+)*)""")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _lock_pin(name: str, text: str) -> tuple[int, ...] | None:
    try:
        if name == "Pipfile.lock":
            data = json.loads(text)
            for section in ("default", "develop"):
                entry = data.get(section, {}).get("sqlalchemy")
                if entry and "version" in entry:
                    return _version(entry["version"].lstrip("=<>~^ "))
            return None
        data = tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError):
        return None
    for package in data.get("package", []):
        if str(package.get("name", "")).lower() == "sqlalchemy" and "version" in package:
            try:
                return _version(str(package["version"]))
            except ValueError:
                return None
    return None


def sqlalchemy_minimum(files: Mapping[str, bytes]) -> tuple[int, ...] | None:
    """The minimum SQLAlchemy version the project allows, or None if unknown."""
    pins: list[tuple[int, ...]] = []
    bounds: list[tuple[int, ...]] = []
    for name, raw in files.items():
        text = raw.decode("utf-8", "replace")
        base = name.rsplit("/", 1)[-1]
        if base in {"poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock"}:
            pin = _lock_pin(base, text)
            if pin:
                pins.append(pin)
            continue
        for line in text.splitlines():
            line = line.split("#", 1)[0]
            for m in (_REQUIREMENT.search(line), _POETRY.match(line)):
                if not m:
                    continue
                version = _version(m.group("ver"))
                (pins if m.group("op") in {"==", "==="} else bounds).append(version)
    if pins:
        return min(pins)
    return min(bounds) if bounds else None
