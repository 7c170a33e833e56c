"""Figures side by side with the alternative, in one run.

    python benchmarks/run.py [--corpus DIR]

1. Planning every codemod over a large tree of real Python code (by default the installed
   sqlalchemy, fastapi, starlette and pydantic packages): with each codemod's byte triggers
   and the index's model-name gate (what `optimize` does), the same in one process per
   CPU (what `optimize` does on a large tree), and with every file parsed (the alternative).
2. The example app: SQL statements and latency per request before and after `apply`
   (see benchmarks/app_effect.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

from optimize.codemods.base import Codemod
from optimize.codemods.registry import REGISTRY
from optimize.config import Config
from optimize.engine import plan


def default_corpus(dest: Path) -> Path:
    for name in ("sqlalchemy", "fastapi", "starlette", "pydantic"):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            shutil.copytree(
                spec.submodule_search_locations[0],
                dest / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"),
            )
    return dest


def timed_plan(root: Path, filtered: bool, jobs: int | None) -> tuple[float, int, int, int]:
    original = Codemod.applies
    if not filtered:  # workers import the real filter, so this row runs in one process
        Codemod.applies = classmethod(lambda cls, source, index: True)
    try:
        start = time.perf_counter()
        result = plan(root, list(REGISTRY), Config(), unsafe_allowed=True, jobs=jobs)
        elapsed = time.perf_counter() - start
    finally:
        Codemod.applies = original
    changes = sum(len(o.changes) for o in result.outcomes)
    return elapsed, result.files_scanned, result.files_parsed, changes


def prefilter_figures(corpus: Path) -> None:
    print(f"Planning every codemod over {corpus}")
    print(f"{'':34}{'seconds':>10}{'files':>8}{'parsed':>8}{'changes':>9}")
    rows = {}
    for label, filtered, jobs in (
        ("filters, one process (ours)", True, 1),
        ("filters, a process per CPU (ours)", True, None),
        ("parse every file, one process", False, 1),
    ):
        rows[label] = timed_plan(corpus, filtered, jobs)
        secs, files, parsed, changes = rows[label]
        print(f"{label:34}{secs:>10.2f}{files:>8}{parsed:>8}{changes:>9}")
    one, many, alt = rows.values()
    print(
        f"filters: {alt[0] / one[0]:.1f}x faster than parsing every file; workers: "
        f"{one[0] / many[0]:.1f}x on top; same changes: {one[3] == many[3] == alt[3]}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="directory of Python code to plan over")
    parser.add_argument("--skip-app", action="store_true", help="skip the example-app figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus or default_corpus(Path(tmp) / "corpus")
        prefilter_figures(corpus)
    if not args.skip_app:
        sys.path.insert(0, str(Path(__file__).parent))
        try:
            from app_effect import main as app_effect
        except ImportError as exc:
            print(f"example-app figures unavailable: {exc}")
        else:
            app_effect()


if __name__ == "__main__":
    main()
