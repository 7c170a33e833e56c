"""What Python source text says before any parser reads it: how deeply its brackets nest,
and where a string literal is left open.

LibCST's native parser recurses once per bracket level and crashes the whole process
(a stack overflow, not an exception) somewhere past a thousand levels. CPython's tokenizer
refuses more than `MAX_NESTING` levels in every version, so no valid file nests deeper:
`scan` finds such a file before it is handed to LibCST. LibCST's tokenizer errors carry
no position; for an unterminated string the scan says where it starts.

The scan knows comments and string literals, with the f-string and t-string grammar of
Python 3.12+ (PEP 701): quotes of any kind may nest inside replacement fields, whose
brackets count like any others, and a replacement field's own brace counts as one level.
It can only over-count on input that is invalid anyway. It also says where each top-level
statement starts (`statement_starts`), so that a file can be parsed one statement at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# CPython's MAXLEVEL: "too many nested parentheses" beyond it.
MAX_NESTING = 200

_PREFIXES = {"", "r", "u", "b", "f", "t", "br", "rb", "fr", "rf", "tr", "rt"}
_OPENING = "([{"
_CLOSING = ")]}"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# What changes the state in code and inside a replacement field; everything else is skipped.
_CODE_STOP = re.compile(r"""[#'"()\[\]{}\\:]""")
_CODE_OR_LINE_STOP = re.compile(r"""[#'"()\[\]{}\\:\r\n]""")  # at the top level: line breaks too
# A line that carries on the statement before it: a clause of a compound statement.
_CLAUSE = re.compile(r"(?:else|elif|except|finally)\b")
_COMMENT_END = re.compile(r"[\r\n]")
_SPEC_STOP = re.compile(r"[{}\r\n]")


@dataclass(frozen=True)
class LexicalFacts:
    """What `scan` found; lines are 1-based."""

    too_deep_line: int | None = None  # where brackets first nest deeper than the limit
    open_string_line: int | None = None  # where the first unterminated string literal starts
    # Offsets of the lines that start a top-level statement, after the first (a decorated
    # definition starts at its first decorator); empty when the scan stopped early.
    statement_starts: tuple[int, ...] = ()


@dataclass
class _Frame:
    """One level of the scan: code, a string literal, a replacement field or its format spec."""

    kind: str  # "code" | "string" | "field" | "spec"
    quote: str = ""  # the closing quote of the string it is (or whose spec it is)
    formatted: bool = False  # an f-string or t-string: braces open replacement fields
    raw: bool = False
    brackets: int = 0  # brackets open in this code or field frame
    stop: re.Pattern[str] | None = None  # what ends a run of plain characters in a string
    start: int = 0  # where a string literal starts


def scan(text: str, limit: int = MAX_NESTING) -> LexicalFacts:
    """Where ``text``'s brackets first nest deeper than ``limit`` (the scan stops there)
    and where its first unterminated string literal starts."""
    lines: list[int] = []
    too_deep, open_string = _scan(text, limit, lines)
    starts = () if too_deep is not None or open_string is not None else _starts(text, lines, "", text.startswith("@"))
    return LexicalFacts(_line_at(text, too_deep), _line_at(text, open_string), starts)


def member_starts(text: str) -> tuple[int, ...]:
    """Where each statement of the body of the compound statement ``text`` starts (a class
    and its methods): the lines at the indentation of its first indented line, read as
    `statement_starts` reads column 0; empty when the body is on the header's line or the
    scan stopped early."""
    lines: list[int] = []
    too_deep, open_string = _scan(text, MAX_NESTING, lines)
    if too_deep is not None or open_string is not None:
        return ()
    indent = next((m.group() for at in lines if (m := _INDENT.match(text, at)) and _starts_statement(text, m.end())), None)
    return () if indent is None else _starts(text, lines, indent, decorated=False)


_INDENT = re.compile(r"[ \t]+")


def _starts(text: str, lines: list[int], indent: str, decorated: bool) -> tuple[int, ...]:
    """Of the lines that begin outside any bracket, string or continuation (``lines``),
    those that start a statement at ``indent``: not a blank line, a comment or a clause
    (`else:`), and not the definition a decorator line before it decorates (``decorated``:
    whether the statement before the first of ``lines`` is a decorator)."""
    found: list[int] = []
    for at in lines:
        if not text.startswith(indent, at) or not _starts_statement(text, at + len(indent)):
            continue
        if not decorated:
            found.append(at)
        decorated = text.startswith("@", at + len(indent))
    return tuple(found)


def _starts_statement(text: str, at: int) -> bool:
    first = text[at : at + 1]
    return bool(first) and first not in " \t\f\r\n#\\" and not _CLAUSE.match(text, at)


def _line_at(text: str, position: int | None) -> int | None:
    return None if position is None else len(_LINE_BREAK.findall(text, 0, position)) + 1


def _string_frame(text: str, at: int) -> _Frame:
    """The string literal whose opening quote is at ``at``."""
    start = at
    while start > 0 and at - start < 2 and text[start - 1].isascii() and text[start - 1].isalpha():
        start -= 1
    prefix = text[start:at].lower()
    if prefix not in _PREFIXES or (start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")):
        prefix = ""  # a name directly before a quote: invalid code, read as a plain string
    quote = text[at] * 3 if text.startswith(text[at] * 3, at) else text[at]
    formatted = "f" in prefix or "t" in prefix
    specials = r"\\\r\n" + re.escape(quote[0]) + ("{}" if formatted else "")
    return _Frame("string", quote, formatted, "r" in prefix, stop=re.compile(f"[{specials}]"), start=start)


def _scan(text: str, limit: int, lines: list[int] | None = None) -> tuple[int | None, int | None]:
    """(offset where nesting first exceeds ``limit``, offset of the first unterminated
    string literal); a string left open is closed where it ends the line, as it is invalid.
    Into ``lines``, the offsets of the lines that begin outside any bracket, string or
    line continuation."""
    stack = [_Frame("code")]
    depth = 0  # brackets and replacement fields open, over every frame
    i, end = 0, len(text)
    open_string: int | None = None

    def close_string() -> None:
        """Pop frames up to and including the innermost string (an unterminated one)."""
        nonlocal depth, open_string
        while len(stack) > 1:
            frame = stack.pop()
            if frame.kind == "field":
                depth -= frame.brackets + 1
            if frame.kind == "string":
                open_string = frame.start if open_string is None else open_string
                return

    def at_end() -> tuple[int | None, int | None]:
        string = next((f for f in stack if f.kind == "string"), None)
        if string is not None and open_string is None:
            return None, string.start
        return None, open_string

    while i < end:
        frame = stack[-1]
        if frame.kind in ("code", "field"):
            top = lines is not None and len(stack) == 1 and not frame.brackets
            found = (_CODE_OR_LINE_STOP if top else _CODE_STOP).search(text, i)
            if found is None:
                return at_end()
            i = found.start()
            char = text[i]
            if char == "#":
                comment_end = _COMMENT_END.search(text, i)
                i = end if comment_end is None else comment_end.start()
                continue
            if char == "\\":
                i += 3 if text.startswith("\r\n", i + 1) else 2  # a line continuation (or a stray backslash)
                continue
            if char in "\r\n":
                i += 2 if text.startswith("\r\n", i) else 1
                lines.append(i)  # type: ignore[union-attr]
                continue
            if char in "'\"":
                string = _string_frame(text, i)
                stack.append(string)
                i += len(string.quote)
                continue
            if char in _OPENING:
                frame.brackets += 1
                depth += 1
                if depth > limit:
                    return i, open_string
            elif char in _CLOSING:
                if frame.brackets:
                    frame.brackets -= 1
                    depth -= 1
                elif frame.kind == "field" and char == "}":
                    stack.pop()
                    depth -= 1
            elif char == ":" and frame.kind == "field" and not frame.brackets:
                string = next(f for f in reversed(stack) if f.kind == "string")
                stack.append(_Frame("spec", quote=string.quote, stop=_SPEC_STOP))
            i += 1
        elif frame.kind == "string":
            assert frame.stop is not None
            found = frame.stop.search(text, i)
            if found is None:
                return at_end()
            i = found.start()
            char = text[i]
            if char == "\\":
                if frame.formatted and not frame.raw and text.startswith("\\N{", i):
                    named_end = text.find("}", i)  # \N{NAME}: an escape, not a field
                    i = end if named_end < 0 else named_end + 1
                elif frame.formatted and text[i + 1 : i + 2] in ("{", "}"):
                    i += 1  # the brace is read on its own
                else:
                    i += 3 if text.startswith("\r\n", i + 1) else 2  # an escape, or a continued line
            elif char in "\r\n":
                if len(frame.quote) == 1:
                    close_string()
                i += 1
            elif char == "{":
                if text.startswith("{{", i):
                    i += 2
                    continue
                stack.append(_Frame("field"))
                depth += 1
                if depth > limit:
                    return i, open_string
                i += 1
            elif char == "}":
                i += 2 if text.startswith("}}", i) else 1
            elif text.startswith(frame.quote, i):
                stack.pop()
                i += len(frame.quote)
            else:
                i += 1  # one quote of a triple-quoted string's kind
        else:  # the format spec of a replacement field
            assert frame.stop is not None
            found = frame.stop.search(text, i)
            if found is None:
                return at_end()
            i = found.start()
            char = text[i]
            if char == "{":
                stack.append(_Frame("field"))
                depth += 1
                if depth > limit:
                    return i, open_string
            elif char == "}":
                stack.pop()  # the spec
                stack.pop()  # its field
                depth -= 1
            elif len(frame.quote) == 1:  # a line break in a single-quoted string: invalid
                close_string()
            i += 1
    return at_end()
