"""Turns each codemod's EXAMPLES into a runnable case (shared by the generated tests)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import libcst as cst

from optimize.analyzers.index import RepoIndex
from optimize.codemods.base import Codemod, Keep, Rewrite
from optimize.transform import TransformResult, run_codemod

EXAMPLE_PATH = "app/example.py"


def dedent(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def index_for(example: Rewrite | Keep, source: str) -> RepoIndex:
    files = {EXAMPLE_PATH: source.encode()}
    files.update({p: dedent(s).encode() for p, s in example.files.items() if p.endswith(".py")})
    # Build and dependency files at the root (`pyproject.toml`, `setup.cfg`) go where a
    # run puts them: beside the index, not in it.
    project = {p: dedent(s).encode() for p, s in example.files.items() if not p.endswith(".py")}
    if example.requirements:
        project["requirements.txt"] = example.requirements.encode()
    return RepoIndex.build(files, project)


def run_example(codemod: type[Codemod], example: Rewrite | Keep, source: str) -> TransformResult:
    tree = cst.parse_module(source)
    return run_codemod(
        codemod, tree, EXAMPLE_PATH, index=index_for(example, source), options=example.options
    )


@dataclass(frozen=True)
class Case:
    codemod: type[Codemod]
    example: Rewrite | Keep

    @property
    def id(self) -> str:
        kind = "rewrite" if isinstance(self.example, Rewrite) else "keep"
        return f"{self.codemod.ID}:{kind}:{self.example.name or '?'}"


def all_cases() -> list[Case]:
    from optimize.codemods.registry import REGISTRY

    return [Case(c, e) for c in REGISTRY for e in c.EXAMPLES]
