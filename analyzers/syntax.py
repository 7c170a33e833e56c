"""Parsing for facts that does not depend on the version of the running interpreter.

The index reads files with the standard `ast` module, which knows only the syntax of the
Python optimize runs on. A file written for a newer Python (PEP 695 generics and `type`
aliases, PEP 701 f-strings, PEP 750 t-strings, PEP 758 `except A, B:`) is parsed with
LibCST, whose parser knows every version, and lowered to code the host's `ast` accepts
(`optimize.analyzers.lowering`), with its line numbers kept. Only the top-level statements
the host rejects go through LibCST: the others are parsed by the host one by one (LibCST
and the lowering cost a hundred times more; in a codebase written for Python 3.14 a file
may need them for one generic class). A file neither parser accepts is reported with the
line and message that say what is wrong with it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from itertools import pairwise

from optimize.analyzers.lexical import MAX_NESTING, LexicalFacts, member_starts, scan

# LibCST (and the lowering built on it) is imported only for a file the host's parser
# rejects: a process that reads facts (a facts worker) needs neither otherwise, and LibCST
# costs 14 MB and 0.2 s to import.

# Why a valid file nested beyond the interpreter's recursion limit is left out of the run.
TOO_DEEP = "too deeply nested to analyse: skipped"
NOT_DECODABLE = "cannot be parsed: not decodable as its declared or default (UTF-8) encoding"
_INVALID = "not parsed (invalid or Python 2 code)"
_TOO_MANY_BRACKETS = "too many nested parentheses"
_LIBCST_POSITION = re.compile(r"^(?:parser error: )?error at (\d+):(\d+): ")
_MESSAGE_LENGTH = 100
# Whether a file the host rejects is read statement by statement before it is lowered
# whole (off: the whole module is lowered; tests compare the two).
BY_STATEMENT = True


@dataclass(frozen=True)
class Unparsable:
    """Why a file has no syntax tree, and the line the problem is on (None when no one
    line is to blame: an undecodable or too deeply nested file)."""

    reason: str
    line: int | None = None


def nested_too_deeply(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised while handling, a RecursionError: LibCST's
    metadata providers can turn one into a KeyError on their way out."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, RecursionError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def parse_for_facts(path: str, source: bytes) -> ast.Module | Unparsable:
    """``source``'s `ast`, in syntax the running interpreter knows.

    The host's `ast.parse` first; a file it rejects is parsed with LibCST and its tree
    lowered (see `optimize.analyzers.lowering`), so a file written for Python 3.12-3.14
    gives its models, functions and calls, on their own lines, on any Python."""
    try:
        return ast.parse(source, filename=path)
    except SyntaxError as exc:
        host_error = exc
    except RecursionError:
        return Unparsable(TOO_DEEP)
    except (ValueError, MemoryError) as exc:  # e.g. a null byte
        return Unparsable(f"cannot be parsed: {type(exc).__name__}")
    text = _decoded(source)
    if text is None:
        return Unparsable(NOT_DECODABLE)
    if _TOO_MANY_BRACKETS in str(host_error.msg):
        return _syntax_error(host_error.lineno, _TOO_MANY_BRACKETS)
    # LibCST's native parser crashes the process on brackets nested a thousand deep, and
    # no Python accepts more than MAX_NESTING: such a file never reaches it.
    lexical = scan(text, MAX_NESTING)
    if lexical.too_deep_line is not None:
        return _syntax_error(lexical.too_deep_line, _TOO_MANY_BRACKETS)
    import libcst as cst

    from optimize.analyzers.lowering import lower_for_host

    if BY_STATEMENT and lexical.statement_starts:
        tree = _by_statement(path, text, lexical.statement_starts)
        if tree is not None:
            return tree
    try:
        lowered = lower_for_host(cst.parse_module(source))
    except cst.ParserSyntaxError as exc:
        return _libcst_error(text, lexical, exc, host_error)
    except Exception as exc:  # noqa: BLE001 - LibCST raises several types for input it cannot handle
        if nested_too_deeply(exc):
            return Unparsable(TOO_DEEP)
        return _host_error(host_error)  # LoweringError included: what the host said stands
    try:
        return ast.parse(lowered, filename=path)
    except SyntaxError as exc:  # LibCST accepts it, but no Python does: the lines are kept
        return _host_error(exc)
    except RecursionError:
        return Unparsable(TOO_DEEP)
    except (ValueError, MemoryError) as exc:
        return Unparsable(f"cannot be parsed: {type(exc).__name__}")


def _by_statement(path: str, text: str, starts: tuple[int, ...]) -> ast.Module | None:
    """The module's tree, read one top-level statement at a time (``starts``: where each
    but the first begins, `lexical.statement_starts`): the host parses those it accepts,
    LibCST and the lowering the others, each tree moved to its statement's lines. The same
    tree as the whole module lowered (`tests/analyzers/test_syntax.py`); None when a
    statement cannot be read on its own, for the whole module to be lowered instead."""
    body: list[ast.stmt] = []
    lines_before = 0
    bounds = (0, *starts, len(text))
    for start, end in pairwise(bounds):
        chunk = text[start:end]
        tree = _parsed(path, chunk)
        if tree is None and _CLASS.match(chunk):
            tree = _class_by_member(path, chunk)
        if tree is None:
            tree = _lowered(path, chunk)
        if tree is None:
            return None
        ast.increment_lineno(tree, lines_before)
        body.extend(tree.body)
        lines_before += _line_breaks(chunk)
    return ast.Module(body=body, type_ignores=[])


# A class statement, after decorators of one line each.
_CLASS = re.compile(r"(?:@[^\r\n]*\r?\n)*class\b")


def _class_by_member(path: str, chunk: str) -> ast.Module | None:
    """A class statement's tree, read one member at a time: its header with each member
    of its body, the host parsing those it accepts, LibCST and the lowering the others
    (in a class of a hundred methods, the one with a Python 3.12 f-string). None when a
    member cannot be read that way."""
    starts = member_starts(chunk)
    if not starts:
        return None
    header = chunk[: starts[0]]
    header_lines = _line_breaks(header)
    members: list[ast.stmt] = []
    cls: ast.ClassDef | None = None
    bounds = (*starts, len(chunk))
    for start, end in pairwise(bounds):
        snippet = header + chunk[start:end]
        tree = _parsed(path, snippet) or _lowered(path, snippet)
        if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.ClassDef):
            return None
        cls = cls or tree.body[0]
        shift = _line_breaks(chunk[:start]) - header_lines
        for node in tree.body[0].body:
            members.append(ast.increment_lineno(node, shift))
    assert cls is not None
    cls.body = members
    cls.end_lineno, cls.end_col_offset = members[-1].end_lineno, members[-1].end_col_offset
    return ast.Module(body=[cls], type_ignores=[])


def _parsed(path: str, code: str) -> ast.Module | None:
    try:
        return ast.parse(code, filename=path)
    except (SyntaxError, RecursionError, ValueError, MemoryError):
        return None


def _lowered(path: str, code: str) -> ast.Module | None:
    import libcst as cst

    from optimize.analyzers.lowering import lower_for_host

    try:
        return ast.parse(lower_for_host(cst.parse_module(code)), filename=path)
    except Exception:  # noqa: BLE001 - whatever it is, the whole module says it better
        return None


def _line_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def rewrite_compile_error(data: bytes, path: str, before: bytes) -> str | None:
    """Why ``data``, a rewrite of ``before``, is not valid code (None when it is).

    The running interpreter compiles it, as it did every rewrite. A file it could not
    compile even before the rewrite is written for a newer Python (PEP 695 generics,
    `except A, B:`): such a rewrite is checked by LibCST's parser, which knows every
    version, and by compiling the rewrite lowered to this interpreter's syntax."""
    problem = _host_compile_error(data, path)
    if problem is None or _host_compile_error(before, path) is None:
        return problem
    return _newer_syntax_compile_error(data, path)


def _host_compile_error(data: bytes | str, path: str) -> str | None:
    try:
        compile(data, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _newer_syntax_compile_error(data: bytes, path: str) -> str | None:
    import libcst as cst

    from optimize.analyzers.lowering import LoweringError, lower_for_host

    try:
        lowered = lower_for_host(cst.parse_module(data))
    except cst.ParserSyntaxError as exc:
        return f"ParserSyntaxError: {_short(exc.message)}"
    except LoweringError as exc:
        return f"LoweringError: {exc}"
    except Exception as exc:  # noqa: BLE001 - LibCST raises several types for input it cannot handle
        return f"{type(exc).__name__}: {exc}"
    return _host_compile_error(lowered, path)


def _decoded(source: bytes) -> str | None:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return source.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


def _syntax_error(line: int | None, message: str) -> Unparsable:
    return Unparsable(f"syntax error at line {line}: {_short(message)}: {_INVALID}", line)


def _host_error(exc: SyntaxError) -> Unparsable:
    return _syntax_error(exc.lineno, str(exc.msg))


def _libcst_error(
    text: str, lexical: LexicalFacts, exc: cst.ParserSyntaxError, host_error: SyntaxError
) -> Unparsable:
    """The syntax error of a file neither parser accepts.

    LibCST got past everything the host's parser rejects for being too new, so its error
    is the one in the file; when both point at the same line, the host's message (the
    clearer: "Missing parentheses in call to 'print'") is given."""
    found = _LIBCST_POSITION.match(exc.message)
    if found is None:
        # A tokenizer error, which LibCST gives no position: the scan of the text finds an
        # unterminated string; for anything else the host's error is the best there is.
        if "unterminated" not in exc.message or lexical.open_string_line is None:
            return _host_error(host_error)
        line, message = lexical.open_string_line, exc.message
    else:
        line = _offending_line(text, int(found.group(1)), int(found.group(2)))
        message = exc.message[found.end() :]
    if line == host_error.lineno:
        return _host_error(host_error)
    return _syntax_error(line, message)


def _offending_line(text: str, line: int, column: int) -> int:
    """The line of the token before position ``line``:``column``: LibCST reports the token
    after the one it could not accept. Blank and comment-only lines are skipped."""
    lines = re.split(r"\r\n|\r|\n", text)
    if not 1 <= line <= len(lines):
        return line
    if lines[line - 1][:column].strip():
        return line
    previous = line - 1
    while previous >= 1 and (not lines[previous - 1].strip() or lines[previous - 1].lstrip().startswith("#")):
        previous -= 1
    return previous if previous >= 1 else line


def _short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _MESSAGE_LENGTH else message[: _MESSAGE_LENGTH - 3].rstrip(" ,") + "..."
