"""`optimize scan` side by side with `ruff check`, in one run, on one corpus.

    python benchmarks/scan.py [--corpus DIR] [--copies 1 2 4] [--app DIR]

The corpus is built from installed packages (sqlalchemy, starlette, fastapi, pydantic,
libcst, sqlglot, typer, rich, black, GitPython) copied into a fresh git repository, so the
figures are reproducible on any machine with the project installed. Each row is one
command run to completion in a fresh process: wall seconds, the peak resident memory of
all its processes together and of the largest one (sampled from /proc), the ratio to
`ruff check --no-cache` on the same tree, and for optimize the files LibCST parsed, by
codemod or check, and the file plans reused from the cache. Rows:

- ruff cold: `ruff check --no-cache` (its default rules);
- optimize cold: `optimize scan` with its cache removed first;
- optimize warm: the same again, nothing changed;
- optimize after a models edit: one line appended to a file that declares models;
- libcst.tool codemod: one equivalent LibCST codemod run over the tree by LibCST's own
  command line, the "write it yourself" baseline;
- the corpus copied 2x and 4x: cold scans, to show the growth.
"""

from __future__ import annotations

import argparse
import json
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("sqlalchemy", "starlette", "fastapi", "pydantic", "libcst", "sqlglot", "typer", "rich", "black", "git")
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class Row:
    label: str
    seconds: float
    peak_mb: float  # all the command's processes together
    largest_mb: float = 0.0  # the largest one of them
    note: str = ""


def build_corpus(dest: Path, copies: int = 1) -> Path:
    """The installed packages copied ``copies`` times into a committed git repository."""
    dest.mkdir(parents=True)
    for copy in range(copies):
        for name in PACKAGES:
            spec = importlib.util.find_spec(name)
            if spec and spec.submodule_search_locations:
                shutil.copytree(
                    spec.submodule_search_locations[0],
                    # One copy lays the packages out at the top, as installed; more go
                    # side by side under copy<N>/.
                    (dest / name) if copies == 1 else (dest / f"copy{copy}" / name),
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc", "*.pyd"),
                )
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "corpus")
    return dest


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def _tree_rss(pid: int) -> tuple[int, int]:
    """Resident bytes of ``pid`` and all its descendants together, and of the largest."""
    total, largest, stack = 0, 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as f:
                resident = int(f.read().split()[1]) * PAGE
            total += resident
            largest = max(largest, resident)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError, PermissionError):
            continue
    return total, largest


def measure(label: str, command: list[str], cwd: Path | None = None, note: str = "") -> Row:
    """Run ``command`` from a neutral directory (never inside the corpus: `python -m`
    would import the corpus's copies of the packages)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd or tempfile.gettempdir(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak = largest = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, largest
        while not done.is_set():
            total, one = _tree_rss(process.pid)
            peak, largest = max(peak, total), max(largest, one)
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, err = process.communicate()
    seconds = time.perf_counter() - start
    parsed = _parsed(output)
    if parsed:  # optimize's JSON: how many files LibCST parsed, and for which codemods
        note = parsed + (f"; {note}" if note else "")
    done.set()
    sampler.join()
    if process.returncode not in (0, 1):
        last = err.decode(errors="replace").strip().splitlines()[-1:]
        note = f"failed, exit {process.returncode}: {last[0] if last else ''}"
    return Row(label, seconds, peak / 2**20, largest / 2**20, note)


def _parsed(output: bytes) -> str:
    """What `optimize scan --format json` says it parsed, as one note."""
    try:
        found = json.loads(output)
    except ValueError:
        return ""
    if not isinstance(found, dict) or "files_parsed" not in found:
        return ""
    by = ", ".join(f"{k} {v}" for k, v in found.get("files_parsed_by", {}).items())
    reused = found.get("files_reused", 0)
    return (
        f"{found['files_parsed']} of {found['files_scanned']} files parsed by LibCST"
        + (f" ({by})" if by else "")
        + (f", {reused} plans reused" if reused else "")
    )


def _models_file(root: Path) -> Path:
    """The first file (in path order) in which optimize's facts find mapped classes."""
    from optimize.analyzers.facts import collect_file_facts
    from optimize.analyzers.syntax import parse_for_facts

    paths = sorted(p for p in root.rglob("*.py") if ".git" not in p.parts)
    for path in paths:
        rel = path.relative_to(root).as_posix()
        tree = parse_for_facts(rel, path.read_bytes())
        if not hasattr(tree, "reason") and collect_file_facts(rel, tree).models:
            return path
    return paths[0]


def scan_rows(corpus: Path, optimize: list[str], ruff: list[str] | None) -> list[Row]:
    rows = []
    if ruff:
        rows.append(measure("ruff check --no-cache", [*ruff, "check", "--no-cache", "-q", str(corpus)]))
    shutil.rmtree(corpus / ".git" / "optimize-cache", ignore_errors=True)
    rows.append(measure("optimize scan, cold", [*optimize, "scan", "--format", "json", str(corpus)]))
    rows.append(measure("optimize scan, warm", [*optimize, "scan", "--format", "json", str(corpus)]))
    models = _models_file(corpus)
    with models.open("a") as f:
        f.write("\n# edited\n")
    _git(corpus, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qam", "edit")
    rows.append(
        measure("optimize scan, after a models edit", [*optimize, "scan", "--format", "json", str(corpus)], note=str(models.relative_to(corpus)))
    )
    return rows


CODEMOD = '''
import libcst as cst
import libcst.matchers as m
from libcst.codemod import VisitorBasedCodemodCommand


class PrimaryKeyGet(VisitorBasedCodemodCommand):
    """`session.query(M).get(x)` -> `session.get(M, x)`: one of optimize's rewrites,
    written directly against LibCST with no prefilter and no index."""

    DESCRIPTION = __doc__

    def leave_Call(self, original, updated):
        if m.matches(updated, m.Call(func=m.Attribute(value=m.Call(func=m.Attribute(attr=m.Name("query"))), attr=m.Name("get")))):
            inner = updated.func.value
            return updated.with_changes(
                func=inner.func.with_changes(attr=cst.Name("get")), args=[*inner.args, *updated.args]
            )
        return updated
'''


def libcst_row(corpus: Path) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        package = Path(tmp) / "benchcodemods"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "primary_key_get.py").write_text(CODEMOD)
        (Path(tmp) / ".libcst.codemod.yaml").write_text(
            "generated_code_marker: '@generated'\nformatter: []\nblacklist_patterns: []\n"
            "modules:\n- 'benchcodemods'\nrepo_root: '.'\n"
        )
        env_python = [sys.executable, "-m", "libcst.tool", "codemod", "--no-format", "--hide-progress"]
        copy = Path(tmp) / "tree"
        shutil.copytree(corpus, copy, ignore=shutil.ignore_patterns(".git"))
        os.environ["PYTHONPATH"] = tmp + os.pathsep + os.environ.get("PYTHONPATH", "")
        try:
            return measure(
                "python -m libcst.tool codemod (one codemod)",
                [*env_python, "primary_key_get.PrimaryKeyGet", str(copy)],
                Path(tmp),
            )
        finally:
            os.environ["PYTHONPATH"] = os.environ["PYTHONPATH"].split(os.pathsep, 1)[1]


def print_rows(title: str, rows: list[Row], base: float | None) -> None:
    print(title)
    print(f"  {'':46}{'seconds':>9}{'peak MB':>9}{'largest':>9}{'x ruff':>8}")
    for row in rows:
        ratio = f"{row.seconds / base:>8.2f}" if base else f"{'':>8}"
        print(f"  {row.label:46}{row.seconds:>9.2f}{row.peak_mb:>9.0f}{row.largest_mb:>9.0f}{ratio}  {row.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="a committed git repository to scan instead of the installed packages")
    parser.add_argument("--app", type=Path, help="also scan this application (a committed git repository)")
    parser.add_argument("--copies", type=int, nargs="*", default=[1, 2, 4], help="corpus sizes for the growth rows")
    parser.add_argument("--no-libcst", action="store_true", help="skip the libcst.tool baseline")
    args = parser.parse_args()
    optimize = [sys.executable, "-m", "optimize"]
    ruff = shutil.which("ruff")
    ruff_cmd = [ruff] if ruff else None
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus or build_corpus(Path(tmp) / "corpus")
        files = sum(1 for p in corpus.rglob("*.py") if ".git" not in p.parts)
        rows = scan_rows(corpus, optimize, ruff_cmd)
        if not args.no_libcst:
            rows.append(libcst_row(corpus))
        print_rows(f"{corpus} ({files} .py files)", rows, rows[0].seconds if ruff_cmd else None)
        if args.app:
            app_rows = scan_rows(args.app, optimize, ruff_cmd)
            print_rows(f"{args.app}", app_rows, app_rows[0].seconds if ruff_cmd else None)
        growth = []
        for copies in [c for c in args.copies if c > 1] if not args.corpus else []:
            tree = build_corpus(Path(tmp) / f"corpus{copies}", copies)
            if ruff_cmd:
                growth.append(measure(f"ruff, {copies}x", [*ruff_cmd, "check", "--no-cache", "-q", str(tree)]))
            growth.append(measure(f"optimize scan cold, {copies}x", [*optimize, "scan", "--format", "json", str(tree)]))
        if growth:
            print_rows("Growth (the corpus copied)", growth, None)


if __name__ == "__main__":
    main()
