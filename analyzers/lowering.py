"""Code in syntax newer than the running interpreter, lowered to code its `ast` accepts.

The repository index reads files with the `ast` module of the Python that runs optimize.
A file written for a newer Python is parsed with LibCST instead, and its tree is turned
here into text the host's `ast` parses to the same facts. The text is only read (for facts,
or compiled to check a rewrite), never run or written back.

Every line keeps its number, and everything outside a lowered construct keeps its column
(counted in UTF-8 bytes, as `ast` counts them):

- `type Alias[T] = value` (PEP 695) -> `Alias        = value`: the name moves to where
  the statement starts, the value stays where it was;
- the type parameter lists of `def f[T](...)` and `class C[T: int = str]` (PEP 695, 696)
  become blanks;
- `except A, B:` and `except* A, B:` (PEP 758) -> `except(A, B):`;
- a string the host cannot parse (a PEP 701 f-string with nested quotes, backslashes or
  comments in its fields, a PEP 750 t-string) -> a tuple of the expressions of its
  replacement fields, each at its own place: `f"{x!r:>{w}}"` -> `(  x,    w, )`.
  The host's `ast` then sees the calls, names and attributes those expressions hold.

Blanked text keeps its line breaks, each after a backslash so that the logical line goes on
where the removed brackets no longer hold it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

_StringPart = cst.SimpleString | cst.FormattedString | cst.TemplatedString
_Field = cst.FormattedStringExpression | cst.TemplatedStringExpression


class LoweringError(Exception):
    """The tree holds a construct that cannot be lowered safely."""


@dataclass(frozen=True)
class _Edit:
    start: int  # offsets into the module's code
    end: int
    text: str


def lower_for_host(module: cst.Module) -> str:
    """``module``'s code, with the constructs listed above lowered (see the module docstring).

    Raises `LoweringError` when a construct cannot be lowered; a RecursionError (or an
    error raised while handling one) on a tree nested beyond the recursion limit."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    lowering = _Lowering(module)
    wrapper.visit(lowering)
    return _apply(module.code, lowering.edits)


def _apply(code: str, edits: list[_Edit]) -> str:
    pieces, at = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < at:
            raise LoweringError("overlapping edits")
        pieces += [code[at : edit.start], edit.text]
        at = edit.end
    pieces.append(code[at:])
    return "".join(pieces)


def _width(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def blank(text: str, marks: dict[int, str] | None = None) -> str:
    """Spaces as wide (in UTF-8 bytes) as ``text``, its line breaks kept after a backslash;
    ``marks`` puts a punctuation character in place of the one at each given index."""
    marks = marks or {}
    out: list[str] = []
    at = 0
    for line_break in _LINE_BREAK.finditer(text):
        out.append(_blank_line(text, at, line_break.start(), marks))
        out.append("\\" + line_break.group())
        at = line_break.end()
    out.append(_blank_line(text, at, len(text), marks))
    return "".join(out)


def _blank_line(text: str, start: int, end: int, marks: dict[int, str]) -> str:
    out = []
    for index in range(start, end):
        width = _width(text[index])
        mark = marks.get(index)
        out.append(" " * width if mark is None else mark + " " * (width - 1))
    return "".join(out)


def host_accepts_string(text: str) -> bool:
    """Whether the host's `ast` parses the string literal (or concatenation) ``text``."""
    try:
        ast.parse("(" + text + "\n)", mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


class _Lowering(cst.CSTVisitor):
    """Collects the text edits that lower one module (see `lower_for_host`)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self.module = module
        self.code = module.code
        self.line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self.code)]
        self.edits: list[_Edit] = []
        self._string_parts: set[int] = set()  # ids of the parts of strings already seen

    # --- positions ---------------------------------------------------------------------------

    def _span(self, node: cst.CSTNode) -> tuple[int, int]:
        """Offsets of ``node`` in the code (its own parentheses excluded, as LibCST counts)."""
        where: CodeRange = self.get_metadata(PositionProvider, node)
        start = self.line_starts[where.start.line - 1] + where.start.column
        end = self.line_starts[where.end.line - 1] + where.end.column
        return start, end

    def _blank_span(self, start: int, end: int) -> None:
        self.edits.append(_Edit(start, end, blank(self.code[start:end])))

    # --- PEP 695 / 696: type aliases and type parameters -----------------------------------

    def visit_TypeAlias(self, node: cst.TypeAlias) -> bool:
        start, _ = self._span(node)
        _, end = self._span(node.type_parameters if node.type_parameters is not None else node.name)
        name = node.name.value
        # `type X[T] = v` -> `X        = v`: the name takes the keyword's place, the rest of
        # the first line (and any continuation lines) is blanked.
        head, continuation, tail = blank(self.code[start:end]).partition("\\")
        self.edits.append(_Edit(start, end, name + head[_width(name) :] + continuation + tail))
        return True

    def visit_TypeParameters(self, node: cst.TypeParameters) -> bool:
        return False  # blanked whole with the definition that holds it

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node.type_parameters is not None:
            self._blank_span(*self._span(node.type_parameters))
        return True

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if node.type_parameters is not None:
            self._blank_span(*self._span(node.type_parameters))
        return True

    # --- PEP 758: several exception types without parentheses -------------------------------

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> bool:
        self._parenthesize_types(node.type)
        return True

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> bool:
        self._parenthesize_types(node.type)
        return True

    def _parenthesize_types(self, types: cst.BaseExpression | None) -> None:
        if not isinstance(types, cst.Tuple) or types.lpar:
            return
        start, end = self._span(types)
        if start > 0 and self.code[start - 1] in " \t":
            # `except A, B:` -> `except(A, B):`: the space becomes the parenthesis, so the
            # exception types keep their columns.
            self.edits.append(_Edit(start - 1, start, "("))
        else:
            self.edits.append(_Edit(start, start, "("))
        self.edits.append(_Edit(end, end, ")"))

    # --- PEP 701 / 750: strings the host cannot parse ---------------------------------------

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        return self._visit_string(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        return self._visit_string(node)

    def visit_TemplatedString(self, node: cst.TemplatedString) -> bool:
        return self._visit_string(node)

    def _visit_string(self, node: cst.BaseExpression) -> bool:
        if id(node) in self._string_parts:
            return True  # a part of a string handled as a whole: look into its fields
        parts = list(_parts(node))
        self._string_parts.update(id(p) for p in _nodes_of(node))
        start, end = self._span(node)
        if host_accepts_string(self.code[start:end]):
            return False  # so does every string inside it
        kept = [self._expression_span(field) for part in parts for field in _fields(part)]
        self._tuple_of(start, end, kept)
        return True  # strings in the expressions are looked at on their own

    def _expression_span(self, field: _Field) -> tuple[int, int]:
        """Offsets of a replacement field's expression, its own parentheses included. Read
        from the positions, not from `code_for_node`: an expression over several lines
        inside an indented block is printed without the block's indentation."""
        expression = field.expression
        start, end = self._span(expression.lpar[0] if expression.lpar else expression)
        if expression.rpar:
            end = self._span(expression.rpar[-1])[1]
        return start, end

    def _tuple_of(self, start: int, end: int, kept: Sequence[tuple[int, int]]) -> None:
        """Blank ``start``..``end`` but the ``kept`` spans, into `( e1, e2, ...,)`."""
        marks: dict[int, str] = {start: "(", end - 1: ")"}
        gaps = []  # (start, end) of the blanked runs between the kept expressions
        at = start
        for kept_start, kept_end in kept:
            gaps.append((at, kept_start))
            at = kept_end
        gaps.append((at, end))
        for (kept_start, kept_end), (gap_start, gap_end) in zip(kept, gaps[1:]):
            comma = next(
                (i for i in range(gap_start, gap_end) if self.code[i] not in "\r\n" and i not in marks), None
            )
            if comma is None:
                raise LoweringError("no room for a comma after a replacement field")
            marks[comma] = ","
        for gap_start, gap_end in gaps:
            text = self.code[gap_start:gap_end]
            local = {i - gap_start: mark for i, mark in marks.items() if gap_start <= i < gap_end}
            self.edits.append(_Edit(gap_start, gap_end, blank(text, local)))


def _parts(node: cst.BaseExpression) -> Iterator[_StringPart]:
    """The string literals an implicit concatenation is made of, in order."""
    if isinstance(node, cst.ConcatenatedString):
        yield from _parts(node.left)
        yield from _parts(node.right)
    elif isinstance(node, (cst.SimpleString, cst.FormattedString, cst.TemplatedString)):
        yield node


def _nodes_of(node: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The concatenation nodes and string literals of ``node`` (itself included)."""
    yield node
    if isinstance(node, cst.ConcatenatedString):
        yield from _nodes_of(node.left)
        yield from _nodes_of(node.right)


def _fields(part: _StringPart) -> Iterator[_Field]:
    """The replacement fields of a string literal, those nested in format specs included, in
    the order they appear."""
    if isinstance(part, cst.SimpleString):
        return
    yield from _fields_in(part.parts)


def _fields_in(contents: Sequence[cst.CSTNode]) -> Iterator[_Field]:
    for content in contents:
        if isinstance(content, (cst.FormattedStringExpression, cst.TemplatedStringExpression)):
            yield content
            if content.format_spec:
                yield from _fields_in(content.format_spec)
