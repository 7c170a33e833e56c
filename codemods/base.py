"""The three small types every codemod is made of: `Codemod`, `Change` and `Refusal`.

A codemod is a LibCST `CodemodCommand` that visits the module as a plain `CSTTransformer`
(not LibCST's `VisitorBasedCodemodCommand`: no codemod here uses matcher decorators, whose
bookkeeping on every node cost about a third of each pass and 16 ms per instance), with a
few class attributes that the engine, the CLI, the docs and the generated tests read:

- ``ID``: the stable id users type (``pool-pre-ping``).
- ``TITLE``: one line, used in the commit subject (``perf(<id>): <title>``).
- ``SAFETY``: ``"safe"`` or ``"unsafe"`` (unsafe codemods need ``--unsafe-fixes``).
- ``CONDITIONS``: one line of safety conditions for ``optimize list``.
- ``TRIGGERS``: byte strings a file must contain to be worth parsing for it.
- ``NEEDS_MODEL``: every case it can rewrite or report names a mapped model class, so a
  file that names none of the repository's models is not parsed for it.
- ``OPTIONS``: per-codemod options and their defaults (``[tool.optimize.<id>]``).
- ``OPTION_CHECKS``: for each option, what a configured value must be beyond its type
  (choices, bounds, parsable code; see `optimize.codemods.options`).
- ``EXAMPLES``: `Rewrite` and `Keep` cases, from which one test per case is generated.

A codemod never touches files or git: it turns a module into a module and records a
`Change` for each rewrite and a `Refusal` for each pattern it found but left alone.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, ClassVar, Iterable, Mapping, Sequence

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodCommand, CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import (
    MetadataWrapper,
    PositionProvider,
    ScopeProvider,
)
from optimize.analyzers.parents import ParentNodeProvider
from optimize.codemods.top_imports import add_imports

from optimize.results import SAFE, UNSAFE, Change, Refusal  # noqa: F401 - the codemods' vocabulary
from optimize.analyzers.cst_find import findall

# `# optimize: ignore` or `# optimize: ignore[pool-pre-ping, pool-overflow]`
_SUPPRESSION = re.compile(r"#\s*optimize:\s*ignore(?:\[(?P<ids>[^\]]*)\])?")


def suppression_covers(line: str, id: str) -> bool:
    """Whether ``line`` carries `# optimize: ignore` or `# optimize: ignore[..., id, ...]`."""
    match = _SUPPRESSION.search(line)
    if not match:
        return False
    ids = match.group("ids")
    return ids is None or id in {i.strip() for i in ids.split(",")}


@dataclass(frozen=True)
class Rewrite:
    """An example the codemod must rewrite from ``before`` to ``after``.

    ``files`` are other modules of the example repository (path -> source), indexed
    with the example itself; ``options`` override the codemod's defaults.
    """

    before: str
    after: str
    name: str = ""
    files: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    requirements: str | None = None  # content of a requirements.txt for the index


@dataclass(frozen=True)
class Keep:
    """An example the codemod must leave byte-for-byte unchanged.

    ``reason``, when given, is a substring the reported refusal must contain: a codemod
    that recognises the pattern must say why it did not rewrite it.
    """

    code: str
    reason: str | None = None
    name: str = ""
    files: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    requirements: str | None = None


def unwrap_await(node: cst.BaseExpression) -> cst.BaseExpression:
    """The awaited expression of `await x`, or ``node`` itself."""
    return node.expression if isinstance(node, cst.Await) else node


def dotted_chain(node: cst.BaseExpression) -> str | None:
    """`settings.api.debug` / `get_settings().db.max_overflow` as text; None otherwise."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted_chain(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    if isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Name):
        return f"{node.func.value}()"
    return None


def function_lines(scopes: Iterable[int]) -> frozenset[int]:
    """The functions among ``scopes`` (`ColumnUse.scope`: a function's line, 0 for code
    outside any function), as `Codemod.candidate_lines` gives them for a codemod that
    reads and edits one function at a time: the reduced module keeps those functions
    whole (`optimize.spans`)."""
    return frozenset(s for s in scopes if s)


SUPPRESSED = "suppressed by `# optimize: ignore`"
# How a change refused for its tier in a run without `--unsafe-fixes` is reported.
UNSAFE_REFUSAL = "skipped: unsafe fix ("


class Codemod(CodemodCommand, cst.CSTTransformer):
    """Base class of every `optimize` codemod."""

    ID: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    SAFETY: ClassVar[str] = SAFE
    CONDITIONS: ClassVar[str] = ""
    TRIGGERS: ClassVar[tuple[bytes, ...]] = ()
    # Tests beyond the examples and what they prove ("tests/x.py (real SQLAlchemy)"): listed
    # on the codemod's docs page, each checked to exist.
    TESTS: ClassVar[tuple[str, ...]] = ()
    # A second cheap filter: when set, the file must also contain one of these.
    ALSO: ClassVar[tuple[bytes, ...]] = ()
    # Set when every case the codemod rewrites or reports names a model class in the file.
    NEEDS_MODEL: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, Any]] = {}
    OPTION_CHECKS: ClassVar[Mapping[str, Callable[[Any], str | None]]] = {}
    EXAMPLES: ClassVar[Sequence[Rewrite | Keep]] = ()

    # Qualified names are read from the scopes on demand (`qualified_names`), as LibCST's
    # `QualifiedNameProvider` computes them, without its visit of every node of the module
    # to set a value that a codemod reads for a handful of them.
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider, ScopeProvider)

    def __init__(
        self,
        context: CodemodContext,
        index: Any = None,
        options: Mapping[str, Any] | None = None,
        source_lines: Sequence[str] | None = None,
        unsafe_allowed: bool = True,
    ) -> None:
        super().__init__(context)
        if index is None:
            from optimize.analyzers.index import RepoIndex

            index = RepoIndex.empty()
        self.index = index
        self.options = {**self.OPTIONS, **(options or {})}
        self.changes: list[Change] = []
        self.refusals: list[Refusal] = []
        self.created_files: dict[str, str] = {}  # new files the rewrite needs (path -> text)
        self._source_lines = source_lines
        self.unsafe_allowed = unsafe_allowed

    # --- what the engine reads -------------------------------------------------------

    @classmethod
    def wants(cls, source: bytes) -> bool:
        """Cheap prefilter: is the file worth parsing for this codemod?"""
        if cls.TRIGGERS and not any(t in source for t in cls.TRIGGERS):
            return False
        return not cls.ALSO or any(t in source for t in cls.ALSO)

    @classmethod
    def applies(cls, source: bytes, index: Any) -> bool:
        """`wants`, then what the repository index can tell without parsing the file
        (a gate like Ruff's "was this module imported"): parsing and name resolution cost
        far more than these checks."""
        if not cls.wants(source):
            return False
        return not cls.NEEDS_MODEL or index.may_name_model(source)

    @classmethod
    def applies_to(cls, path: str, source: bytes, index: Any, options: Mapping[str, Any] | None = None) -> bool:
        """`applies`, then what the file's facts in the index tell without parsing it
        again (the index holds every file's `ast` facts); a codemod whose cases the facts
        can see narrows it further. ``options`` are the run's for this codemod."""
        return cls.applies(source, index)

    @classmethod
    def refusals_without_tree(
        cls, path: str, source: bytes, index: Any, options: Mapping[str, Any] | None = None
    ) -> list[Refusal] | None:
        """What this codemod reports on the file as committed when the index alone decides
        it, every case a refusal: the engine then does not parse the file for it. None
        (the default): the codemod reads the tree."""
        return None

    @classmethod
    def candidate_lines(cls, path: str, index: Any, options: Mapping[str, Any] | None = None) -> frozenset[int] | None:
        """The lines where every edit (a check's every finding) of this codemod in
        ``path`` starts, when each stays inside the statement holding its line and reads
        nothing of the module's other function bodies: the engine may then parse a reduced
        module (`optimize.spans`), when every codemod and check of the file says where.
        None (the default): the codemod sees the whole module."""
        return None

    @property
    def path(self) -> str:
        return self.context.filename or "<string>"

    # Metadata (scopes, qualified names) costs far more than parsing; the engine hands every
    # codemod that sees the same tree the same wrapper, so it is computed once per tree.
    shared_wrapper: MetadataWrapper | None = None

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        return tree.visit(self)

    def _instantiate_and_run(self, transform, tree: cst.Module) -> cst.Module:
        # The imports this codemod scheduled: added by LibCST's visitor reading only the
        # leading import block it edits (`optimize.codemods.top_imports`).
        if transform is AddImportsVisitor:
            return add_imports(self.context, tree)
        return super()._instantiate_and_run(transform, tree)

    def transform_module(self, tree: cst.Module) -> cst.Module:
        if self._source_lines is None:
            self._source_lines = tree.code.splitlines()
        return super().transform_module(tree)

    def _handle_metadata_reference(self, module: cst.Module):
        wrapper = self.shared_wrapper
        if wrapper is None or wrapper.module is not module:
            return super()._handle_metadata_reference(module)
        return self._shared_metadata(wrapper)

    @contextmanager
    def _shared_metadata(self, wrapper: MetadataWrapper):
        previous = self.context.wrapper
        with self.resolve(wrapper):
            self.context = replace(self.context, wrapper=wrapper)
            try:
                yield wrapper.module
            finally:
                self.context = replace(self.context, wrapper=previous)

    # --- helpers for subclasses --------------------------------------------------------

    def line_of(self, node: cst.CSTNode) -> int:
        try:
            return self.get_metadata(PositionProvider, node).start.line
        except KeyError:
            return 0

    def span_of(self, node: cst.CSTNode) -> tuple[int, int, int, int]:
        """(line, column, end line, end column) of ``node``, 1-based as editors and SARIF
        count them; zeros for a node of no known position."""
        try:
            where = self.get_metadata(PositionProvider, node)
        except KeyError:
            return 0, 0, 0, 0
        return where.start.line, where.start.column + 1, where.end.line, where.end.column + 1

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """Fully qualified names ``node`` may refer to, resolved through imports. A name
        from a relative import is made absolute against this module's place in the
        repository (`from .models import Task` in `app/example.py` gives
        `app.models.Task`, as `from app.models import Task` does)."""
        try:
            scope = self.get_metadata(ScopeProvider, node, None)
        except KeyError:
            return set()
        if not scope:  # as `QualifiedNameProvider` reads it
            return set()
        return {self._absolute(q.name) for q in scope.get_qualified_names_for(node)}

    def _absolute(self, name: str) -> str:
        """A relative name as the index resolves it from this module's path; any other
        name, or one the index cannot place, as LibCST gave it."""
        if not name.startswith(".") or not self.context.filename:
            return name
        return self.index.absolute(self.context.filename, name) or name

    def refers_to(self, node: cst.CSTNode, names: Iterable[str]) -> bool:
        return bool(self.qualified_names(node) & set(names))

    def enclosing_statement(self, node: cst.CSTNode) -> cst.CSTNode:
        """The statement (simple line or compound statement) that contains ``node``."""
        current = node
        while True:
            if isinstance(current, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return current
            parent = self.get_metadata(ParentNodeProvider, current, None)
            if parent is None:
                return node
            current = parent

    def suppressed(self, node: cst.CSTNode) -> bool:
        """Whether ``# optimize: ignore[...]`` on the statement's first line covers us."""
        lines = self._source_lines or []
        statement = self.enclosing_statement(node)
        first = self.line_of(statement)
        for lineno in {first, self.line_of(node)}:
            if not 0 < lineno <= len(lines):
                continue
            if suppression_covers(lines[lineno - 1], self.ID):
                return True
        return False

    # --- reporting: suppression and tier are checked here, as Fixit's `report()` does -----

    def record(
        self, node: cst.CSTNode, rationale: str, tier: str | None = None, unsafe_because: str | None = None
    ) -> bool:
        """Report a change of ``node``; the caller makes the edit only when this is True.
        False, with the reason reported instead, when `# optimize: ignore` covers the node
        or the change's ``tier`` is unsafe in a run without `--unsafe-fixes` (a safe codemod
        that finds a case it cannot prove fully safe says why in ``unsafe_because``)."""
        if self.suppressed(node):
            self.refuse(node, SUPPRESSED)
            return False
        tier = tier or self.SAFETY
        if tier == UNSAFE and not self.unsafe_allowed:
            self.refuse(node, f"{UNSAFE_REFUSAL}{unsafe_because or rationale}); use --unsafe-fixes to apply it")
            return False
        line, column, end_line, end_column = self.span_of(node)
        self.changes.append(Change(self.ID, self.path, line, rationale, tier, column, end_line, end_column))
        return True

    def refuse(self, node: cst.CSTNode, reason: str) -> None:
        """Report that ``node`` is left alone and why (a suppression on it is the reason
        then); each reason once per line."""
        if reason != SUPPRESSED and self.suppressed(node):
            reason = SUPPRESSED
        line, column, end_line, end_column = self.span_of(node)
        if any((r.line, r.reason) == (line, reason) for r in self.refusals):
            return
        self.refusals.append(Refusal(self.ID, self.path, line, reason, column, end_line, end_column))

    def remove_imports_used_by(self, node: cst.CSTNode, among: Iterable[str]) -> None:
        """Schedule the imports of the names in ``node`` that refer to one of ``among``
        (`select` in a query the rewrite drops) for removal; LibCST's
        `RemoveImportsVisitor` keeps any that something else still uses."""
        wanted = set(among)
        for name in [node, *findall(node, m.Name())] if not isinstance(node, cst.Name) else [node]:
            if not isinstance(name, cst.Name):
                continue
            for qualified in self.qualified_names(name) & wanted:
                module, _, obj = qualified.rpartition(".")
                RemoveImportsVisitor.remove_unused_import(
                    self.context, module, obj, None if name.value == obj else name.value
                )

    def create_file(self, path: str, text: str) -> None:
        """Ask the engine to add a new repository file (e.g. a helper module)."""
        self.created_files[path] = text
