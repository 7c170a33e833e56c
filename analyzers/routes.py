"""Which LibCST functions are FastAPI endpoints: the decorator rule of `calls.is_route`
(which reads `ast`), for the readers that hold LibCST nodes."""

from __future__ import annotations

import libcst as cst

from optimize.analyzers.calls import ROUTE_DECORATORS


def is_route_decorator(decorator: cst.Decorator) -> bool:
    """`@router.get(...)`, `@app.post(...)`, `@app.websocket(...)`."""
    node = decorator.decorator
    node = node.func if isinstance(node, cst.Call) else node
    return isinstance(node, cst.Attribute) and node.attr.value in ROUTE_DECORATORS


def is_route(function: cst.FunctionDef) -> bool:
    return any(is_route_decorator(d) for d in function.decorators)
