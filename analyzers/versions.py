"""The lowest SQLAlchemy version a project allows, read from its dependency files.

A pin in a lock file (poetry.lock, uv.lock, Pipfile.lock, pdm.lock) or an `==` pin wins;
otherwise the lowest lower bound any requirement states (a requirement without one, like
`sqlalchemy<3`, states nothing). Unknown (None) when nothing says.

Requirement strings are PEP 508 and parsed with `packaging`; Poetry's own constraint
syntax (`^2.0.4`, `~2.0`, `2.0.8`, `>=2.0,<3 || ^3`) is read here.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from typing import Iterable, Iterator, Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

NAME = "sqlalchemy"
LOCK_FILES = {"poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock"}
# `(lowest version, exact pin?)`; None when the requirement sets no lower bound.
Bound = tuple[tuple[int, ...], bool]
_POETRY_PART = re.compile(r"^(?P<op>\^|~=|~|>=|>|===|==|=|<=|<|!=)?\s*(?P<ver>[0-9][0-9A-Za-z.*+!-]*)$")


def _release(text: str) -> tuple[int, ...] | None:
    """`2.0.4` -> (2, 0, 4); a pre-release sits just below its release: `2.0.4rc1` ->
    (2, 0, 3) and `2.0.0b1` -> (2, 0, -1), so it never passes for the release itself."""
    try:
        version = Version(text.rstrip(".*").rstrip("."))
    except InvalidVersion:
        return None
    release = tuple(version.release)
    if version.is_prerelease:
        release = (*release[:-1], release[-1] - 1)
    return release


def _lower_bound(operator: str, text: str) -> Bound | None:
    """What one clause says about the lowest allowed version."""
    if operator in {"<", "<=", "!="}:
        return None
    release = _release(text)
    if release is None:
        return None
    exact = operator in {"==", "===", "="} and "*" not in text
    return release, exact


def _requirement_bound(line: str) -> Bound | None | bool:
    """The bound a PEP 508 requirement on SQLAlchemy states; False when it is another
    package or not a requirement at all."""
    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        return False
    if canonicalize_name(requirement.name) != NAME:
        return False
    bounds = [_lower_bound(s.operator, s.version) for s in requirement.specifier]
    return _tightest([b for b in bounds if b is not None])


def _tightest(bounds: list[Bound]) -> Bound | None:
    """Clauses of one requirement all hold at once: the highest lower bound is the one."""
    if not bounds:
        return None
    exact = [b for b in bounds if b[1]]
    return exact[0] if exact else max(bounds)


def _poetry_bound(constraint: object) -> Bound | None:
    """`"^2.0.4"`, `{version = ">=2.0,<3", extras = [...]}` or a list of such."""
    if isinstance(constraint, list):
        found = [_poetry_bound(c) for c in constraint]
        return None if not found or None in found else min(found)  # alternatives: the lowest
    if isinstance(constraint, dict):
        constraint = constraint.get("version")
    if not isinstance(constraint, str):
        return None
    alternatives = []
    for alternative in constraint.split("||"):
        bounds = []
        glued = re.sub(r"(\^|~=|~|>=|>|===|==|=|<=|<|!=)\s+", r"\1", alternative.strip())
        for part in re.split(r"[,\s]+", glued):
            match = _POETRY_PART.match(part)
            if match:
                bound = _lower_bound(match.group("op") or "=", match.group("ver"))
                if bound is not None:
                    bounds.append(bound)
        alternatives.append(_tightest(bounds))
    if not alternatives or None in alternatives:
        return None
    return min(alternatives)


def _requirement_lines(text: str) -> Iterator[str]:
    """Requirement lines of a requirements file: comments, options and continuations handled."""
    joined = re.sub(r"\\\r?\n", " ", text)
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if line and not line.startswith("-"):
            yield re.split(r"\s--?\w", line, maxsplit=1)[0].strip()  # `pkg --hash=...`


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _pyproject(text: str) -> Iterator[Bound | None | bool]:
    data = tomllib.loads(text)
    project = data.get("project", {})
    yield from map(_requirement_bound, _strings(project.get("dependencies", [])))
    yield from map(_requirement_bound, _strings(project.get("optional-dependencies", {})))
    yield from map(_requirement_bound, _strings(data.get("dependency-groups", {})))
    poetry = data.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in poetry.get("group", {}).values() if isinstance(g, dict)]
    for table in tables:
        for name, constraint in table.items() if isinstance(table, dict) else []:
            if canonicalize_name(name) == NAME:
                yield _poetry_bound(constraint)


def _setup_cfg(text: str) -> Iterator[Bound | None | bool]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    values = []
    if parser.has_option("options", "install_requires"):
        values.append(parser.get("options", "install_requires"))
    if parser.has_section("options.extras_require"):
        values.extend(v for _, v in parser.items("options.extras_require"))
    for value in values:
        yield from map(_requirement_bound, _requirement_lines(value))


def _lock_pin(name: str, text: str) -> tuple[int, ...] | None:
    if name == "Pipfile.lock":
        data = json.loads(text)
        for section in ("default", "develop"):
            entry = data.get(section, {}).get(NAME)
            if isinstance(entry, dict) and "version" in entry:
                return _release(str(entry["version"]).lstrip("=<>~^ "))
        return None
    for package in tomllib.loads(text).get("package", []):
        if canonicalize_name(str(package.get("name", ""))) == NAME and "version" in package:
            return _release(str(package["version"]))
    return None


def _bounds(name: str, text: str) -> Iterable[Bound | None | bool]:
    if name == "pyproject.toml":
        return _pyproject(text)
    if name == "setup.cfg":
        return _setup_cfg(text)
    return map(_requirement_bound, _requirement_lines(text))


def sqlalchemy_minimum(files: Mapping[str, bytes]) -> tuple[int, ...] | None:
    """The minimum SQLAlchemy version the project allows, or None if unknown."""
    pins: list[tuple[int, ...]] = []
    bounds: list[tuple[int, ...]] = []
    for path, raw in files.items():
        text = raw.decode("utf-8", "replace")
        name = path.rsplit("/", 1)[-1]
        try:
            if name in LOCK_FILES:
                pin = _lock_pin(name, text)
                if pin:
                    pins.append(pin)
                continue
            found = list(_bounds(name, text))
        except (ValueError, tomllib.TOMLDecodeError, configparser.Error, AttributeError, TypeError):
            continue  # an unreadable file says nothing
        for bound in found:
            if bound is None or bound is False or bound is True:
                continue
            (pins if bound[1] else bounds).append(bound[0])
    if pins:
        return min(pins)
    return min(bounds) if bounds else None
