"""What a run keeps for the next one, as ruff keeps `.ruff_cache`.

What is kept, each keyed so that a stale entry can never be used:

- **Facts**: each file's `ast` facts (`analyzers.facts.FileFacts`), keyed by its path and
  the hash of its bytes. A file's facts depend on nothing else, so a warm index reads
  every unchanged file's facts from here and parses only the files that changed. They
  are kept in sixteen files by key, so that an edit rewrites two of them, not all.
- **File plans**: each file's plan (what every codemod and check did to it, or that none
  applies), keyed by its path, its hash, the configuration and the selection, with the
  questions its planning asked the index and a digest of each answer
  (`analyzers.recording`). A plan depends on answers to cross-file questions (which
  models exist, who calls a function, ...): it is reused only when every question gets
  the same answer again, so an edit re-plans exactly the files whose answers it changes.
- **Scan results**: a whole `scan`'s result, keyed by every file's path and hash, the
  project files (requirements, pyproject), the configuration, the selection and the
  versions, and the configuration and selection it resolved to (`optimize.reuse`), so
  that a scan with nothing changed is answered without planning or importing LibCST.

Where: in the repository's git directory (`.git/optimize-cache/`, the common directory of
a worktree), so nothing appears in the working tree, `git status` stays clean and no
`.gitignore` needs an entry; a directory that is not in a git repository gets no cache.
Every file starts with a header naming the tool's version and a digest of its code and
of the Python and formatter versions: a file written by another version, a truncated or
corrupt file, or one that does not unpickle, is ignored and rewritten. `--no-cache`
reads and writes nothing. `apply` uses only the facts: what it commits is planned anew
from the recorded commit on every run.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from optimize import __version__
from optimize.git import git_dir

_HEADER = b"optimize-cache 1\n"
_FACTS = "facts-{shard}.pickle"
_SHARDS = "0123456789abcdef"  # the first digit of a facts key (a SHA-1 in hex)
_SCANS = "scan-{key}.pickle"
_FRONTS = "front-{key}.pickle"
_RESULTS = "file-plans.pickle"
_KEEP_SCANS = 4  # results of the last few selections / configurations


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The tool's version, its own source, and the versions its output depends on."""
    digest = hashlib.sha1(f"{__version__} {sys.version_info[:3]} {sys.implementation.name}".encode())
    import optimize.analyzers
    import optimize.codemods

    # In a checkout the subpackages live beside `optimize/`; installed, inside it.
    roots = sorted({Path(m.__file__).resolve().parent for m in (sys.modules["optimize"], optimize.analyzers, optimize.codemods)})
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            digest.update(path.as_posix().encode())
            digest.update(path.read_bytes())
    digest.update(black_version().encode())
    return digest.hexdigest()


def black_version() -> str:
    """black's version as its installation records it ("" without black): from the name
    of the one `black-<version>.dist-info` directory beside the package, without loading
    `importlib.metadata` (50 ms: a seventh of a warm scan); else from `importlib.metadata`."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("black")
        if spec is None:
            return ""
        for location in spec.submodule_search_locations or ():
            found = [n for n in os.listdir(Path(location).parent) if n.startswith("black-") and n.endswith(".dist-info")]
            if len(found) == 1:
                return found[0].removeprefix("black-").removesuffix(".dist-info")
        from importlib.metadata import version

        return version("black")
    except Exception:  # noqa: BLE001 - no readable black: nothing to key on
        return ""


class Cache:
    """The cache of one repository; a disabled one keeps nothing."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._digest: str | None = None
        self._facts_read: dict[str, frozenset[str]] = {}  # shard -> the keys read from it

    @classmethod
    def open(cls, root: Path, *, enabled: bool = True) -> "Cache":
        git = git_dir(root.resolve()) if enabled else None
        return cls(git / "optimize-cache" if git is not None else None)

    @property
    def digest(self) -> str:
        if self._digest is None:
            self._digest = _code_digest()
        return self._digest

    # --- facts ---------------------------------------------------------------------------

    def load_facts(self) -> dict[str, Any]:
        """Facts by `RepoIndex.build`'s key (path and content hash)."""
        found: dict[str, Any] = {}
        for shard in _SHARDS:
            part = self._read(_FACTS.format(shard=shard))
            if isinstance(part, dict) and all(isinstance(k, str) and k.startswith(shard) for k in part):
                found.update(part)
                self._facts_read[shard] = frozenset(part)
        return found

    def save_facts(self, facts: dict[str, Any], used: set[str]) -> None:
        """Keep the facts of the files this run read (others are of files since changed).
        The facts are kept in sixteen files by the first digit of their key, and only those
        whose keys changed are written: after an edit, two of them."""
        for shard in _SHARDS:
            keys = frozenset(k for k in used if k.startswith(shard) and k in facts)
            if self._facts_read.get(shard) != keys:
                self._write(_FACTS.format(shard=shard), {k: facts[k] for k in keys})
                self._facts_read[shard] = keys

    # --- scan results --------------------------------------------------------------------

    @staticmethod
    def scan_key(*parts: Any) -> str:
        return hashlib.sha1(pickle.dumps(parts, protocol=4)).hexdigest()

    def load_scan(self, key: str) -> Any | None:
        return self._read(_SCANS.format(key=key))

    def save_scan(self, key: str, value: Any) -> None:
        self._write_kept(_SCANS, key, value)

    def load_results(self) -> dict[str, Any]:
        """Each file's plan with the questions it asked, by file and run (`engine.plan`)."""
        found = self._read(_RESULTS)
        return found if isinstance(found, dict) else {}

    def save_results(self, results: dict[str, Any]) -> None:
        self._write(_RESULTS, results)

    def load_front(self, key: str) -> Any | None:
        """What a scan resolved its configuration and selection to (`optimize.reuse`)."""
        return self._read(_FRONTS.format(key=key))

    def save_front(self, key: str, value: Any) -> None:
        self._write_kept(_FRONTS, key, value)

    def _write_kept(self, pattern: str, key: str, value: Any) -> None:
        """Write one entry of a kind, keeping only the newest few of that kind."""
        self._write(pattern.format(key=key), value)
        if self.directory is None:
            return
        try:  # another run may remove a file between the listing and the stat
            kept = sorted(self.directory.glob(pattern.format(key="*")), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in kept[_KEEP_SCANS:]:
                old.unlink(missing_ok=True)
        except OSError:
            pass

    # --- files ---------------------------------------------------------------------------

    def _read(self, name: str) -> Any | None:
        if self.directory is None:
            return None
        try:
            data = (self.directory / name).read_bytes()
        except OSError:
            return None
        head = _HEADER + self.digest.encode() + b"\n"
        if not data.startswith(head):
            return None  # another version's, or not ours
        collecting = gc.isenabled()
        gc.disable()  # many objects, no garbage: collecting while they are built only costs
        try:
            return pickle.loads(data[len(head):])
        except Exception:  # noqa: BLE001 - a corrupt or truncated file is a miss
            return None
        finally:
            if collecting:
                gc.enable()

    def _write(self, name: str, value: Any) -> None:
        if self.directory is None:
            return
        collecting = gc.isenabled()
        # Pickling the facts makes a tuple per object, and the collector, run over and over
        # by them, walks the whole young heap of facts each time: half the time of pickling
        # (0.73 s -> 0.39 s on the corpus of `benchmarks/scan.py`).
        gc.disable()
        try:
            data = _HEADER + self.digest.encode() + b"\n" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return  # a cache that cannot be written is a slower next run, never a failure
        finally:
            if collecting:
                gc.enable()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.directory / name)  # readers see the old file or the new one
        except OSError:
            pass  # a cache that cannot be written is a slower next run, never a failure
