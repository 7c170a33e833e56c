"""Which top-level packages the project ships together, read from its build configuration.

A repository's root `pyproject.toml` or `setup.cfg` may declare the packages of its
distribution: installed, they are importable side by side, so one of them can import a
module of another. Read here:

- setuptools: `[tool.setuptools] packages` (with `package-dir`), `[tool.setuptools.packages.find]`
  `where` (and `include`), and setup.cfg's `[options] packages` / `package_dir` /
  `[options.packages.find]`;
- poetry: `[tool.poetry] packages = [{include = "app", from = "src"}]`;
- hatch: `[tool.hatch.build.targets.wheel] packages = ["src/app"]`;
- flit: `[tool.flit.module] name`.

The answer is a tuple of repository directories (`src/app`), in the order declared; only
directories that are packages in the repository (they hold `__init__.py`) are kept, and a
declaration this reader does not understand gives no packages rather than a guess.
"""

from __future__ import annotations

import configparser
import fnmatch
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.replace(",", "\n").splitlines() if v.strip()]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _top(name: str, base: str) -> str:
    """`app.sub` under `src` -> `src/app`: the top-level package's directory."""
    return PurePosixPath(base, name.split(".", 1)[0]).as_posix() if base not in ("", ".") else name.split(".", 1)[0]


def _found(where: Iterable[str], include: list[str], packages: frozenset[str]) -> list[str]:
    """Top-level packages a `find` over ``where`` gives: directories with `__init__.py`
    whose parent is a ``where`` directory, filtered by the include globs."""
    out: list[str] = []
    for base in where:
        base = PurePosixPath(base.strip().strip("/") or ".").as_posix()
        for directory in sorted(packages):
            path = PurePosixPath(directory)
            if path.parent.as_posix() != base:
                continue
            if include and not any(fnmatch.fnmatchcase(path.name, g) for g in include):
                continue
            out.append(directory)
    return out


def _from_pyproject(text: str, packages: frozenset[str]) -> list[str]:
    data = tomllib.loads(text)
    tool = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    out: list[str] = []
    setuptools = tool.get("setuptools", {})
    if isinstance(setuptools, dict):
        base = setuptools.get("package-dir", {}).get("", "") if isinstance(setuptools.get("package-dir"), dict) else ""
        declared = setuptools.get("packages")
        if isinstance(declared, list):
            out += [_top(n, base) for n in _names(declared)]
        elif isinstance(declared, dict) and isinstance(declared.get("find"), dict):
            find = declared["find"]
            out += _found(_names(find.get("where", ["."])), _names(find.get("include", [])), packages)
    poetry = tool.get("poetry", {})
    if isinstance(poetry, dict):
        for entry in poetry.get("packages", []) if isinstance(poetry.get("packages"), list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("include"), str):
                out.append(_top(entry["include"].replace("/", "."), str(entry.get("from", ""))))
    wheel = tool.get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {}) if isinstance(tool.get("hatch"), dict) else {}
    if isinstance(wheel, dict):
        out += [PurePosixPath(p).as_posix() for p in _names(wheel.get("packages", []))]
    flit = tool.get("flit", {}).get("module", {}) if isinstance(tool.get("flit"), dict) else {}
    if isinstance(flit, dict) and isinstance(flit.get("name"), str):
        out.append(_top(flit["name"], ""))
    return out


def _from_setup_cfg(text: str, packages: frozenset[str]) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    if not parser.has_option("options", "packages"):
        return []
    base = ""
    if parser.has_option("options", "package_dir"):
        for line in _names(parser.get("options", "package_dir")):
            key, _, value = line.partition("=")
            if key.strip() == "":
                base = value.strip()
    declared = parser.get("options", "packages").strip()
    if declared.startswith("find"):
        where = [base or "."]
        include: list[str] = []
        if parser.has_section("options.packages.find"):
            where = _names(parser.get("options.packages.find", "where", fallback=base or ".")) or where
            include = _names(parser.get("options.packages.find", "include", fallback=""))
        return _found(where, include, packages)
    return [_top(n, base) for n in _names(declared)]


def declared_packages(project_files: Mapping[str, bytes], packages: frozenset[str]) -> tuple[str, ...]:
    """The top-level package directories the root build configuration declares, in order,
    that are packages in the repository (``packages``: directories holding `__init__.py`).
    A file that cannot be read declares nothing."""
    found: list[str] = []
    readers = (("pyproject.toml", _from_pyproject), ("setup.cfg", _from_setup_cfg))
    for name, reader in readers:
        raw = project_files.get(name)
        if raw is None:
            continue
        try:
            found += reader(raw.decode("utf-8", "replace"), packages)
        except (tomllib.TOMLDecodeError, configparser.Error, AttributeError, TypeError, ValueError):
            continue
    out: list[str] = []
    for directory in found:
        directory = directory.strip("/")
        if directory in packages and directory not in out:
            out.append(directory)
    return tuple(out)
