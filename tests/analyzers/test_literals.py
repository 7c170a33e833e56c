"""The literal defaults of class fields (`ClassField.value`): read as `ast.literal_eval`
reads them, without the reference cycles it leaves behind while the collector is off."""

from __future__ import annotations

import ast
import gc

import pytest

from optimize.analyzers.facts import _literal
from optimize.analyzers.index import analyse_file

EXPRESSIONS = [
    "5", "-5", "+5", "1.5", "-1.5", "1 + 2j", "1 - 2j", "-1 + 2j", "'text'", "b'raw'", "None", "True", "...",
    "(1, 'a')", "[1, 2]", "{1, 2}", "{1, 1}", "()", "[]", "{}", "set()", "{'a': 1, 'b': 2}", "{'a': 1, 'a': 2}",
    "{'a': [1, 2]}", "((1, 2), (3,))", "[-1, +2]", "{(1, 2)}", "{**extra}", "{'a': 1, **extra}", "[x]", "(x, 1)",
    "{[1]}", "{[1]: 2}", "set([1])", "set(x)", "frozenset()", "dict()", "list()", "f()", "f(1)", "a.b()", "a.b",
    "x", "x[0]", "1 + 2", "2j + 1", "-x", "not True", "~1", "lambda: 1", "x if y else z", "f'{x}'", "[i for i in x]",
    "-'a'", "1 < 2", "a and b", "{'a': (1, x)}", "[set()]", "(set(), 1)", "[set(1)]", "{**{'a': 1}}",
    "[(1, 2) + (3,)]", "[1 + 2j]", "[-True]", "-True", "(set,)", "{'a': {'b': [1, -2.5]}}",
]


def _reference(node: ast.AST) -> tuple[bool, object]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_a_default_is_read_as_literal_eval_reads_it(text: str) -> None:
    node = ast.parse(text, mode="eval").body
    found, expected = _literal(node), _reference(node)
    assert found == expected
    assert type(found[1]) is type(expected[1])  # a tuple stays a tuple, a set a set


def test_no_default_is_none() -> None:
    assert _literal(None) == (False, None)


def test_reading_a_settings_class_leaves_no_garbage_while_the_collector_is_off() -> None:
    source = b"""
class Settings:
    debug: bool = False
    name = "api"
    origins = ["a", "b"]
    limits = {"x": 1, "y": 2}
    ports = (80, 443)
    flags = {1, 2}
    timeout = -1.5
"""
    gc.collect()
    collecting = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        facts = analyse_file("app/config.py", source)
        gc.collect()
        garbage = len(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if collecting:
            gc.enable()
    assert {f.name: f.value for f in facts.class_fields} == {
        "debug": False, "name": "api", "origins": ["a", "b"], "limits": {"x": 1, "y": 2}, "ports": (80, 443),
        "flags": {1, 2}, "timeout": -1.5,
    }
    assert garbage == 0
