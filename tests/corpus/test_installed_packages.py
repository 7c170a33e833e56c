"""Every codemod over real code no one here wrote: the installed sqlalchemy, fastapi,
starlette, pydantic, libcst, black, rich, typer, click, httpx and sqlglot.

Guarantees checked: no codemod crashes (no "internal error" refusal); every rewritten file
parses and compiles; a second pass over the rewritten files changes nothing; every file no
codemod rewrote is byte-identical to the installed one.

LibCST is pure Python, so running every codemod over every file of these packages would
take many minutes. Every file is copied and indexed, and every file no codemod's byte
prefilter wants goes through discovery and the index; of the files some codemod wants, a
fixed sample per package is planned (ordered by a hash of the path, up to a byte budget),
the rest is excluded. The sample is the same on every machine and every run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest

from optimize.codemods.registry import REGISTRY
from optimize.config import Config
from optimize.engine import plan

PACKAGES = (
    "sqlalchemy", "fastapi", "starlette", "pydantic", "libcst", "black", "rich", "typer",
    "click", "httpx", "sqlglot",
)
# Bytes of prefilter-matching source planned per package: the whole test takes about
# 90 s on one core.
BUDGET = 250_000


def _wanted(data: bytes) -> bool:
    return any(codemod.wants(data) for codemod in REGISTRY)


def _sample(package_dir: Path, prefix: str) -> tuple[list[str], list[str]]:
    """(planned wanted files, excluded wanted files), repository-relative."""
    wanted = [p for p in package_dir.rglob("*.py") if _wanted(p.read_bytes())]
    wanted.sort(key=lambda p: hashlib.sha1(p.relative_to(package_dir).as_posix().encode()).hexdigest())
    kept, dropped, used = [], [], 0
    for path in wanted:
        rel = f"{prefix}/{path.relative_to(package_dir).as_posix()}"
        size = path.stat().st_size
        if used + size <= BUDGET or not kept:
            kept.append(rel)
            used += size
        else:
            dropped.append(rel)
    return kept, dropped


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, Path], list[str], list[str]]:
    root = tmp_path_factory.mktemp("corpus")
    origins: dict[str, Path] = {}
    kept: list[str] = []
    excluded: list[str] = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        source = Path(spec.submodule_search_locations[0])
        shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
        origins[name] = source
        k, d = _sample(root / name, name)
        kept += k
        excluded += d
    return root, origins, kept, excluded


@pytest.mark.slow
def test_every_codemod_over_installed_packages(corpus, tmp_path: Path) -> None:
    root, origins, kept, excluded = corpus
    assert len(origins) == len(PACKAGES), f"missing packages: {set(PACKAGES) - set(origins)}"
    config = Config(exclude=excluded)
    result = plan(root, list(REGISTRY), config, unsafe_allowed=True)

    internal = [r for r in result.refusals if "internal error" in r.reason]
    assert not internal, internal[:5]

    final: dict[str, bytes] = {}
    for outcome in result.outcomes:
        for edit in outcome.edits:
            cst.parse_module(edit.after)
            compile(edit.after, edit.path, "exec", dont_inherit=True)
            final[edit.path] = edit.after

    # Files no codemod rewrote are exactly the installed ones (nothing was written).
    for name, source in origins.items():
        for path in (root / name).rglob("*.py"):
            rel = path.relative_to(root).as_posix()
            if rel not in final:
                assert path.read_bytes() == (source / path.relative_to(root / name)).read_bytes(), rel

    # Idempotent: with the rewrites in place, a second pass changes nothing.
    if final:
        for rel, data in final.items():
            (root / rel).write_bytes(data)
        again = plan(root, list(REGISTRY), config, unsafe_allowed=True)
        assert not [(o.codemod.ID, e.path) for o in again.outcomes for e in o.edits]

    total = sum(1 for name in origins for _ in (root / name).rglob("*.py"))
    rewrites = Counter(c.codemod for o in result.outcomes for c in o.changes)
    refusals = Counter(f"{r.codemod}: {r.reason[:70]}" for r in result.refusals)
    skips = Counter(s.reason.split(":")[0] for s in result.skips)
    lines = [
        f"packages: {', '.join(origins)}",
        f"python files: {total}; discovered {result.files_scanned}; "
        f"parsed by LibCST {result.files_parsed}; planned prefilter matches {len(kept)}, "
        f"sampled out {len(excluded)}",
        f"rewrites: {sum(rewrites.values())} {dict(rewrites)} in {len(final)} files",
        f"refusals: {sum(refusals.values())}",
        *(f"  {n} x {reason}" for reason, n in refusals.most_common()),
        f"skips: {sum(skips.values())} {dict(skips)}",
    ]
    summary = "\n".join(lines)
    (tmp_path / "corpus-summary.txt").write_text(summary + "\n")
    print(summary)
    assert result.files_scanned > 800
