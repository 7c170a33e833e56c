"""`optimize.codemods.top_imports`: the imports a codemod schedules are added exactly as
LibCST's `AddImportsVisitor` adds them reading the whole module."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from optimize.codemods.top_imports import add_imports
from tests.examples import all_cases, dedent

# (module, name, alias, relative level): each asked alone and all together.
REQUESTS = [
    ("asyncio", None, None, 0),
    ("sqlalchemy", "select", None, 0),
    ("sqlalchemy.orm", "selectinload", None, 0),
    ("typing", "Any", None, 0),
    ("__future__", "annotations", None, 0),
    ("os", None, "operating_system", 0),
    ("helpers", "spawn", None, 1),
]

SHAPES = [
    "",
    "import os\n",
    '"""Doc."""\n',
    '"""Doc."""\nimport os\nx = 1\n',
    "__strict__ = True\nimport os\n\n\ndef f():\n    import typing\n    return typing\n",
    "from __future__ import annotations\n\nimport os\n# a comment\nclass A:\n    pass\n",
    "class First:\n    from typing import Any\n\n\nimport os\n",
    "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nfrom typing import List\nfrom sqlalchemy import func\n\n# leading\n\n"
    "def f():\n    return select(1)\n",
    "from typing import *\nimport asyncio\nif True:\n    import os\n",
    "from . import helpers\nfrom .helpers import other\n\n\nasync def main():\n    await other()\n",
    "x = 1\nimport os\n",
    "import os; import sys\nvalue = os.sep\n",
    "try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
    "import os\r\nimport sys\r\n\r\n\r\ndef f():\r\n    return os\r\n",
]


def _library_modules() -> list[str]:
    sources = []
    for name in ("json.decoder", "libcst.codemod._command", "sqlalchemy.orm.exc", "typer.colors", "asyncio.taskgroups"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            sources.append(Path(spec.origin).read_text(encoding="utf-8"))
    return sources


def _example_modules() -> list[str]:
    return [dedent(case.example.before if hasattr(case.example, "before") else case.example.code) for case in all_cases()]


def _context() -> CodemodContext:
    return CodemodContext(filename="app/services/tasks.py", full_module_name="app.services.tasks", full_package_name="app.services")


def _schedule(context: CodemodContext, requests) -> None:
    for module, name, alias, level in requests:
        AddImportsVisitor.add_needed_import(context, module, name, alias, level)


def _same(tree: cst.Module, requests) -> bool:
    whole, cut = _context(), _context()
    _schedule(whole, requests)
    _schedule(cut, requests)
    return add_imports(cut, tree).code == AddImportsVisitor(whole).transform_module(tree).code


@pytest.mark.parametrize("requests", [[r] for r in REQUESTS] + [REQUESTS], ids=lambda r: "+".join(x[0] for x in r))
def test_each_request_on_each_shape_of_module_head(requests) -> None:
    for source in SHAPES:
        assert _same(cst.parse_module(source), requests), source


def test_the_examples_and_library_modules_come_out_the_same() -> None:
    """Every codemod example and a few real modules, with every request at once."""
    compared = 0
    for source in [*dict.fromkeys(_example_modules()), *_library_modules()]:
        try:
            tree = cst.parse_module(source)
        except cst.ParserSyntaxError:
            continue
        assert _same(tree, REQUESTS), source[:200]
        compared += 1
    assert compared > 100
