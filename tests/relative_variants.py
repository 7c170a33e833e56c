"""The relative-import twin of a codemod example: the same repository, written with
relative imports between its own modules.

`app/example.py` sits in package `app`, so `from app.models import Task` becomes
`from .models import Task` there, and `from app.db import Base` in `app/models/task.py`
becomes `from ..db import Base`. `import app.ws as ws` becomes `from . import ws as ws`;
a bare `import app.ws` (which binds `app`) becomes `from . import ws` with every
`app.ws` in the module spelled `ws`, when `app` is used for nothing else. Imports of
modules outside the example repository are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import PurePosixPath

import libcst as cst
from libcst import matchers
from libcst.helpers import get_full_name_for_node

from optimize.codemods.base import Keep, Rewrite
from tests.examples import EXAMPLE_PATH, dedent

Example = Rewrite | Keep


def own_modules(paths: Iterable[str]) -> set[str]:
    """Dotted names of the repository's modules and of the directories above them (a
    directory is a package, regular or namespace, so `from app import models` is ours)."""
    names: set[str] = set()
    for path in paths:
        parts = list(PurePosixPath(path).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        for end in range(1, len(parts) + 1):
            names.add(".".join(parts[:end]))
    return names


def _package_of(path: str) -> list[str]:
    """The package a file's relative imports start from: its directory."""
    return list(PurePosixPath(path).parent.parts)


def _relative(package: list[str], target: list[str]) -> tuple[int, list[str]] | None:
    """(level, module parts) of ``target`` spelled relative to ``package``; None when they
    share no top-level package (a relative import cannot leave it)."""
    common = 0
    while common < min(len(package), len(target)) and package[common] == target[common]:
        common += 1
    if common == 0:
        return None
    return len(package) - common + 1, target[common:]


def _dotted(parts: list[str]) -> cst.Name | cst.Attribute | None:
    if not parts:
        return None
    node: cst.Name | cst.Attribute = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(node, cst.Name(part))
    return node


class _ToRelative(cst.CSTTransformer):
    """Rewrites absolute imports of the repository's own modules as relative ones."""

    def __init__(self, path: str, own: set[str]) -> None:
        self.package = _package_of(path)
        self.own = own
        self.renamed: dict[str, str] = {}  # `app.ws` -> `ws` after a bare `import app.ws`
        self.changed = False

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        if updated.relative or updated.module is None:
            return updated
        module = get_full_name_for_node(updated.module) or ""
        if module not in self.own:
            return updated
        spelled = _relative(self.package, module.split("."))
        if spelled is None:
            return updated
        level, parts = spelled
        self.changed = True
        return updated.with_changes(relative=[cst.Dot()] * level, module=_dotted(parts))

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.Import):
            return updated
        statement = updated.body[0]
        if len(statement.names) != 1:
            return updated
        alias = statement.names[0]
        module = get_full_name_for_node(alias.name) or ""
        if module not in self.own or "." not in module:
            return updated
        spelled = _relative(self.package, module.rsplit(".", 1)[0].split("."))
        if spelled is None:
            return updated
        level, parts = spelled
        last = module.rsplit(".", 1)[1]
        bound = cst.ImportAlias(cst.Name(last), asname=alias.asname)
        if alias.asname is None:
            self.renamed[module] = last
        self.changed = True
        return updated.with_changes(
            body=[cst.ImportFrom(module=_dotted(parts), names=[bound], relative=[cst.Dot()] * level)]
        )


class _RenameChains(cst.CSTTransformer):
    """`app.ws.manager` -> `ws.manager` after `import app.ws` became `from . import ws`."""

    def __init__(self, renamed: dict[str, str]) -> None:
        self.renamed = renamed

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        name = get_full_name_for_node(original)
        if name in self.renamed:
            return cst.Name(self.renamed[name])
        return updated


def relative_source(path: str, source: str, own: set[str]) -> str | None:
    """``source`` (the module at ``path``) with its imports of ``own`` modules made
    relative; None when there are none or the result would not mean the same."""
    module = cst.parse_module(source)
    converter = _ToRelative(path, own)
    converted = module.visit(converter)
    if not converter.changed:
        return None
    if converter.renamed:
        converted = converted.visit(_RenameChains(converter.renamed))
        # `import app.ws` also bound `app`: any other use of it would now fail.
        heads = {m.split(".")[0] for m in converter.renamed}
        if any(n.value in heads for n in matchers.findall(converted, matchers.Name())):
            return None
    return converted.code


def relative_code(example: Example, code: str, path: str = EXAMPLE_PATH) -> str:
    """``code`` (a module of ``example``'s repository at ``path``) with its imports of the
    repository's modules made relative."""
    own = own_modules([EXAMPLE_PATH, *example.files])
    return relative_source(path, code, own) or code


def relative_variant(example: Example) -> Example | None:
    """The example with every absolute import of its own modules (in the example and in
    its ``files``) made relative, or None when it has none."""
    files = {p: dedent(s) for p, s in example.files.items()}
    own = own_modules([EXAMPLE_PATH, *(p for p in files if p.endswith(".py"))])
    changed_files = {p: relative_source(p, s, own) if p.endswith(".py") else None for p, s in files.items()}
    new_files = {p: changed_files[p] or s for p, s in files.items()}
    if isinstance(example, Rewrite):
        before, after = dedent(example.before), dedent(example.after)
        new_before = relative_source(EXAMPLE_PATH, before, own)
        if new_before is None and not any(changed_files.values()):
            return None
        new_after = relative_source(EXAMPLE_PATH, after, own)
        return replace(example, before=new_before or before, after=new_after or after, files=new_files)
    code = dedent(example.code)
    new_code = relative_source(EXAMPLE_PATH, code, own)
    if new_code is None and not any(changed_files.values()):
        return None
    return replace(example, code=new_code or code, files=new_files)
