"""What an SQLAlchemy engine call is: the functions that make engines (SQLAlchemy, SQLModel),
the pools that keep no connections to check or overflow, its URL, and why a call must be
left alone."""

from __future__ import annotations

import libcst as cst

from optimize.analyzers.engine_factories import ENGINE_FACTORIES  # noqa: F401 - re-exported
from optimize.analyzers.engine_options import Codemod, EngineOptions, read_options, value_bound_before

# Pools without checkout validation or without overflow.
NO_PREPING_POOLS = frozenset({"NullPool", "StaticPool"})
NO_OVERFLOW_POOLS = frozenset({"NullPool", "StaticPool", "SingletonThreadPool", "AssertionPool"})


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value if isinstance(node.evaluated_value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = _string_value(node.left), _string_value(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        # The scheme is what matters: `f"sqlite:///{path}"`.
        head = node.parts[0] if node.parts else None
        if isinstance(head, cst.FormattedStringText):
            return head.value
    return None


def url_literal(call: cst.Call, options: EngineOptions | None = None, codemod: Codemod | None = None) -> str | None:
    """The URL string the call is given (the scheme of an f-string), or None; with
    ``codemod``, also through a name bound to one just before in the same scope
    (`sqlite_url = f"sqlite:///{path}"` then `create_engine(sqlite_url)`)."""
    url = options.get("url") if options is not None else None
    if url is not None:
        value = url.value
    else:
        arg = keyword(call, "url")
        if arg is None:
            positional = [a for a in call.args if a.keyword is None and not a.star]
            arg = positional[0] if positional else None
        if arg is None:
            return None
        value = arg.value
    found = _string_value(value)
    if found is None and codemod is not None:
        bound = value_bound_before(value, call, codemod)
        found = None if bound is None else _string_value(bound[1])
    return found


def engine_skip_reason(
    call: cst.Call,
    codemod: Codemod,
    pools: frozenset[str] = NO_PREPING_POOLS,
    options: EngineOptions | None = None,
) -> str | None:
    """Why this engine call must not be changed, or None. ``options`` are the call's
    options (`read_options`), read here when not given."""
    options = read_options(call, codemod) if options is None else options
    if options.unknown:
        return options.unknown
    url = url_literal(call, options, codemod)
    if url is not None and url.lower().startswith("sqlite"):
        return "sqlite URL: the engine keeps no server connection to validate or overflow"
    poolclass = options.get("poolclass")
    if poolclass is not None:
        names = {q.rsplit(".", 1)[-1] for q in codemod.qualified_names(poolclass.value)}
        if not names and isinstance(poolclass.value, (cst.Name, cst.Attribute)):
            node = poolclass.value
            names = {node.value if isinstance(node, cst.Name) else node.attr.value}
        hit = names & pools
        if hit:
            return f"poolclass={min(hit)}{poolclass.where()} keeps no pool for this option"
        if not names:
            return f"poolclass{poolclass.where()} cannot be resolved"
    return None


