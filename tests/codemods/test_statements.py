"""Dropping statements from a block (`optimize.codemods.statements`): comments stay with the
code unless they described only what was dropped; an emptied block holds `pass`."""

from __future__ import annotations

import textwrap

import libcst as cst

from optimize.codemods.statements import without_statements


def drop(source: str, names: set[str], comments_go=None) -> str:
    module = cst.parse_module(textwrap.dedent(source))
    function = module.body[0]
    assert isinstance(function, cst.FunctionDef) and isinstance(function.body, cst.IndentedBlock)
    block = function.body
    dropped = {
        id(s) for s in block.body
        if isinstance(s, cst.SimpleStatementLine) and cst.Module([]).code_for_node(s.body[0]).split(" ")[0] in names
    }
    new = without_statements(block, block, dropped, comments_go)
    return module.with_changes(body=[function.with_changes(body=new)]).code


def test_comments_above_a_dropped_statement_move_down_and_to_the_end() -> None:
    out = drop(
        """
        def f():
            # about a
            a = 1
            # about b
            b = 2
            # about c
            c = 3
        """,
        {"a", "c"},
    )
    assert out == textwrap.dedent(
        """
        def f():
            # about a
            # about b
            b = 2
            # about c
        """
    )


def test_a_comment_that_described_the_dropped_run_goes_and_an_empty_block_holds_pass() -> None:
    out = drop(
        """
        def f():
            # load them
            a = 1
            b = 2
        """,
        {"a", "b"},
        comments_go=lambda comments, following: following is None,
    )
    assert out == textwrap.dedent(
        """
        def f():
            pass
        """
    )
