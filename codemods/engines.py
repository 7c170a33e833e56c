"""Edits of engine calls for the pool codemods: a keyword added in the call's own layout."""

from __future__ import annotations

import libcst as cst


def _no_comment(ws: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return ws.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return ws


def add_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """Append ``name=value`` to ``call`` in the call's own layout.

    One argument per line stays one per line; a trailing comma stays trailing; a call on
    one line gets ``, name=value``.
    """
    new = cst.Arg(
        keyword=cst.Name(name),
        value=value,
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""),
            whitespace_after=cst.SimpleWhitespace(""),
        ),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    separator = next((a.comma for a in args[:-1] if isinstance(a.comma, cst.Comma)), None)
    if separator is None:
        opening = call.whitespace_before_args
        separator = cst.Comma(
            whitespace_after=opening
            if isinstance(opening, cst.ParenthesizedWhitespace)
            else cst.SimpleWhitespace(" ")
        )
    separator = separator.with_changes(whitespace_after=_no_comment(separator.whitespace_after))
    if isinstance(last.comma, cst.Comma):  # trailing comma: the new argument inherits it
        args[-1] = last.with_changes(comma=separator)
        new = new.with_changes(comma=last.comma)
    else:
        args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
        new = new.with_changes(whitespace_after_arg=last.whitespace_after_arg)
    return call.with_changes(args=[*args, new])
