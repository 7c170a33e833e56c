"""The repository index: cross-file facts computed once per run.

Codemods see one module at a time; what they need to know about the rest of the
repository (which classes are models and how their relationships load, whether a session
factory expires objects on commit, which functions broadcast, which settings field a
`settings.database.max_overflow` refers to, which SQLAlchemy version is allowed) is
collected here with the standard `ast` module and cached by file content.
"""

from __future__ import annotations

import fnmatch
import gc
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from optimize.analyzers.calls import CallGraph, CallSite
from optimize.analyzers.distribution import declared_packages
from optimize.analyzers.facts import (
    ClassField,
    FileFacts,
    FunctionInfo,
    SessionFactory,
    SettingsField,
    collect_file_facts,
    is_pubsub_type,
)
from optimize.analyzers.facts_key import facts_key
from optimize.analyzers.model_markers import model_marker
from optimize.analyzers.models import ModelInfo, RelationshipInfo, merged, table_names
from optimize.analyzers.modules import ModuleMap
from optimize.analyzers.roles import file_role
from optimize.analyzers.sql import DEFAULT_DIALECT, dialect_of, dialects_named
from optimize.analyzers.syntax import TOO_DEEP, Unparsable, parse_for_facts
from optimize.analyzers.versions import sqlalchemy_minimum

DEFAULT_BROADCAST_PATTERNS = ("broadcast*", "emit_*", "*_broadcast")
_MAX_BASES = 10  # inheritance depth followed
_FEW_MODELS = 32  # up to this many model names, `may_name_model` looks for each first


@dataclass
class RepoIndex:
    """Everything the codemods may ask about the repository as a whole."""

    facts: dict[str, FileFacts] = field(default_factory=dict)  # path -> facts
    sqlalchemy_min: tuple[int, ...] | None = None
    unparsable: dict[str, str] = field(default_factory=dict)  # path -> why
    # Top-level package directories the build configuration ships together (`src/app`).
    distribution: tuple[str, ...] = ()
    sql_dialect: str = DEFAULT_DIALECT  # what raw SQL strings are read as (`analyzers.sql`)
    sql_dialects: frozenset[str] = frozenset()  # every database the project names
    _models: dict[str, ModelInfo | None] = field(default_factory=dict, repr=False, compare=False)
    # Lookup tables and answers, built on first use: a repository (or a site-packages) can
    # hold tens of thousands of functions, and the codemods ask about the same names often.
    _tables: "_Tables | None" = field(default=None, repr=False, compare=False)
    _modules: ModuleMap | None = field(default=None, repr=False, compare=False)
    _answers: dict[tuple, object] = field(default_factory=dict, repr=False, compare=False)
    _calls: "CallGraph | None" = field(default=None, repr=False, compare=False)
    # Answers about one object (the bytes of a file, a class's facts), by its id, each kept
    # with the object: an id is only an id while the object lives, and only in this
    # process, so these are never pickled and each is checked against its object.
    _by_object: dict[tuple, tuple[object, object]] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_by_object"] = {}
        return state

    def _object_answer(self, kind: str, about: object, *rest: object) -> tuple[bool, object]:
        """(found, answer) of the question ``kind`` about ``about``."""
        kept = self._by_object.get((kind, id(about), *rest))
        return (True, kept[1]) if kept is not None and kept[0] is about else (False, None)

    def _keep_object_answer(self, kind: str, about: object, answer: object, *rest: object) -> None:
        self._by_object[(kind, id(about), *rest)] = (about, answer)

    @classmethod
    def empty(cls) -> "RepoIndex":
        return cls()

    @property
    def tables(self) -> "_Tables":
        if self._tables is None:
            self._tables = _Tables.of(self.facts)
        return self._tables

    # --- modules -----------------------------------------------------------------------------

    @property
    def modules(self) -> ModuleMap:
        """Module names of the repository's Python files; files that did not parse count
        too (an `__init__.py` makes its directory a package whatever it holds)."""
        if self._modules is None:
            self._modules = ModuleMap.of([*self.facts, *self.unparsable])
        return self._modules

    def absolute(self, path: str, name: str) -> str | None:
        """``name`` as written in the file ``path`` (LibCST spells a relative import's
        name with its dots, `.models.Task`) as an absolute name (`app.models.Task`);
        an absolute name comes back as it is, None when it climbs above the repository."""
        return self.modules.absolute(path, name)

    def resolve_name(self, path: str, written: str) -> str | None:
        """A module-level name as the file ``path`` spells it (`Task`, `models.Task`),
        through that file's imports and definitions; None when it binds no such name."""
        facts = self.facts.get(path)
        if facts is None or not written:
            return None
        head, _, rest = written.partition(".")
        if head in facts.imports:
            base = facts.imports[head]
        elif head in facts.classes or f"{facts.module}.{head}" in facts.functions:
            base = f"{facts.module}.{head}"
        else:
            return None
        return f"{base}.{rest}" if rest else base

    def files_of_module(self, module: str, near: str | None = None) -> list[FileFacts]:
        """The indexed files ``module`` may be (an import's name or a path name), those
        under the roots of the file ``near`` first (see `ModuleMap.files`)."""
        paths = self.modules.files(module, near) or self.modules.fallback_files(module)
        return [self.facts[p] for p in paths if p in self.facts]

    def _located(self, qualname: str, near: str | None) -> list[tuple[FileFacts, str]]:
        """(file, name inside it) for a dotted name (see `ModuleMap.locate`)."""
        return [(self.facts[p], rest) for p, rest in self.modules.locate(qualname, near) if p in self.facts]

    def _definitions(self, qualname: str, near: str | None, depth: int = 0) -> list[tuple[FileFacts, str]]:
        """(file, name defined there) for what ``qualname`` names, through re-exports:
        a name a module only imports (`from .task import Task` in `models/__init__.py`)
        is looked up in the module it comes from, and a name a module defines wins over
        an import of the same name."""
        found: list[tuple[FileFacts, str]] = []
        for facts, rest in self._located(qualname, near):
            head, _, tail = rest.partition(".")
            if head in facts.imports and not _defines(facts, head):
                if depth < _MAX_BASES:
                    target = facts.imports[head] + (f".{tail}" if tail else "")
                    found.extend(self._definitions(target, facts.path, depth + 1))
            else:
                found.append((facts, rest))
        return found

    cache_key = staticmethod(facts_key)  # what a file's facts are kept under

    @classmethod
    def build(
        cls,
        files: Mapping[str, bytes],
        project_files: Mapping[str, bytes] | None = None,
        cache: dict[str, FileFacts] | None = None,
        sql_dialect: str | None = None,
    ) -> "RepoIndex":
        """Index Python ``files`` (path -> bytes); ``project_files`` are the
        requirements / lock / pyproject files the SQLAlchemy version and the database
        are read from; ``sql_dialect`` is the configured dialect, if any."""
        cache = {} if cache is None else cache
        facts: dict[str, FileFacts] = {}
        unparsable: dict[str, str] = {}
        # Trees are dropped as soon as their facts are read and hold no cycles worth
        # collecting: the cyclic collector only costs time here (a quarter of the build).
        collecting = gc.isenabled()
        gc.disable()
        try:
            for path, source in files.items():
                key = cls.cache_key(path, source)
                if key not in cache:
                    found = analyse_file(path, source)
                    if isinstance(found, str):
                        unparsable[path] = found
                        continue
                    cache[key] = found
                facts[path] = cache[key]
        finally:
            if collecting:
                gc.enable()
        packages = frozenset(p.rpartition("/")[0] for p in files if p.rpartition("/")[2] == "__init__.py")
        return cls(
            facts=facts,
            sqlalchemy_min=sqlalchemy_minimum(project_files or {}),
            unparsable=unparsable,
            distribution=declared_packages(project_files or {}, packages),
            sql_dialect=dialect_of(
                (d for f in facts.values() for d in f.queries.dialects), project_files or {}, sql_dialect
            ),
            sql_dialects=frozenset({sql_dialect}) if sql_dialect else dialects_named(
                (d for f in facts.values() for d in f.queries.dialects), project_files or {}
            ),
        )

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

    def relationship_names(self) -> frozenset[str]:
        """The attribute names of every model's relationships."""
        key = ("relationship-names",)
        if key not in self._answers:
            self._answers[key] = frozenset(r for m in self.models.values() for r in m.relationships)
        return self._answers[key]  # type: ignore[return-value]

    def model_names(self) -> frozenset[str]:
        """The class names of every model of the application (`Task`), however many
        modules use one name."""
        key = ("model-names",)
        if key not in self._answers:
            self._answers[key] = frozenset(m.name for m in self.application_models())
        return self._answers[key]  # type: ignore[return-value]

    def primary_key_names(self) -> frozenset[str]:
        """The names of every model's primary key columns."""
        key = ("primary-key-names",)
        if key not in self._answers:
            self._answers[key] = frozenset(c for m in self.application_models() for c in m.primary_key)
        return self._answers[key]  # type: ignore[return-value]

    def may_name_model(self, source: bytes) -> bool:
        """False only when ``source`` cannot name any model class of the repository: none
        of the names it may be reached by (`model_reference_names`) occurs in it as a word
        (in non-ASCII text, after the NFKC normalisation Python applies to identifiers)."""
        pattern = self._memo_model_pattern()
        if pattern is None:
            return False
        if pattern is True:
            return True
        # Several codemods ask of the same file: the answer is kept with the bytes asked of.
        known, answer = self._object_answer("names-model", source)
        if known:
            return answer  # type: ignore[return-value]
        if not source.isascii():
            # Python reads identifiers NFKC-normalised: `Ｔask` is `Task`.
            text = unicodedata.normalize("NFKC", source.decode("utf-8", errors="replace"))
            found = pattern.search(text.encode("utf-8", errors="replace")) is not None
        else:
            # A plain substring search is many times faster than the pattern (which tries
            # every position): with few models, it rules most files out first.
            names = self._memo_model_words()
            found = (len(names) > _FEW_MODELS or any(n in source for n in names)) and pattern.search(source) is not None
        self._keep_object_answer("names-model", source, found)
        return found

    def model_reference_names(self) -> frozenset[str]:
        """The names a module may reach a model class by: the class's own (`Task`), and
        every name an import binds one of these to, through any chain of modules
        (`from .task import Task as TaskModel` in `models/__init__.py`, then `from
        app.models import TaskModel`). A file that spells none of them names no model."""
        return self.import_aliases(frozenset(self.models))

    def import_aliases(self, names: frozenset[str]) -> frozenset[str]:
        """``names`` and every name an import binds one of them to, in any module and
        through any chain of modules (`from .tasks import complete_task as finish`, then
        `from app.services import finish as close_out`). More, never fewer: an import of
        another module's `finish` counts too."""
        key = ("import-aliases", names)
        if key not in self._answers:
            found = set(names)
            while True:
                bound = {
                    local
                    for facts in self.facts.values()
                    for local, target in facts.imports.items()
                    if local not in found and target.rpartition(".")[2] in found
                }
                if not bound:
                    break
                found |= bound
            self._answers[key] = frozenset(found)
        return self._answers[key]  # type: ignore[return-value]

    def _memo_model_words(self) -> tuple[bytes, ...]:
        key = ("model-words",)
        if key not in self._answers:
            self._answers[key] = tuple(n.encode() for n in sorted(self.model_reference_names()))
        return self._answers[key]  # type: ignore[return-value]

    def _memo_model_pattern(self) -> "re.Pattern[bytes] | bool | None":
        """None: no models; True: a model name is not ASCII (every file may name it)."""
        key = ("model-pattern",)
        if key not in self._answers:
            names = sorted(self.model_reference_names())
            if not names:
                self._answers[key] = None
            elif all(n.isascii() for n in names):
                words = b"|".join(re.escape(n.encode()) for n in names)
                self._answers[key] = re.compile(rb"\b(?:" + words + rb")\b")
            else:
                self._answers[key] = True
        return self._answers[key]  # type: ignore[return-value]

    def application_models(self) -> list[ModelInfo]:
        """Every model class of the application, each seen from its own file (two classes
        of one name in different modules are both here); not the copies migrations keep."""
        key = ("application-models",)
        if key not in self._answers:
            found = []
            for facts in self.facts.values():
                if file_role(facts.path) == "migration":
                    continue
                for name in facts.models:
                    model = self.model_for(f"{facts.module}.{name}", facts.path)
                    if model is not None and model.path == facts.path:
                        found.append(model)
            self._answers[key] = found
        return self._answers[key]  # type: ignore[return-value]

    def filters_by_primary_key(self, path: str, scopes: frozenset[int] | None = None) -> bool:
        """Whether a filter in the file (`where`, `filter`, `filter_by`) tests for equality
        a column of a model's primary key: of the model the class resolves to, or of the
        model its name is spelled like (`db.Task.id` on an untyped `db`, so that a codemod
        can say why it leaves it alone); True when the file has no facts. With ``scopes``,
        only filters in those functions (`ColumnUse.scope`) count."""
        facts = self.facts.get(path)
        if facts is None:
            return True
        for use in facts.queries.column_uses:
            if use.equality and use.how in {"where", "filter", "filter_by"} and (scopes is None or use.scope in scopes):
                model = self.model_for(use.cls, path)
                if model is not None and use.column in model.primary_key:
                    return True
                # The class as written (its last name, or the alias an import gave it) may
                # name any mapped class of that name, the model a codemod resolves included.
                spelled = {use.cls.rsplit(".", 1)[-1]} | {n for n, target in facts.imports.items() if target == use.cls}
                for name in spelled:
                    for declared in self.tables.classes.get(name, ()):
                        namesake = self._with_bases(declared, 0)
                        if namesake.mapped and use.column in namesake.primary_key:
                            return True
        return False

    def may_be_column(self, qualified: str, near: str) -> bool:
        """Whether ``qualified`` (`app.models.Task.id`, as `ColumnUse.versus` writes it;
        "?" when it did not resolve) may be a model's column: unresolved names may be."""
        if qualified == "?":
            return True
        owner, _, column = qualified.rpartition(".")
        other = self.model_for(owner, near)
        return other is not None and column in other.columns

    def is_indexed(self, model: ModelInfo, column: str) -> bool:
        """Whether an index starts with ``column`` of ``model``'s table: the primary key,
        `index=True`, `unique=True`, an `Index` / `UniqueConstraint` in the model, or one a
        migration of the repository creates."""
        info = model.columns.get(column)
        if info is None:
            return False
        key = model.primary_key
        return (
            info.index
            or info.unique
            or key[:1] == (column,)
            or (info.primary_key and len(key) == 1)
            or any(i.columns[:1] == (column,) for i in model.indexes)
            or any((table, column) in self._migration_indexes()[0] for table in table_names(model))
        )

    def has_trigram_index(self, model: ModelInfo, column: str) -> bool:
        """Whether a trigram index (`gin_trgm_ops` / `gist_trgm_ops`) covers ``column``: one
        serves `LIKE '%q%'` on it."""
        return any(column in i.trigram for i in model.indexes) or any(
            (table, column) in self._migration_indexes()[1] for table in table_names(model)
        )

    def _migration_indexes(self) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
        """(table, leading column) of every index the migrations create, and (table,
        column) of every column they index by trigrams."""
        key = ("migration-indexes",)
        if key not in self._answers:
            indexes = [i for facts in self.facts.values() for i in facts.queries.migration_indexes]
            self._answers[key] = (
                frozenset((i.table, i.columns[0]) for i in indexes),
                frozenset((i.table, c) for i in indexes for c in i.trigram),
            )
        return self._answers[key]  # type: ignore[return-value]

    def model_for(self, qualname: str, near: str | None = None) -> ModelInfo | None:
        """The model a qualified name (as an import spells it, e.g. `app.models.Task`, or
        as a path name) refers to, seen from the file ``near`` when given: a class of that
        name elsewhere does not answer for it."""
        info = self._declared_class(qualname, 0, near)
        if info is None:
            return None
        resolved = self._with_bases(info, 0)
        return resolved if resolved.mapped else None

    def _resolved_classes(self, name: str, depth: int) -> list[ModelInfo]:
        declared = self.tables.classes.get(name, [])
        return [self._with_bases(info, depth) for info in declared]

    def _with_bases(self, info: ModelInfo, depth: int) -> ModelInfo:
        # Kept by class and depth: every subclass asks for its bases' own resolution, and a
        # library's hierarchies are deep (the corpus resolved its 4,594 classes in 0.3 s).
        known, answer = self._object_answer("with-bases", info, depth)
        if known:
            return answer  # type: ignore[return-value]
        bases = []
        for base in info.bases if depth <= _MAX_BASES else ():
            found = self._declared_class(base, 0, info.path)
            if found is not None and found is not info:
                bases.append(self._with_bases(found, depth + 1))
        resolved = merged(info, bases)
        self._keep_object_answer("with-bases", info, resolved, depth)
        return resolved

    def _declared_class(self, qualname: str, depth: int = 0, near: str | None = None) -> ModelInfo | None:
        """The class a qualified base name refers to, through re-exports; a bare name
        (no import says where it is from) only when one class in the repository has it."""
        module, _, name = qualname.rpartition(".")
        if not module:
            found = self.tables.classes.get(name, [])
            return found[0] if len(found) == 1 else None
        classes = {
            (facts.path, rest): facts.classes[rest]
            for facts, rest in self._definitions(qualname, near, depth)
            if rest in facts.classes
        }
        return next(iter(classes.values())) if len(classes) == 1 else None

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

    def session_factory_for(self, dependency: str, near: str | None = None) -> SessionFactory | None:
        """The factory a session dependency (e.g. `app.db.get_db`) or factory name uses,
        both resolved through imports and re-exports (seen from the file ``near``)."""
        key = ("session-factory", dependency, near)
        if key not in self._answers:
            self._answers[key] = self._session_factory(dependency, near)
        return self._answers[key]  # type: ignore[return-value]

    def _session_factory(self, dependency: str, near: str | None) -> SessionFactory | None:
        named = self._factories_named(dependency, near)
        if len(named) == 1:
            return named[0]
        function = self.function(dependency, near)
        if function is None:
            return None
        used = {
            (f.path, f.name): f for call in sorted(function.calls) for f in self._factories_named(call, function.path)
        }
        return next(iter(used.values())) if len(used) == 1 else None

    def _factories_named(self, qualname: str, near: str | None) -> list[SessionFactory]:
        """The named factories ``qualname`` is bound to, through imports and re-exports."""
        by_name = {(f.path, f.name): f for f in self.session_factories if f.name}
        found = {(facts.path, rest) for facts, rest in self._definitions(qualname, near)}
        return [by_name[key] for key in sorted(found) if key in by_name]

    def expires_on_commit(self, dependency: str | None, near: str | None = None) -> bool:
        """Whether a session from ``dependency`` may expire objects on commit (True when
        it cannot be told: the conservative answer), seen from the file ``near``."""
        if dependency:
            factory = self.session_factory_for(dependency, near)
            if factory is not None:
                return factory.expire_on_commit is not False
        return not self.expire_on_commit_disabled()

    # --- functions and broadcasts -----------------------------------------------------------

    def function(self, qualname: str, near: str | None = None) -> FunctionInfo | None:
        """A function or method by a qualified name as an import would spell it (or as a
        path name), seen from the file ``near`` when given; names re-exported by another
        module are followed, and methods of module-level instances resolve through the
        instance's class."""
        key = ("function", qualname, near)
        if key not in self._answers:
            self._answers[key] = None  # a cycle through instances resolves to nothing
            self._answers[key] = self._function(qualname, near)
        return self._answers[key]  # type: ignore[return-value]

    def _function(self, qualname: str, near: str | None) -> FunctionInfo | None:
        found: dict[tuple[str, str], FunctionInfo] = {}
        for facts, rest in self._definitions(qualname, near):
            function = facts.functions.get(f"{facts.module}.{rest}") if rest else None
            instance, _, method = rest.partition(".")
            if function is None and method and "." not in method and instance in facts.instances:
                function = self.function(f"{facts.instances[instance]}.{method}", facts.path)
            if function is not None:
                found[(function.path, function.qualname)] = function
        return next(iter(found.values())) if len(found) == 1 else None

    def callers(self, function: FunctionInfo) -> list[tuple[FunctionInfo, CallSite]] | None:
        """Every call of a module-level ``function`` in the repository, or None when it may
        be reached another way (see `CallGraph.callers`)."""
        if self._calls is None:
            self._calls = CallGraph(self)
        key = ("callers", function.path, function.qualname)
        if key not in self._answers:
            self._answers[key] = self._calls.callers(function)
        return self._answers[key]  # type: ignore[return-value]

    def is_broadcast(
        self, qualname: str, patterns: Iterable[str] = DEFAULT_BROADCAST_PATTERNS, near: str | None = None
    ) -> bool:
        return self.broadcast_reason(qualname, patterns, near) is not None

    def broadcast_reason(
        self, qualname: str, patterns: Iterable[str] = DEFAULT_BROADCAST_PATTERNS, near: str | None = None
    ) -> str | None:
        """Why ``qualname`` (seen from the file ``near``) is a broadcast (sends to websockets
        or pub/sub, directly or through other broadcasts, and writes nothing to the
        database), or None."""
        function = self.function(qualname, near)
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
            found = (self.function(c, function.path) for c in sorted(function.calls))
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
        for send in function.imported_sends:
            if self._is_pubsub_instance(send.rsplit(".", 1)[0], function.path):
                return f"{_short(function.qualname)} sends with {_short(send, 2)}"
        for callee in self._callees(function):
            reason = self._sender(callee, seen)
            if reason:
                return f"{_short(function.qualname)} calls {reason}"
        return None

    def _is_pubsub_instance(self, qualname: str, near: str) -> bool:
        """Whether ``qualname`` is a module-level instance built by a pub/sub library
        (`client = redis.asyncio.from_url(...)` in `app/core/redis.py`)."""
        found = self._definitions(qualname, near)
        return bool(found) and all(is_pubsub_type(f.instances.get(rest)) for f, rest in found)

    # --- blocking calls ------------------------------------------------------------------------

    def is_unreached(self, function: FunctionInfo | None) -> bool:
        """Whether ``function`` is a module-level function nothing in the repository calls,
        decorates or passes on (dead code, or code only another program imports)."""
        if function is None or function.decorated or self.is_dependency(function):
            return False
        return self.callers(function) == []

    def is_dependency(self, function: FunctionInfo) -> bool:
        """Whether some `Depends(...)` / `Security(...)` of the repository names ``function``."""
        key = ("dependencies",)
        if key not in self._answers:
            named = {t for f in self.facts.values() for t in f.depends}
            self._answers[key] = {
                (found.path, found.qualname)
                for f in self.facts.values()
                for t in f.depends & named
                if (found := self.function(t, f.path)) is not None
            }
        return (function.path, function.qualname) in self._answers[key]  # type: ignore[operator]

    def blocking_chains(self, function: FunctionInfo, depth: int) -> list[list[tuple[FunctionInfo, str, int]]]:
        """Each way ``function`` blocks its thread: one chain per blocking call of its own
        and per call of a repository function that blocks (followed at most ``depth``
        calls deep), as (function, call, line) steps down to the blocking call, e.g.
        [(list_tasks, "load_tasks(...)", 12), (load_tasks, "db.query(...)", 30)]."""
        chains = [[(function, call, line)] for call, line in function.blocking]
        for site, callee in self._blocking_callees(function):
            below = self._blocking(callee, depth - 1, {function.qualname})
            if below:
                chains.append([(function, f"{_short(callee.qualname)}(...)", site.line), *below])
        return sorted(chains, key=lambda chain: chain[0][2])

    def _blocking_callees(self, function: FunctionInfo) -> list[tuple[CallSite, FunctionInfo]]:
        found = []
        for site in function.sites:
            callee = self.function(site.callee, function.path) if site.callee else None
            # An async function called without `await` runs later, as its own task.
            if callee is None or callee.qualname == function.qualname or (callee.is_async and not site.awaited):
                continue
            found.append((site, callee))
        return found

    def _blocking(self, function: FunctionInfo, depth: int, seen: set[str]) -> list | None:
        """The first chain down to a blocking call in ``function``, or None."""
        if function.blocking:
            call, line = function.blocking[0]
            return [(function, call, line)]
        if depth <= 0 or function.qualname in seen:
            return None
        seen.add(function.qualname)
        for site, callee in self._blocking_callees(function):
            below = self._blocking(callee, depth - 1, seen)
            if below:
                return [(function, f"{_short(callee.qualname)}(...)", site.line), *below]
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

    classes: dict[str, list[ModelInfo]]
    session_factories: list[SessionFactory]
    settings_fields: list[SettingsField]
    fields_by_class: dict[str, list[ClassField]]
    fields_by_name: dict[str, list[ClassField]]

    @classmethod
    def of(cls, facts: Mapping[str, FileFacts]) -> "_Tables":
        tables = cls({}, [], [], {}, {})
        for f in facts.values():
            for name, info in f.classes.items():
                tables.classes.setdefault(name, []).append(info)
            tables.session_factories.extend(f.session_factories)
            tables.settings_fields.extend(f.settings_fields)
            for c in f.class_fields:
                tables.fields_by_class.setdefault(c.cls, []).append(c)
                tables.fields_by_name.setdefault(c.name, []).append(c)
        return tables


def facts_of_file(_shared: object, item: tuple[str, bytes]) -> FileFacts | str:
    """A worker's unit of work (`optimize.workers`): one file's facts. The trees are
    dropped at once, so the cyclic collector stays off (see `RepoIndex.build`)."""
    gc.disable()
    return analyse_file(*item)


def analyse_file(path: str, source: bytes) -> FileFacts | str:
    """One file's facts, or why it has none. Syntax newer than the running interpreter is
    read too (see `optimize.analyzers.syntax`)."""
    tree = parse_for_facts(path, source)
    if isinstance(tree, Unparsable):
        return _why_unparsable(source, tree)
    try:
        return collect_file_facts(path, tree)
    except RecursionError:
        # Valid code can nest deeper (a long elif chain, chained calls) than the `ast`
        # visitors, which recurse once per level, can follow.
        return _why_unparsable(source, Unparsable(TOO_DEEP))


def _why_unparsable(source: bytes, failure: Unparsable) -> str:
    """Why a file has no facts; for a file that seems to define models, also that the
    codemods which need the models may miss them (else nothing found would be a mystery)."""
    marker = model_marker(source)
    if marker is None:
        return failure.reason
    return (
        f"{failure.reason}; it mentions {marker}, so it may define models, which "
        "model-dependent codemods will not see"
    )


def _short(qualname: str, parts: int = 1) -> str:
    """The last ``parts`` components of a dotted name."""
    return ".".join(qualname.split(".")[-parts:])


def _defines(facts: FileFacts, name: str) -> bool:
    """Whether the module itself binds ``name`` at module level to a class, a function,
    an instance or a session factory (which wins over an import of the same name)."""
    return (
        name in facts.classes
        or f"{facts.module}.{name}" in facts.functions
        or name in facts.instances
        or any(f.name == name for f in facts.session_factories)
    )
