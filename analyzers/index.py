"""The repository index: cross-file facts computed once per run.

Codemods see one module at a time; what they need to know about the rest of the
repository (which classes are models and how their relationships load, whether a session
factory expires objects on commit, which functions broadcast, which settings field a
`settings.database.max_overflow` refers to, which SQLAlchemy version is allowed) is
collected here with the standard `ast` module and cached by file content.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from typing import Mapping

from optimize.analyzers.facts import FileFacts, collect_file_facts
from optimize.analyzers.versions import sqlalchemy_minimum


@dataclass
class RepoIndex:
    """Everything the codemods may ask about the repository as a whole."""

    facts: dict[str, FileFacts] = field(default_factory=dict)  # path -> facts
    sqlalchemy_min: tuple[int, ...] | None = None

    @classmethod
    def empty(cls) -> "RepoIndex":
        return cls()

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
        for path, source in files.items():
            key = hashlib.sha1(source).hexdigest()
            if key not in cache:
                try:
                    tree = ast.parse(source)
                except (SyntaxError, ValueError):
                    continue
                cache[key] = collect_file_facts(path, tree)
            facts[path] = cache[key]
        return cls(facts=facts, sqlalchemy_min=sqlalchemy_minimum(project_files or {}))

    # --- queries ------------------------------------------------------------------------

    @property
    def models(self):
        out = {}
        for f in self.facts.values():
            out.update(f.models)
        return out

    @property
    def settings_fields(self):
        out = []
        for f in self.facts.values():
            out.extend(f.settings_fields)
        return out
