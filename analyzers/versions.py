"""The lowest SQLAlchemy version a project allows, read from its dependency files."""

from __future__ import annotations

import re
from typing import Mapping

_SPEC = re.compile(
    r"""(?ix)^\s*["']?sqlalchemy(?:\[[^\]]*\])?\s*(?P<op>==|>=|~=|>)\s*(?P<ver>\d+(?:\.\d+)*)"""
)


def sqlalchemy_minimum(files: Mapping[str, bytes]) -> tuple[int, ...] | None:
    """The minimum version any dependency file pins or requires, or None if unknown."""
    found: list[tuple[int, ...]] = []
    for text in files.values():
        for line in text.decode("utf-8", "replace").splitlines():
            m = _SPEC.match(line.strip().lstrip("-").strip())
            if m:
                found.append(tuple(int(p) for p in m.group("ver").split(".")))
    return min(found) if found else None
