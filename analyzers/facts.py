"""Facts gathered from one module's `ast`: the unit the repository index caches."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SettingsField:
    """A class-level field with a literal default, e.g. ``max_overflow: int = 5``."""

    path: str
    cls: str
    name: str
    value: object
    line: int


@dataclass
class FileFacts:
    path: str
    models: dict = field(default_factory=dict)
    settings_fields: list[SettingsField] = field(default_factory=list)


def collect_file_facts(path: str, tree: ast.Module) -> FileFacts:
    facts = FileFacts(path=path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.AnnAssign)
                    and isinstance(stmt.target, ast.Name)
                    and isinstance(stmt.value, ast.Constant)
                ):
                    facts.settings_fields.append(
                        SettingsField(path, node.name, stmt.target.id, stmt.value.value, stmt.lineno)
                    )
                elif (
                    isinstance(stmt, ast.Assign)
                    and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)
                    and isinstance(stmt.value, ast.Constant)
                ):
                    facts.settings_fields.append(
                        SettingsField(path, node.name, stmt.targets[0].id, stmt.value.value, stmt.lineno)
                    )
    return facts
