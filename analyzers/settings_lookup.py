"""Which class field a settings attribute chain reads, e.g. `settings.database.max_overflow`.

The chain is resolved through the index alone: the head through the module's imports and
module-level names (`settings = Settings()`, `settings = get_settings()`, or a call
`get_settings()`), each further attribute through the annotated type of the field before
it (`database: DatabaseSettings`), down to the last field (`max_overflow: int = 5`).
Anything the index cannot tie to exactly one class gives a reason instead of a guess.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from optimize.analyzers.annotations import Shape, read_annotation_text
from optimize.analyzers.facts import ClassField, FileFacts, collect_file_facts

_MAX_DEPTH = 8
# `Optional[X]`, `X | None`, `"X"`: the class a field holds.


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
    owner = _object_class(index, qualified, called, 0, path)
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


def _module_facts(index, module: str, near: str | None) -> FileFacts | str:
    """The one indexed file ``module`` names, seen from the file ``near`` (the module
    resolver of the index: package roots, `src/` layouts, relative names by path)."""
    found = index.files_of_module(module, near)
    if len(found) != 1:
        return f"module {module} is {'not' if not found else 'ambiguously'} in the repository"
    return found[0]


def _object_class(index, qualified: str, called: bool, depth: int, near: str | None = None) -> _Class | str:
    """The class of the object ``qualified`` names (or of what calling it returns)."""
    if depth > _MAX_DEPTH:
        return f"{qualified}: too many indirections"
    module, _, name = qualified.rpartition(".")
    facts = _module_facts(index, module, near) if module else "no module"
    if isinstance(facts, str):
        return f"{qualified}: {facts}"
    if name in facts.imports:  # re-exported
        return _object_class(index, facts.imports[name], called, depth + 1, facts.path)
    if name in _classes(facts):
        return _Class(facts, name)  # an instance, or the class's own attributes
    function = facts.functions.get(f"{facts.module}.{name}")
    if called and function is not None:
        # `get_settings()`: the one settings class the function builds.
        built = [c for c in (_class_named(index, q, depth, facts.path) for q in sorted(function.calls)) if c]
        if len(built) != 1:
            return f"{name}() does not build exactly one class known to the index"
        return built[0]
    if not called and name in facts.instances:
        return _object_class(index, facts.instances[name], True, depth + 1, facts.path)
    return f"{qualified} is not a settings object the index knows"


def _class_named(index, qualified: str, depth: int, near: str | None = None) -> _Class | None:
    module, _, name = qualified.rpartition(".")
    facts = _module_facts(index, module, near) if module else None
    if not isinstance(facts, FileFacts):
        return None
    if name in facts.imports:
        return _class_named(index, facts.imports[name], depth + 1, facts.path) if depth < _MAX_DEPTH else None
    return _Class(facts, name) if name in _classes(facts) else None


def _field_class(index, owner: _Class, field: ClassField) -> _Class | str:
    ref = read_annotation_text(field.annotation or "", lambda written: index.resolve_name(owner.facts.path, written))
    if ref is None or ref.shape is Shape.MANY:
        return f"{owner.name}.{field.name} has no class annotation"
    found = _class_named(index, ref.qualname, 0, owner.facts.path)
    if found is not None:
        return found
    annotation = field.annotation
    return f"{owner.name}.{field.name}: class {annotation} is not in the repository"


# --- the inverse question: which settings fields the module can read ---------------------

# The pydantic classes whose subclasses read their fields from the environment.
SETTINGS_BASES = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.v1.BaseSettings",
        "pydantic.v1.env_settings.BaseSettings",
    }
)
_NESTING = 3  # `settings.api.debug` is two levels; deeper configuration is rare


@dataclass(frozen=True)
class SettingsFlag:
    """A bool field of a settings object the module can name, and how it reads it."""

    chain: str  # as the module would write it: "settings.api.debug", "get_settings().DEBUG"
    field: ClassField
    root: str  # the settings class, qualified: "app.core.config.Settings"
    attributes: tuple[str, ...]  # ("api", "debug")

    @property
    def head(self) -> str:
        """The module-level name the chain starts from (`settings`, `get_settings`)."""
        return self.chain.split(".", 1)[0].removesuffix("()")


def settings_flags(index, path: str, names: frozenset[str] | set[str], source: str | None = None) -> list[SettingsFlag]:
    """The bool fields named one of ``names`` that the module at ``path`` can read from a
    settings object it names at module level: an instance of a `BaseSettings` subclass
    (`settings`, imported or bound in the module) or a function that builds one
    (`get_settings`, read as `get_settings()`), directly or through nested settings fields
    (`settings.api.debug`), including fields the class inherits from classes in the
    repository. A class itself is not a settings object: its attributes are the defaults,
    not what the environment set."""
    facts = index.facts.get(path)
    if facts is None and source is not None:
        facts = _facts_of(path, source)
    if facts is None:
        return []
    heads: dict[str, str] = dict(facts.imports)
    heads.update({name: f"{facts.module}.{name}" for name in facts.instances})
    for qualname in facts.functions:
        module, _, name = qualname.rpartition(".")
        if module == facts.module:
            heads[name] = qualname
    found: list[SettingsFlag] = []
    for head, qualified in sorted(heads.items()):
        bound = _settings_object(index, qualified, 0, path)
        if bound is None:
            continue
        called, owner = bound
        text = f"{head}()" if called else head
        root = f"{owner.facts.module}.{owner.name}"
        found.extend(_flags_under(index, owner, text, root, (), names, {(owner.facts.path, owner.name)}))
    return found


def _settings_object(index, qualified: str, depth: int, near: str | None = None) -> tuple[bool, _Class] | None:
    """(called, settings class) when ``qualified`` names an instance of a settings class
    (called False) or a function that builds one (called True); None otherwise."""
    if depth > _MAX_DEPTH:
        return None
    module, _, name = qualified.rpartition(".")
    facts = _module_facts(index, module, near) if module else None
    if not isinstance(facts, FileFacts):
        return None
    if name in facts.imports:  # re-exported
        return _settings_object(index, facts.imports[name], depth + 1, facts.path)
    if name in facts.classes:
        return None
    if name in facts.instances:
        owner, called = _object_class(index, facts.instances[name], True, depth + 1, facts.path), False
    elif f"{facts.module}.{name}" in facts.functions:
        owner, called = _object_class(index, f"{facts.module}.{name}", True, depth + 1, facts.path), True
    else:
        return None
    if isinstance(owner, str) or not _is_settings_class(index, owner.facts, owner.name, 0):
        return None
    return called, owner


def _is_settings_class(index, facts: FileFacts, name: str, depth: int) -> bool:
    info = facts.classes.get(name)
    if info is None or depth > _MAX_DEPTH:
        return False
    for base in info.bases:
        if base in SETTINGS_BASES:
            return True
        declared = _declared(index, base, depth, facts.path)
        if declared is not None and _is_settings_class(index, *declared, depth + 1):
            return True
    return False


def _declared(index, qualified: str, depth: int, near: str | None = None) -> tuple[FileFacts, str] | None:
    """(facts, class name) of the class ``qualified`` names, through re-exports."""
    module, _, name = qualified.rpartition(".")
    facts = _module_facts(index, module, near) if module else None
    if not isinstance(facts, FileFacts) or depth > _MAX_DEPTH:
        return None
    if name in facts.imports:
        return _declared(index, facts.imports[name], depth + 1, facts.path)
    return (facts, name) if name in facts.classes else None


def _inherited_fields(index, owner: _Class) -> dict[str, tuple[ClassField, _Class]]:
    """The class's fields and those of its base classes in the repository, each with the
    class that defines it; the nearest definition wins, as in Python's attribute lookup
    (bases in the order written)."""
    fields: dict[str, tuple[ClassField, _Class]] = {}
    pending: list[tuple[_Class, int]] = [(owner, 0)]
    seen: set[tuple[str, str]] = set()
    while pending:
        current, depth = pending.pop(0)
        if (current.facts.path, current.name) in seen or depth > _MAX_DEPTH:
            continue
        seen.add((current.facts.path, current.name))
        for field in current.fields().values():
            fields.setdefault(field.name, (field, current))
        info = current.facts.classes.get(current.name)
        for base in info.bases if info is not None else ():
            declared = _declared(index, base, 0, current.facts.path)
            if declared is not None:
                pending.append((_Class(*declared), depth + 1))
    return fields


def _flags_under(
    index,
    owner: _Class,
    chain: str,
    root: str,
    attributes: tuple[str, ...],
    names: frozenset[str] | set[str],
    seen: set[tuple[str, str]],
) -> list[SettingsFlag]:
    found: list[SettingsFlag] = []
    for name, (field, definer) in sorted(_inherited_fields(index, owner).items()):
        path = (*attributes, name)
        if name in names and (field.annotation == "bool" or isinstance(field.value, bool)):
            found.append(SettingsFlag(f"{chain}.{name}", field, root, path))
            continue
        if len(path) >= _NESTING or not field.annotation:
            continue
        nested = _field_class(index, definer, field)
        if isinstance(nested, str) or (nested.facts.path, nested.name) in seen:
            continue
        found.extend(
            _flags_under(index, nested, f"{chain}.{name}", root, path, names, seen | {(nested.facts.path, nested.name)})
        )
    return found
