"""LibCST's `AddImportsVisitor`, run on the part of the module it reads.

The imports a codemod schedules (`AddImportsVisitor.add_needed_import`) are added after it
by LibCST's `AddImportsVisitor`, which reads and edits only the module's leading import
block: the statements before the first one that is not an import (past a docstring or a
``__strict__`` flag), and the leading lines of that first other statement (it makes sure an
empty line separates it from the imports). Yet it walks the whole module three times (a
copy for its metadata, a pass that gathers the top imports, the transform), which on a
rewritten file cost more than the codemod itself.

`add_imports` hands it a module cut after that block: the first statement, the imports
that follow it, and a ``pass`` standing in for the first other statement with that
statement's leading lines. It then puts the rest back, and the leading lines the visitor
chose onto the statement the stand-in held the place of. The visitor decides the same
way on the cut module, since everything it looks at is there unchanged, so the result is
the same module (`tests/codemods/test_top_imports.py` compares the two on every example
and on real modules).
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor


def _is_import_line(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )


def add_imports(context: CodemodContext, tree: cst.Module) -> cst.Module:
    """``tree`` with the imports scheduled in ``context``, as `AddImportsVisitor` adds them."""
    body = tree.body
    # The first statement stays whole: it may be the docstring or `__strict__` flag the
    # visitor skips, or the statement it inserts the imports before.
    end = 1
    while end < len(body) and _is_import_line(body[end]):
        end += 1
    if end >= len(body):
        return AddImportsVisitor(context).transform_module(tree)
    first_other = body[end]
    stand_in = cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=first_other.leading_lines)
    cut = tree.with_changes(body=[*body[:end], stand_in])
    added = AddImportsVisitor(context).transform_module(cut)
    placed = added.body[-1]
    if not isinstance(placed, cst.SimpleStatementLine) or not isinstance(placed.body[0], cst.Pass):
        # Not the shape the visitor is known to leave: let it read the whole module.
        return AddImportsVisitor(context).transform_module(tree)
    first_other = first_other.with_changes(leading_lines=placed.leading_lines)
    return added.with_changes(body=[*added.body[:-1], first_other, *body[end + 1 :]])
