"""`findall` over the module being planned, answered from one listing of its nodes.

LibCST's `matchers.findall` visits the subtree it is given with a visitor, and a visitor
rebuilds every node it passes (`_visit_and_replace_children` constructs the node again even
when nothing changes). The codemods and the analyzers ask for the calls, names, loops and
assignments of the same function bodies many times over (on one 700-file application, 6,182
calls: a sixth of its scan). Here the module is listed once, in the order LibCST visits it,
with the nodes of each class by their place in that list and each node's descendants as a
range of it, and `findall` answers from the listing: the same nodes in the same order
(`tests/analyzers/test_cst_find.py` compares the two on real modules).

The module is the one `analyzers.parents` was last asked about (every codemod and check
declares it, once per tree); a node outside it (one a codemod built, or of an older tree),
a matcher other than node matchers and their `|`, or a metadata resolver is answered by
LibCST's `findall` itself.
"""

from __future__ import annotations

import inspect
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import fields
from heapq import merge

import libcst as cst
import libcst.matchers as m


class _Listing:
    """A module's nodes in visiting order (pre-order), with where each one's descendants
    end and where each class's nodes are."""

    __slots__ = ("nodes", "ends", "places", "by_class")

    def __init__(self, module: cst.Module) -> None:
        nodes: list[cst.CSTNode] = []
        ends: list[int] = []
        places: dict[int, int] = {}
        by_class: dict[str, list[int]] = {}
        # (node, -1) to list a node, (node, its place) to close its range once its
        # descendants are listed.
        todo: list[tuple[cst.CSTNode, int]] = [(module, -1)]
        pop, push = todo.pop, todo.append
        while todo:
            node, listed = pop()
            if listed >= 0:
                ends[listed] = len(nodes)
                continue
            place = len(nodes)
            # One node at two places (never in a parsed module): asked from, it falls back.
            places[id(node)] = -1 if id(node) in places else place
            nodes.append(node)
            ends.append(place + 1)
            by_class.setdefault(type(node).__name__, []).append(place)
            push((node, place))
            for child in reversed(_children(node)):
                push((child, -1))
        self.nodes, self.ends, self.places, self.by_class = nodes, ends, places, by_class

    def range_of(self, node: cst.CSTNode) -> tuple[int, int] | None:
        place = self.places.get(id(node))
        if place is None or place < 0 or self.nodes[place] is not node:
            return None
        return place, self.ends[place]


# The fields each node class visits its children from, in the order it visits them, read
# from its `_visit_and_replace_children` (`visit_required(self, "name", ...)`, ...): 81 of
# LibCST's 172 node classes declare their fields in another order. `node.children` gives the
# same order by rebuilding the node, at three times the cost; it stays the answer for a
# class whose source cannot be read.
_VISITED = re.compile(r'visit_\w+\(\s*self,\s*"(\w+)"')
_FIELDS: dict[type, tuple[str, ...] | None] = {}
_MISSING = object()


def _children(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    kind = type(node)
    try:
        names = _FIELDS[kind]
    except KeyError:
        names = _FIELDS[kind] = _visited_fields(kind)
    if names is None:
        return node.children
    found: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name, _MISSING)
        if value is _MISSING:  # a LibCST whose visit names what is not a field
            _FIELDS[kind] = None
            return node.children
        if isinstance(value, cst.CSTNode):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(item for item in value if isinstance(item, cst.CSTNode))
    return found


def _visited_fields(kind: type) -> tuple[str, ...] | None:
    try:
        source = inspect.getsource(kind._visit_and_replace_children)  # type: ignore[attr-defined]
    except (OSError, TypeError):
        return None
    return tuple(dict.fromkeys(_VISITED.findall(source)))


_DO_NOT_CARE = type(m.DoNotCare())
_module: cst.Module | None = None
_listing: _Listing | None = None


def planning(module: cst.Module) -> None:
    """``module`` is the tree the codemods and checks now read (listed on first use)."""
    global _module, _listing
    if module is not _module:
        _module, _listing = module, None


def findall(tree: cst.CSTNode, matcher: m.BaseMatcherNode, **kwargs) -> Sequence[cst.CSTNode]:
    """`libcst.matchers.findall`, from the listing where it can be."""
    classes = None if kwargs else _classes(matcher)
    span = None if classes is None else _span(tree)
    if span is None:
        return m.findall(tree, matcher, **kwargs)
    listing, (start, end) = span
    runs = []
    for name in classes:
        places = listing.by_class.get(name, ())
        low = bisect_left(places, start)
        high = bisect_left(places, end, low)
        if high > low:
            runs.append(places[low:high])
    ordered = runs[0] if len(runs) == 1 else list(merge(*runs)) if runs else []
    nodes = listing.nodes
    if _bare(matcher):
        return [nodes[i] for i in ordered]
    return [nodes[i] for i in ordered if m.matches(nodes[i], matcher)]


def _span(tree: cst.CSTNode) -> tuple[_Listing, tuple[int, int]] | None:
    global _listing
    if _module is None or not isinstance(tree, cst.CSTNode):
        return None
    if _listing is None:
        _listing = _Listing(_module)
    found = _listing.range_of(tree)
    return None if found is None else (_listing, found)


def _classes(matcher: object) -> tuple[str, ...] | None:
    """The node classes ``matcher`` can match, for a node matcher (`m.Call(...)`) or a
    `|` of them; None for any other matcher."""
    if isinstance(matcher, m.OneOf):
        found: list[str] = []
        for option in matcher.options:
            names = _classes(option)
            if names is None:
                return None
            found.extend(n for n in names if n not in found)
        return tuple(found)
    if isinstance(matcher, m.BaseMatcherNode) and type(matcher).__module__ == m.Call.__module__:
        name = type(matcher).__name__
        return (name,) if isinstance(getattr(cst, name, None), type) else None
    return None


def _bare(matcher: object) -> bool:
    """Whether ``matcher`` asks nothing but the class (`m.Call()`, `m.For() | m.CompFor()`)."""
    if isinstance(matcher, m.OneOf):
        return all(_bare(option) for option in matcher.options)
    return all(isinstance(getattr(matcher, f.name), _DO_NOT_CARE) for f in fields(matcher) if f.name != "_metadata")
