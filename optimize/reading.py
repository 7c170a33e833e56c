"""A run's first phase: the repository's files and each one's facts (`analyzers.facts`).

It needs no LibCST, so it can start before the code that plans files is loaded: with
``meanwhile``, worker processes read the facts while this process imports LibCST and the
codemods (about a second, a third of a cold scan of a 160-file application), and this
process joins the reading when that is done. The facts are the same either way. The
code that reads facts is loaded here only once the workers have started (a tenth of a
second: they load it too).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from optimize import progress
from optimize.analyzers.facts_key import facts_key
from optimize.cache import Cache
from optimize.config import Config
from optimize.files import CommittedTree, Skip, SourceFile, discover
from optimize.workers import default_jobs, map_in_workers

if TYPE_CHECKING:
    from optimize.analyzers.facts import FileFacts

# Below this much source without facts, reading it here beats starting processes (`ast`
# reads about a megabyte in half a second; a worker starts in a tenth).
_PARALLEL_MIN_BYTES = 1_000_000
# With work of its own to do meanwhile (a second of imports), this process leaves the
# reading to a worker from this much: about a tenth of a second of reading.
_PARALLEL_MIN_BYTES_MEANWHILE = 200_000

# About a tenth of a second of reading per frame sent to a worker.
_BATCH_BYTES = 200_000


@dataclass
class Reading:
    """The files a run plans and the ones skipped with the reason, as `discover` found
    them with these arguments, and their facts once read (by `analyzers.facts_key`)."""

    root: Path
    tracked_only: bool
    committed: CommittedTree | None
    files: list[SourceFile]
    skips: list[Skip]
    facts: dict | None = None

    @classmethod
    def discover(
        cls, root: Path, config: Config, *, tracked_only: bool = False, committed: CommittedTree | None = None
    ) -> "Reading":
        root = root.resolve()
        files, skips = discover(root, config, tracked_only=tracked_only, committed=committed)
        return cls(root, tracked_only, committed, files, skips)

    def made_for(self, root: Path, tracked_only: bool, committed: CommittedTree | None) -> bool:
        return (self.root, self.tracked_only, self.committed) == (root.resolve(), tracked_only, committed)

    def read_facts(
        self, cache: Cache | None, jobs: int | None, into: dict | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> dict:
        """The files' facts: those ``into`` (else ``cache``) holds, and the rest read,
        calling ``meanwhile`` (once, whatever else happens) while workers read."""
        if self.facts is None:
            self.facts = into if into is not None else (cache.load_facts() if cache is not None else None) or {}
            started = read_facts({f.path: f.data for f in self.files}, self.facts, jobs, meanwhile=meanwhile)
            if not started and meanwhile is not None:
                meanwhile()
        elif into is not None and into is not self.facts:
            into.update(self.facts)
            self.facts = into
        return self.facts


def _facts_here(item: tuple[str, bytes]) -> "FileFacts | str":
    from optimize.analyzers.index import analyse_file

    return analyse_file(*item)


def read_facts(
    files: dict[str, bytes], cache: dict, jobs: int | None, meanwhile: Callable[[], object] | None = None
) -> bool:
    """Read the facts of the files ``cache`` lacks in worker processes when there are
    enough of them, the biggest first, into ``cache``; `RepoIndex.build` reads the rest
    (and any file a worker could not read) itself. Whether workers were started (and
    ``meanwhile`` called)."""
    jobs = default_jobs() if jobs is None else jobs
    missing = [(p, d) for p, d in files.items() if facts_key(p, d) not in cache]
    enough = _PARALLEL_MIN_BYTES if meanwhile is None else _PARALLEL_MIN_BYTES_MEANWHILE
    if jobs < 2 or len(missing) < 2 or sum(len(d) for _, d in missing) < enough:
        return False
    missing.sort(key=lambda item: -len(item[1]))
    step = progress.phase("reading files", len(missing))
    found_all = map_in_workers(
        pickle.dumps(None), missing, jobs, task="facts", on_done=step.advance, here=_facts_here,
        batch_bytes=_BATCH_BYTES, first=meanwhile,
    )
    # Loaded by now, by the reading here or by ``meanwhile``.
    from optimize.analyzers.facts import FileFacts

    for (path, data), found in zip(missing, found_all):
        if isinstance(found, FileFacts):
            cache[facts_key(path, data)] = found
    return True
