"""Keep a black-formatted repository black-clean after a rewrite.

Only files that were black-clean before are reformatted, with the repository's own
`[tool.black]` settings, so the commit passes the repository's checks without
reformatting code the team chose to leave alone. black is imported only by a run that
formats (its import costs more than most scans). A repository formatted with `ruff
format` is kept clean the same way by `optimize.linting.ruff_reformat`.
"""

from __future__ import annotations

import io
import tokenize
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import black



@lru_cache(maxsize=8)
def _mode(root: Path) -> "black.Mode":
    import black

    pyproject = root / "pyproject.toml"
    config = black.parse_pyproject_toml(str(pyproject)) if pyproject.is_file() else {}
    return black.Mode(
        line_length=int(config.get("line_length", black.DEFAULT_LINE_LENGTH)),
        string_normalization=not config.get("skip_string_normalization", False),
        magic_trailing_comma=not config.get("skip_magic_trailing_comma", False),
        preview=bool(config.get("preview", False)),
    )


def _format(data: bytes, mode: "black.Mode") -> bytes:
    """``data`` formatted by black, with its encoding (BOM included) and line endings kept."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    first_line_end = data.find(b"\n")
    newline = "\r\n" if first_line_end > 0 and data[first_line_end - 1 : first_line_end] == b"\r" else "\n"
    text = data.decode(encoding).replace("\r\n", "\n")
    import black

    formatted = black.format_str(text, mode=mode)
    return formatted.replace("\n", newline).encode(encoding)


def black_clean(root: Path, data: bytes) -> bool:
    """Whether black, with the repository's settings, leaves ``data`` as it is (False when
    black refuses it, or the settings)."""
    try:
        return _format(data, _mode(root)) == data
    except Exception:  # noqa: BLE001 - black refuses some inputs: nothing to keep clean
        return False


def black_reformat(root: Path, after: bytes, clean: bool) -> bytes:
    """``after`` reformatted with black when its file was black-clean (``clean``, from
    `black_clean` of the file as committed, asked once however many codemods rewrite it:
    each check is a whole black run), else ``after``."""
    if not clean:
        return after
    try:
        return _format(after, _mode(root))  # a [tool.black] section black itself rejects: as it is
    except Exception:  # black refuses some inputs; the rewrite stands as it is
        return after
