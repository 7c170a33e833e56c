"""Every codemod over every Python file of the installed dependencies: thousands of real
files no one here wrote (the site-packages of the interpreter running the tests).

The files are copied into a git repository and go through `apply --unsafe-fixes` as a user
would run it. Guarantees checked: no codemod crashes (no "internal error" refusal); every
rewritten file parses and compiles; every file no codemod rewrote is byte-identical to the
installed one; a second pass over the rewritten files changes nothing; `revert --all`
restores every byte. The counts (files, rewrites, refusals and skips by reason) are printed
and written to `corpus-summary.txt` in the test's directory.
"""

from __future__ import annotations

import shutil
import sysconfig
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest

from optimize import runner
from optimize.codemods.registry import REGISTRY
from optimize.engine import plan
from optimize.files import discover
from tests.gitrepo import git, make_repo


def _installed_python_files() -> dict[str, Path]:
    """Repository path -> installed file, for every `.py` file of site-packages."""
    found: dict[str, Path] = {}
    for key in ("purelib", "platlib"):
        base = Path(sysconfig.get_paths()[key])
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" in path.parts or not path.is_file() or path.is_symlink():
                continue
            found.setdefault(path.relative_to(base).as_posix(), path)
    return found


SHARDS = 2


def _shard_of(installed: dict[str, Path]) -> dict[str, int]:
    """Each top-level package (or module) goes whole to one of two shards, balanced by
    bytes: a package is analysed with all of its own modules, and the two halves run in
    parallel when the suite does."""
    sizes: dict[str, int] = {}
    for rel, path in installed.items():
        top = rel.split("/", 1)[0]
        sizes[top] = sizes.get(top, 0) + path.stat().st_size
    load = [0] * SHARDS
    shard: dict[str, int] = {}
    for top in sorted(sizes, key=lambda t: (-sizes[t], t)):
        lightest = load.index(min(load))
        shard[top] = lightest
        load[lightest] += sizes[top]
    return shard


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_codemod_over_installed_packages(tmp_path: Path, shard: int) -> None:
    everything = _installed_python_files()
    assert len(everything) > 2000, f"only {len(everything)} installed Python files"
    shards = _shard_of(everything)
    installed = {rel: path for rel, path in everything.items() if shards[rel.split("/", 1)[0]] == shard}
    repo = tmp_path / "deps"
    repo.mkdir()
    original: dict[str, bytes] = {}
    for rel, source in installed.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, repo / rel)
        original[rel] = (repo / rel).read_bytes()
    make_repo(repo, {})
    base = git(repo, "rev-parse", "HEAD").strip()

    target = runner.Target.open(repo, need_repo=True)
    facts_cache: dict = {}  # the second pass reuses the facts of files it did not change
    result = runner.apply(target, runner.Selection(unsafe_fixes=True), no_verify=True, index_cache=facts_cache)
    planned = result.plan

    internal = [r for r in planned.refusals if "internal error" in r.reason]
    assert not internal, internal[:5]
    assert not result.dropped, result.dropped

    # Every rewritten file parses and compiles, and is what landed.
    assert git(repo, "status", "--porcelain") == ""
    changed = set(git(repo, "diff", "--name-only", base, "HEAD").split("\n")) - {""}
    final = {e.path: e.after for o in planned.outcomes for e in o.edits}
    assert changed == set(final)
    for rel, data in final.items():
        cst.parse_module(data)
        compile(data, rel, "exec", dont_inherit=True)
        assert (repo / rel).read_bytes() == data, rel

    # Files no codemod rewrote are exactly the installed ones.
    for rel, data in original.items():
        if rel not in changed:
            assert (repo / rel).read_bytes() == data, rel

    # Idempotent: a second pass over the rewritten files (the index reads them all) is empty.
    again = plan(
        repo, list(REGISTRY), target.config, unsafe_allowed=True, only_paths=changed, index_cache=facts_cache
    )
    assert not [(o.codemod.ID, e.path) for o in again.outcomes for e in o.edits]

    if changed:
        runner.revert(target, [], all_=True, no_verify=True)
        assert git(repo, "diff", base, "HEAD") == ""

    discovered, _ = discover(repo, target.config, tracked_only=True)
    rewrites = Counter(c.codemod for o in planned.outcomes for c in o.changes)
    refusals = Counter(f"{r.codemod}: {r.reason[:80]}" for r in planned.refusals)
    skips = Counter(s.reason.split(":")[0] for s in planned.skips)
    lines = [
        f"shard {shard + 1} of {SHARDS}",
        f"python files installed: {len(installed)}; discovered {planned.files_scanned} "
        f"(the rest sit in directories a run never enters, e.g. build/, env/); "
        f"parsed by LibCST {planned.files_parsed}",
        f"rewrites: {sum(rewrites.values())} {dict(rewrites)} in {len(changed)} files",
        *(f"  {c.codemod} {c.path}:{c.line} {c.rationale}" for o in planned.outcomes for c in o.changes),
        f"refusals: {sum(refusals.values())}",
        *(f"  {n} x {reason}" for reason, n in refusals.most_common()),
        f"skips: {sum(skips.values())} {dict(skips)}",
    ]
    summary = "\n".join(lines)
    (tmp_path / "corpus-summary.txt").write_text(summary + "\n")
    print(summary)
    assert planned.files_scanned == len(discovered) > 2000 // SHARDS
