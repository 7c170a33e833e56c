"""Which module each file of the repository is, and which file an import means.

A file's module name is its path below a directory on the interpreter's search path (a
*root*): `src/app/models.py` is `app.models` when `src/` is on the path. Which directories
are roots is read from the layout, as the interpreter would find packages:

- a directory that holds a top-level package (a directory with `__init__.py` whose parent
  has none) is a root: `src/` for `src/app/__init__.py`, `backend/` for `backend/app/`,
  each `services/<name>/` for `services/<name>/app/`;
- a directory that holds modules outside any package is a root: `scripts/` for
  `scripts/seed.py`;
- a directory without `__init__.py` is a namespace package, so each non-package directory
  further up is a root as well, giving a further name (`backend.app.models`): which one the
  interpreter really starts from is not in the files, so every such name is a candidate,
  the nearest root first;
- a directory without `__init__.py` inside a package tree (`app/api/` under
  `app/__init__.py`) is a namespace portion of that package, not a root: its modules are
  `app.api.routes`.

Looking a module up by name gives every file it may be; seen from a file (``near``), the
files whose root is one of that file's own ancestors are preferred, so `app.models` from
`services/a/app/routes.py` is `services/a/app/models.py`. Only files under a repository
root that is itself a package (its parent, and so its name, lies outside the repository)
have no root that can be shown: for them a name is matched by its last components.

Every file is also known by its *path name*, its path from the repository root with dots
(`src.app.models`): the per-file facts name a file's own definitions and the targets of
its relative imports that way, since they are computed from one file alone and stay valid
when the layout around it changes.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

Dirs = tuple[str, ...]  # a directory as its path components; () is the repository root


def _is_identifier(part: str) -> bool:
    return part.isidentifier() and not keyword.iskeyword(part)


def _split(path: str) -> tuple[Dirs, str]:
    """(directory components, file stem) of a repository-relative ``.py`` path."""
    parts = PurePosixPath(path).with_suffix("").parts
    return tuple(parts[:-1]), parts[-1] if parts else ""


def _module_parts(path: str) -> tuple[str, ...]:
    """The path's components as a module: `a/b/__init__.py` -> (a, b), `a/c.py` -> (a, c)."""
    dirs, stem = _split(path)
    return dirs if stem == "__init__" else (*dirs, stem)


def path_name(path: str) -> str:
    """The file's path from the repository root with dots: `src/app/__init__.py` ->
    `src.app`. A name for the file whatever the roots are; not always importable."""
    return ".".join(_module_parts(path))


def relative_target(path: str, level: int) -> Dirs | None:
    """The package directory a relative import of ``level`` dots in ``path`` starts from
    (`from .x` and `from ..x`: the file's directory and its parent; a package's
    `__init__.py` counts from its own directory). None above the repository root."""
    dirs, _ = _split(path)
    up = level - 1
    if level < 1 or up > len(dirs):
        return None
    return dirs[: len(dirs) - up]


def split_relative(name: str) -> tuple[int, str]:
    """(level, rest) of a relative name as LibCST spells it: `..models.Task` -> (2,
    `models.Task`); level 0 for an absolute name."""
    rest = name.lstrip(".")
    return len(name) - len(rest), rest


def relative_path_name(path: str, level: int, rest: str) -> str | None:
    """A relative import's target (`rest` is what follows the dots) as a path name, e.g.
    `from ..db import Base` in `src/app/models/task.py` -> `src.app.db.Base`. None when
    it climbs above the repository root."""
    target = relative_target(path, level)
    if target is None:
        return None
    return ".".join([*target, rest] if rest else target)


@dataclass(frozen=True)
class ModuleName:
    """One name a file may be imported by, and the root directory it counts from."""

    name: str
    root: Dirs


@dataclass(frozen=True)
class _Entry:
    path: str
    root: Dirs
    package: bool  # an `__init__.py`: a package wins over a module of the same name


@dataclass
class ModuleMap:
    """Module names of the repository's Python files, built once from their paths."""

    packages: frozenset[Dirs]  # directories holding an `__init__.py`
    names_by_path: dict[str, tuple[ModuleName, ...]]  # candidates, preferred first
    _by_name: dict[str, list[_Entry]] = field(default_factory=dict, repr=False)
    _rootless_by_last: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, paths: Iterable[str]) -> ModuleMap:
        files = sorted({p for p in paths if p.endswith(".py")})
        packages = frozenset(_split(p)[0] for p in files if _split(p)[1] == "__init__")
        modules = cls(packages, {})
        for path in files:
            names = modules.candidates(path)
            modules.names_by_path[path] = names
            package = _split(path)[1] == "__init__"
            for candidate in names:
                modules._by_name.setdefault(candidate.name, []).append(_Entry(path, candidate.root, package))
            own = path_name(path)
            if own and all(c.name != own for c in names):
                modules._by_name.setdefault(own, []).append(_Entry(path, (), package))
            if not names and own and () in packages:
                modules._rootless_by_last.setdefault(own.rpartition(".")[2], []).append(path)
        return modules

    # --- names of files ------------------------------------------------------------------

    def candidates(self, path: str) -> tuple[ModuleName, ...]:
        """Every name ``path`` may be imported by, nearest root first: roots outside any
        package tree, then namespace directories inside one that hold a top-level package.
        Works for a path the map was not built from (a file about to be created)."""
        dirs, _ = _split(path)
        parts = _module_parts(path)
        outside: list[ModuleName] = []
        inside: list[ModuleName] = []
        for k in range(len(dirs), -1, -1):
            root = dirs[:k]
            below = parts[k:]
            # A package is not a root (its parent is); only the part below the root is
            # spelled in an import, so only it must consist of identifiers.
            if root in self.packages or not below or not all(_is_identifier(p) for p in below):
                continue
            in_tree = any(dirs[:j] in self.packages for j in range(k))
            if not in_tree:
                outside.append(ModuleName(".".join(below), root))
            elif k < len(dirs) and dirs[: k + 1] in self.packages:
                inside.append(ModuleName(".".join(below), root))
        return (*outside, *inside)

    def names(self, path: str) -> tuple[str, ...]:
        """The names ``path`` may be imported by, preferred first (see `candidates`)."""
        found = self.names_by_path.get(path)
        return tuple(n.name for n in (found if found is not None else self.candidates(path)))

    def name(self, path: str) -> str | None:
        """The preferred module name of ``path`` (nearest root); None when no root can be
        shown for it."""
        names = self.names(path)
        return names[0] if names else None

    @property
    def roots(self) -> frozenset[Dirs]:
        """The directories the preferred names count from."""
        return frozenset(n[0].root for n in self.names_by_path.values() if n)

    # --- files of names ------------------------------------------------------------------

    def files(self, module: str, near: str | None = None) -> tuple[str, ...]:
        """The files ``module`` (an interpreter name or a path name) may be; seen from the
        file ``near``, the ones under its own roots when there are any."""
        entries = self._by_name.get(module, [])
        if not entries:
            return ()
        entries = _packages_win(entries)
        if near is not None and len(entries) > 1:
            near_dirs, _ = _split(near)
            visible = [e for e in entries if near_dirs[: len(e.root)] == e.root]
            entries = visible or entries
        return tuple(sorted({e.path for e in entries}))

    def fallback_files(self, module: str) -> tuple[str, ...]:
        """Files with no root that may be ``module``: the repository root is a package
        and they lie in its tree, so an import names them with the package's own name in
        front (`myproj.models` for `models.py`) or by their last components."""
        found = []
        for path in self._rootless_by_last.get(module.rpartition(".")[2], ()):
            own = path_name(path)
            if own == module or own.endswith("." + module) or module.endswith("." + own):
                found.append(path)
        return tuple(found)

    def locate(self, qualname: str, near: str | None = None) -> list[tuple[str, str]]:
        """(file, name inside it) for a dotted name: the longest leading part that is a
        module of the repository, and what follows it (`app.models.Task` ->
        [("app/models.py", "Task")]; "" when the whole name is a module). Empty when no
        part is a module of the repository."""
        parts = qualname.split(".")
        if not all(parts):
            return []
        for lookup in (lambda m: self.files(m, near), self.fallback_files):
            for end in range(len(parts), 0, -1):
                found = lookup(".".join(parts[:end]))
                if found:
                    rest = ".".join(parts[end:])
                    return [(path, rest) for path in found]
        return []

    # --- relative imports ----------------------------------------------------------------

    def absolute(self, path: str, relative: str) -> str | None:
        """A relative name in the file ``path`` as an absolute one: `.models.Task` in
        `app/example.py` -> `app.models.Task`. The name counts from the nearest root of
        ``path`` under which the import stays inside a package (a relative import needs
        one: `app/` without `__init__.py` is then a namespace package); a file with no
        root at all gets the path name. An absolute name is returned as it is; None when
        the import climbs above every root of the file (Python refuses it)."""
        level, rest = split_relative(relative)
        if level == 0:
            return relative
        target = relative_target(path, level)
        if target is None:
            return None
        candidates = self.candidates(path)
        for candidate in candidates:
            depth = len(candidate.root)  # the root is an ancestor of the target, as of the file
            if depth < len(target):
                return ".".join([*target[depth:], rest] if rest else target[depth:])
        return None if candidates else relative_path_name(path, level, rest)


def _packages_win(entries: list[_Entry]) -> list[_Entry]:
    """`app/models/__init__.py` shadows `app/models.py` under the same root, as in Python."""
    packages = {e.root for e in entries if e.package}
    return [e for e in entries if e.package or e.root not in packages]

