"""Every package of the source tree is in the wheel: `pyproject.toml` maps `codemods/`,
`analyzers/` and `fixtures/` under `optimize` and lists each package, so a subpackage left
out of the list imports in an editable install and fails in `pip install .`."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_source_package_is_listed() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    found = set()
    for name, directory in setuptools["package-dir"].items():
        if name == "optimize.fixtures":
            continue  # data: the example app ships as package data
        base = ROOT / directory
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    assert found - listed == set()
