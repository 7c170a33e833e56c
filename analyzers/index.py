"""The repository index: cross-file facts computed once per run.

Codemods see one module at a time; what they need to know about the rest of the
repository (which classes are models and how their relationships load, whether a session
factory expires objects on commit, which functions broadcast, which settings field a
`settings.database.max_overflow` refers to, which SQLAlchemy version is allowed) is
collected here with the standard `ast` module and cached by file content.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from optimize.analyzers.facts import (
    ClassField,
    FileFacts,
    FunctionInfo,
    SessionFactory,
    SettingsField,
    collect_file_facts,
)
from optimize.analyzers.models import ModelInfo, RelationshipInfo, merged
from optimize.analyzers.versions import sqlalchemy_minimum

DEFAULT_BROADCAST_PATTERNS = ("broadcast*", "emit_*", "*_broadcast")
_MAX_BASES = 10  # inheritance depth followed
# Why a valid file nested beyond the interpreter's recursion limit is left out of the run.
TOO_DEEP = "too deeply nested to analyse: skipped"


def _suffix_match(full: str, wanted: str) -> bool:
    """`fixtures.app.events.x` answers for `app.events.x` (imports name the package root)."""
    return full == wanted or full.endswith("." + wanted)


@dataclass
class RepoIndex:
    """Everything the codemods may ask about the repository as a whole."""

    facts: dict[str, FileFacts] = field(default_factory=dict)  # path -> facts
    sqlalchemy_min: tuple[int, ...] | None = None
    unparsable: dict[str, str] = field(default_factory=dict)  # path -> why
    _models: dict[str, ModelInfo | None] = field(default_factory=dict, repr=False, compare=False)
    # Lookup tables and answers, built on first use: a repository (or a site-packages) can
    # hold tens of thousands of functions, and the codemods ask about the same names often.
    _tables: "_Tables | None" = field(default=None, repr=False, compare=False)
    _answers: dict[tuple, object] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def empty(cls) -> "RepoIndex":
        return cls()

    @property
    def tables(self) -> "_Tables":
        if self._tables is None:
            self._tables = _Tables.of(self.facts)
        return self._tables

    def _files_of_module(self, module: str) -> list[FileFacts]:
        """Files whose module name ends with ``module`` (see `_suffix_match`)."""
        candidates = self.tables.files_by_last.get(module.rpartition(".")[2], ())
        return [f for f in candidates if _suffix_match(f.module, module)]

    @classmethod
    def build(
        cls,
        files: Mapping[str, bytes],
        project_files: Mapping[str, bytes] | None = None,
        cache: dict[str, FileFacts] | None = None,
    ) -> "RepoIndex":
        """Index Python ``files`` (path -> bytes); ``project_files`` are the
        requirements / lock / pyproject files the SQLAlchemy version is read from."""
        cache = {} if cache is None else cache
        facts: dict[str, FileFacts] = {}
        unparsable: dict[str, str] = {}
        for path, source in files.items():
            key = hashlib.sha1(path.encode() + b"\0" + source).hexdigest()
            if key not in cache:
                found = _analyse(path, source)
                if isinstance(found, str):
                    unparsable[path] = found
                    continue
                cache[key] = found
            facts[path] = cache[key]
        return cls(facts=facts, sqlalchemy_min=sqlalchemy_minimum(project_files or {}), unparsable=unparsable)

    # --- models ------------------------------------------------------------------------------

    @property
    def models(self) -> dict[str, ModelInfo]:
        names = set(self.tables.classes)
        return {n: m for n in sorted(names) if (m := self.model(n)) is not None}

    def model(self, name: str) -> ModelInfo | None:
        """The model class called ``name``, with what its base classes in the repository
        declare (None when unknown or ambiguous)."""
        if name not in self._models:
            found = [m for m in self._resolved_classes(name, 0) if m.mapped]
            self._models[name] = found[0] if len(found) == 1 else None
        return self._models[name]

    def may_name_model(self, source: bytes) -> bool:
        """False only when ``source`` cannot name any model class of the repository: none
        of their names occurs in it as a word. Non-ASCII text is always answered True,
        since an identifier's bytes there need not match its normalised name."""
        pattern = self._memo_model_pattern()
        if pattern is None:
            return False
        if pattern is True or not source.isascii():
            return True
        return pattern.search(source) is not None

    def _memo_model_pattern(self) -> "re.Pattern[bytes] | bool | None":
        """None: no models; True: a model name is not ASCII (every file may name it)."""
        key = ("model-pattern",)
        if key not in self._answers:
            names = sorted(self.models)
            if not names:
                self._answers[key] = None
            elif all(n.isascii() for n in names):
                words = b"|".join(re.escape(n.encode()) for n in names)
                self._answers[key] = re.compile(rb"\b(?:" + words + rb")\b")
            else:
                self._answers[key] = True
        return self._answers[key]  # type: ignore[return-value]

    def model_for(self, qualname: str) -> ModelInfo | None:
        """The model a qualified name (as an import spells it, e.g. `app.models.Task`)
        refers to: a class of that name elsewhere does not answer for it."""
        info = self._declared_class(qualname, 0)
        if info is None:
            return None
        resolved = self._with_bases(info, 0)
        return resolved if resolved.mapped else None

    def _resolved_classes(self, name: str, depth: int) -> list[ModelInfo]:
        declared = self.tables.classes.get(name, [])
        return [self._with_bases(info, depth) for info in declared]

    def _with_bases(self, info: ModelInfo, depth: int) -> ModelInfo:
        bases = []
        for base in info.bases if depth <= _MAX_BASES else ():
            found = self._declared_class(base, 0)
            if found is not None and found is not info:
                bases.append(self._with_bases(found, depth + 1))
        return merged(info, bases)

    def _declared_class(self, qualname: str, depth: int) -> ModelInfo | None:
        """The class a qualified base name refers to, through re-exports; a bare name
        (no import says where it is from) only when one class in the repository has it."""
        module, _, name = qualname.rpartition(".")
        if not module:
            found = self.tables.classes.get(name, [])
            return found[0] if len(found) == 1 else None
        found = []
        for f in self._files_of_module(module):
            if name in f.classes:
                found.append(f.classes[name])
            elif name in f.imports and depth < _MAX_BASES:
                found.append(self._declared_class(f.imports[name], depth + 1))
        found = [c for c in found if c is not None]
        return found[0] if len(found) == 1 else None

    def relationship(self, model: str, attribute: str) -> RelationshipInfo | None:
        info = self.model(model)
        return None if info is None else info.relationships.get(attribute)

    # --- sessions ----------------------------------------------------------------------------

    @property
    def session_factories(self) -> list[SessionFactory]:
        return self.tables.session_factories

    def expire_on_commit_disabled(self) -> bool:
        """True only when there is a session factory and every one sets
        `expire_on_commit=False` (the answer when a session cannot be tied to one)."""
        factories = self.session_factories
        return bool(factories) and all(f.expire_on_commit is False for f in factories)

    def session_factory_for(self, dependency: str) -> SessionFactory | None:
        """The factory a session dependency (e.g. `app.db.get_db`) or factory name uses."""
        for factory in self.session_factories:
            if factory.qualname and _suffix_match(factory.qualname, dependency):
                return factory
        function = self.function(dependency)
        if function is None:
            return None
        used = [
            factory
            for factory in self.session_factories
            if factory.qualname and any(_suffix_match(factory.qualname, c) for c in function.calls)
        ]
        return used[0] if len(used) == 1 else None

    def expires_on_commit(self, dependency: str | None) -> bool:
        """Whether a session from ``dependency`` may expire objects on commit (True when
        it cannot be told: the conservative answer)."""
        if dependency:
            factory = self.session_factory_for(dependency)
            if factory is not None:
                return factory.expire_on_commit is not False
        return not self.expire_on_commit_disabled()

    # --- functions and broadcasts -----------------------------------------------------------

    def function(self, qualname: str) -> FunctionInfo | None:
        """A function or method by a qualified name as an import would spell it; methods of
        module-level instances resolve through the instance's class."""
        key = ("function", qualname)
        if key not in self._answers:
            self._answers[key] = None  # a cycle through instances resolves to nothing
            self._answers[key] = self._function(qualname)
        return self._answers[key]  # type: ignore[return-value]

    def _function(self, qualname: str) -> FunctionInfo | None:
        candidates = self.tables.functions_by_last.get(qualname.rpartition(".")[2], ())
        found = [fn for q, fn in candidates if _suffix_match(q, qualname)]
        if len(found) == 1:
            return found[0]
        if found:
            return None
        owner, _, method = qualname.rpartition(".")
        module, _, instance = owner.rpartition(".")
        if not module:
            return None
        for f in self._files_of_module(module):
            if instance in f.instances:
                cls = f.instances[instance]
                return self.function(f"{cls}.{method}")
        return None

    def is_broadcast(self, qualname: str, patterns: Iterable[str] = DEFAULT_BROADCAST_PATTERNS) -> bool:
        return self.broadcast_reason(qualname, patterns) is not None

    def broadcast_reason(
        self, qualname: str, patterns: Iterable[str] = DEFAULT_BROADCAST_PATTERNS
    ) -> str | None:
        """Why ``qualname`` is a broadcast (sends to websockets or pub/sub, directly or
        through other broadcasts, and writes nothing to the database), or None."""
        function = self.function(qualname)
        if function is None:
            short = qualname.rsplit(".", 1)[-1]
            if any(fnmatch.fnmatchcase(short, p) for p in patterns):
                return f"{short} matches a broadcast name pattern"
            return None
        return self._reason(function, set())

    def _reason(self, function: FunctionInfo, seen: set[str]) -> str | None:
        if self.disqualified(function):
            return None
        return self._sender(function, seen)

    def disqualified(self, function: FunctionInfo) -> str | None:
        """Why ``function`` is not a broadcast even if it sends (None when nothing stops
        it): it writes to the database, or it waits for input, itself or through what it
        calls. A function that receives is a listener that must run while its caller
        holds the connection."""
        if self._memo("writes", function, lambda: self._writer(function, set())):
            return "also writes to the database, so it is not a broadcast"
        received = self._memo("receives", function, lambda: self._receiver(function, set()))
        if received:
            return (
                f"waits for input ({received}): a listener that must run while the "
                "connection is held, not a broadcast"
            )
        return None

    def sender(self, function: FunctionInfo) -> str | None:
        """How ``function`` sends (itself or through what it calls), or None."""
        return self._sender(function, set())

    def _memo(self, kind: str, function: FunctionInfo, compute):
        key = (kind, function.path, function.qualname)
        if key not in self._answers:
            self._answers[key] = compute()
        return self._answers[key]

    def _receiver(self, function: FunctionInfo, seen: set[str]) -> str | None:
        if function.qualname in seen:
            return None
        seen.add(function.qualname)
        if function.receives:
            return function.receives[0]
        return next((r for c in self._callees(function) if (r := self._receiver(c, seen))), None)

    def _callees(self, function: FunctionInfo) -> list[FunctionInfo]:
        def compute() -> list[FunctionInfo]:
            found = (self.function(c) for c in sorted(function.calls))
            return [f for f in found if f is not None and f.qualname != function.qualname]

        return self._memo("callees", function, compute)

    def _writer(self, function: FunctionInfo, seen: set[str]) -> bool:
        """Whether the function writes to the database, itself or through what it calls."""
        if function.qualname in seen:
            return False
        seen.add(function.qualname)
        return bool(function.writes) or any(self._writer(c, seen) for c in self._callees(function))

    def _sender(self, function: FunctionInfo, seen: set[str]) -> str | None:
        if function.qualname in seen:
            return None
        seen.add(function.qualname)
        if function.sends:
            return f"{_short(function.qualname)} sends with {function.sends[0]}"
        for callee in self._callees(function):
            reason = self._sender(callee, seen)
            if reason:
                return f"{_short(function.qualname)} calls {reason}"
        return None

    # --- settings ------------------------------------------------------------------------------

    @property
    def settings_fields(self) -> list[SettingsField]:
        return self.tables.settings_fields

    def class_fields(self, class_name: str) -> dict[str, ClassField]:
        return {c.name: c for c in self.tables.fields_by_class.get(class_name, ())}

    def classes_with_field(self, name: str) -> list[ClassField]:
        return list(self.tables.fields_by_name.get(name, ()))


@dataclass
class _Tables:
    """The index's facts grouped by the names they are looked up by."""

    functions_by_last: dict[str, list[tuple[str, FunctionInfo]]]
    files_by_last: dict[str, list[FileFacts]]
    classes: dict[str, list[ModelInfo]]
    session_factories: list[SessionFactory]
    settings_fields: list[SettingsField]
    fields_by_class: dict[str, list[ClassField]]
    fields_by_name: dict[str, list[ClassField]]

    @classmethod
    def of(cls, facts: Mapping[str, FileFacts]) -> "_Tables":
        tables = cls({}, {}, {}, [], [], {}, {})
        for f in facts.values():
            tables.files_by_last.setdefault(f.module.rpartition(".")[2], []).append(f)
            for q, fn in f.functions.items():
                tables.functions_by_last.setdefault(q.rpartition(".")[2], []).append((q, fn))
            for name, info in f.classes.items():
                tables.classes.setdefault(name, []).append(info)
            tables.session_factories.extend(f.session_factories)
            tables.settings_fields.extend(f.settings_fields)
            for c in f.class_fields:
                tables.fields_by_class.setdefault(c.cls, []).append(c)
                tables.fields_by_name.setdefault(c.name, []).append(c)
        return tables


def _analyse(path: str, source: bytes) -> FileFacts | str:
    """One file's facts, or why it has none."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return _why_unparsable(source, exc)
    except RecursionError:
        return TOO_DEEP
    except (ValueError, MemoryError) as exc:
        return f"cannot be parsed: {type(exc).__name__}"
    try:
        return collect_file_facts(path, tree)
    except RecursionError:
        # Valid code can nest deeper (a long elif chain, chained calls) than the `ast`
        # visitors, which recurse once per level, can follow.
        return TOO_DEEP


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


def _why_unparsable(source: bytes, exc: SyntaxError) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        source.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return "cannot be parsed: not decodable as its declared or default (UTF-8) encoding"
    return f"syntax error at line {exc.lineno}: not parsed (invalid or Python 2 code)"


def _short(qualname: str) -> str:
    return qualname.rsplit(".", 1)[-1]
