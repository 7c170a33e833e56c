"""Running one codemod over one parsed module: the unit the engine and the tests share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Mapping

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.metadata import MetadataWrapper

from optimize.codemods.base import Change, Codemod, Refusal


@dataclass
class TransformResult:
    tree: cst.Module
    changes: list[Change] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    created_files: dict[str, str] = field(default_factory=dict)
    findings: list = field(default_factory=list)  # a check's (`analyzers.checks`)


def module_name(path: str) -> tuple[str, str]:
    """(full module name, package name) for a repository-relative path."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def run_codemod(
    codemod: type[Codemod],
    tree: cst.Module,
    path: str,
    index: Any = None,
    options: Mapping[str, Any] | None = None,
    unsafe_allowed: bool = True,
    wrapper: MetadataWrapper | None = None,
    code: str | None = None,
) -> TransformResult:
    """Apply ``codemod`` to ``tree`` (``code``: its code, when the caller has it); the
    module comes back unchanged if it skips."""
    full_module_name, package = module_name(path)
    context = CodemodContext(
        filename=path, full_module_name=full_module_name, full_package_name=package
    )
    lines = code.splitlines() if code is not None else None
    instance = codemod(context, index=index, options=options, source_lines=lines, unsafe_allowed=unsafe_allowed)
    instance.shared_wrapper = wrapper
    new_tree = instance.transform_module(tree)
    return TransformResult(
        new_tree, instance.changes, instance.refusals, dict(instance.created_files),
        list(getattr(instance, "findings", ())),
    )
