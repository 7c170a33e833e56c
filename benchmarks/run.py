"""Figures side by side with the alternative, in one run.

    python benchmarks/run.py [--corpus DIR]

1. Prefilter: planning every codemod over a large tree of real Python code (by default
   the installed sqlalchemy, fastapi, starlette and pydantic packages), with each codemod's
   byte triggers (what `optimize` does) and with every file parsed (the alternative).
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


def timed_plan(root: Path, prefilter: bool) -> tuple[float, int, int, int]:
    original = Codemod.wants
    if not prefilter:
        Codemod.wants = classmethod(lambda cls, source: True)
    try:
        start = time.perf_counter()
        result = plan(root, list(REGISTRY), Config(), unsafe_allowed=True)
        elapsed = time.perf_counter() - start
    finally:
        Codemod.wants = original
    changes = sum(len(o.changes) for o in result.outcomes)
    return elapsed, result.files_scanned, result.files_parsed, changes


def prefilter_figures(corpus: Path) -> None:
    print(f"Prefilter: every codemod planned over {corpus}")
    print(f"{'':24}{'seconds':>10}{'files':>8}{'parsed':>8}{'changes':>9}")
    rows = {}
    for label, prefilter in (("byte triggers (ours)", True), ("parse every file", False)):
        rows[label] = timed_plan(corpus, prefilter)
        secs, files, parsed, changes = rows[label]
        print(f"{label:24}{secs:>10.2f}{files:>8}{parsed:>8}{changes:>9}")
    ours, alt = rows["byte triggers (ours)"], rows["parse every file"]
    print(f"speed-up: {alt[0] / ours[0]:.1f}x, same changes: {ours[3] == alt[3]}\n")


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
