"""Which class field a settings attribute chain reads, e.g. `settings.database.max_overflow`.

The chain is resolved through the index alone: the head through the module's imports and
module-level names (`settings = Settings()`, `settings = get_settings()`, or a call
`get_settings()`), each further attribute through the annotated type of the field before
it (`database: DatabaseSettings`), down to the last field (`max_overflow: int = 5`).
Anything the index cannot tie to exactly one class gives a reason instead of a guess.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

from optimize.analyzers.facts import ClassField, FileFacts, collect_file_facts

_MAX_DEPTH = 8
# `Optional[X]`, `X | None`, `"X"`: the class a field holds.
_OPTIONAL = re.compile(r"^(?:typing\.)?Optional\[(.+)\]$")


@dataclass(frozen=True)
class Lookup:
    """The field a chain reads, or why it cannot be told (``field`` None)."""

    field: ClassField | None
    reason: str = ""


@dataclass(frozen=True)
class _Class:
    facts: FileFacts
    name: str

    def fields(self) -> dict[str, ClassField]:
        return {c.name: c for c in self.facts.class_fields if c.cls == self.name}


def split_chain(chain: str) -> tuple[str, bool, list[str]] | None:
    """`get_settings().api.debug` -> ("get_settings", True, ["api", "debug"])."""
    head, *rest = chain.split(".")
    called = head.endswith("()")
    head = head[:-2] if called else head
    if not head.isidentifier() or not all(p.isidentifier() for p in rest):
        return None
    return head, called, rest


def resolve_setting(index, path: str, chain: str, source: str | None = None) -> Lookup:
    """The field ``chain`` (as written in the module at ``path``) reads. ``source`` is the
    module's current text, read when the index does not hold ``path``."""
    parts = split_chain(chain)
    if parts is None or not parts[2]:
        return Lookup(None, f"{chain} is not an attribute chain")
    head, called, attributes = parts
    facts = index.facts.get(path)
    if facts is None and source is not None:
        facts = _facts_of(path, source)
    if facts is None:
        return Lookup(None, f"{path} is not indexed")
    if head in facts.imports:
        qualified = facts.imports[head]
    elif head in facts.instances or head in _classes(facts) or f"{facts.module}.{head}" in facts.functions:
        qualified = f"{facts.module}.{head}"
    else:
        return Lookup(None, f"{head} is not a module-level name or import")
    owner = _object_class(index, qualified, called, 0)
    if isinstance(owner, str):
        return Lookup(None, owner)
    for i, attribute in enumerate(attributes):
        field = owner.fields().get(attribute)
        if field is None:
            return Lookup(None, f"{owner.name} has no field {attribute} in the repository")
        if i == len(attributes) - 1:
            return Lookup(field)
        owner = _field_class(index, owner, field)
        if isinstance(owner, str):
            return Lookup(None, owner)
    raise AssertionError("unreachable")


@lru_cache(maxsize=64)
def _facts_of(path: str, source: str) -> FileFacts | None:
    try:
        return collect_file_facts(path, ast.parse(source))
    except (SyntaxError, ValueError, RecursionError):
        return None


def _classes(facts: FileFacts) -> set[str]:
    return {c.cls for c in facts.class_fields}


def _module_facts(index, module: str) -> FileFacts | str:
    exact = [f for f in index.facts.values() if f.module == module]
    found = exact or [f for f in index.facts.values() if f.module.endswith("." + module)]
    if len(found) != 1:
        return f"module {module} is {'not' if not found else 'ambiguously'} in the repository"
    return found[0]


def _object_class(index, qualified: str, called: bool, depth: int) -> _Class | str:
    """The class of the object ``qualified`` names (or of what calling it returns)."""
    if depth > _MAX_DEPTH:
        return f"{qualified}: too many indirections"
    module, _, name = qualified.rpartition(".")
    facts = _module_facts(index, module) if module else "no module"
    if isinstance(facts, str):
        return f"{qualified}: {facts}"
    if name in facts.imports:  # re-exported
        return _object_class(index, facts.imports[name], called, depth + 1)
    if name in _classes(facts):
        return _Class(facts, name)  # an instance, or the class's own attributes
    function = facts.functions.get(f"{facts.module}.{name}")
    if called and function is not None:
        # `get_settings()`: the one settings class the function builds.
        built = [c for c in (_class_named(index, q, depth) for q in sorted(function.calls)) if c]
        if len(built) != 1:
            return f"{name}() does not build exactly one class known to the index"
        return built[0]
    if not called and name in facts.instances:
        return _object_class(index, facts.instances[name], True, depth + 1)
    return f"{qualified} is not a settings object the index knows"


def _class_named(index, qualified: str, depth: int) -> _Class | None:
    module, _, name = qualified.rpartition(".")
    facts = _module_facts(index, module) if module else None
    if not isinstance(facts, FileFacts):
        return None
    if name in facts.imports:
        return _class_named(index, facts.imports[name], depth + 1) if depth < _MAX_DEPTH else None
    return _Class(facts, name) if name in _classes(facts) else None


def _field_class(index, owner: _Class, field: ClassField) -> _Class | str:
    annotation = (field.annotation or "").strip().strip("\"'")
    match = _OPTIONAL.match(annotation)
    if match:
        annotation = match.group(1)
    annotation = re.sub(r"\s*\|\s*None$|^None\s*\|\s*", "", annotation)
    if not annotation.isidentifier() and not all(p.isidentifier() for p in annotation.split(".")):
        return f"{owner.name}.{field.name} has no class annotation"
    if annotation in _classes(owner.facts):
        return _Class(owner.facts, annotation)
    head, _, rest = annotation.partition(".")
    if head in owner.facts.imports:
        qualified = owner.facts.imports[head] + (f".{rest}" if rest else "")
        found = _class_named(index, qualified, 0)
        if found is not None:
            return found
    return f"{owner.name}.{field.name}: class {annotation} is not in the repository"
