"""What a file's facts are kept under: a digest of its path and bytes, which they depend on
alone. A module of its own, so that a run can tell which files lack facts before it loads
the code that reads them (`optimize.reading` starts its workers first)."""

from __future__ import annotations


def facts_key(path: str, source: bytes) -> str:
    import hashlib  # here: a facts worker never keys, and OpenSSL costs it 4 MB

    return hashlib.sha1(path.encode() + b"\0" + source).hexdigest()
