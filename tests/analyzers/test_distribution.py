"""The packages a project's build configuration ships together (`analyzers/distribution.py`)."""

from __future__ import annotations

import pytest

from optimize.analyzers.distribution import declared_packages

PACKAGES = frozenset({"app", "worker", "src/api", "src/api/routes", "tests"})

CASES = [
    ("pyproject.toml", '[tool.setuptools]\npackages = ["worker", "app", "app.sub"]\n', ("worker", "app")),
    ("pyproject.toml", '[tool.setuptools]\npackages = ["api"]\npackage-dir = {"" = "src"}\n', ("src/api",)),
    ("pyproject.toml", '[tool.setuptools.packages.find]\nwhere = ["src"]\n', ("src/api",)),
    ("pyproject.toml", '[tool.setuptools.packages.find]\ninclude = ["app*", "worker*"]\n', ("app", "worker")),
    ("pyproject.toml", '[tool.poetry]\npackages = [{include = "api", from = "src"}, {include = "app"}]\n', ("src/api", "app")),
    ("pyproject.toml", '[tool.hatch.build.targets.wheel]\npackages = ["src/api", "worker"]\n', ("src/api", "worker")),
    ("pyproject.toml", '[tool.flit.module]\nname = "app"\n', ("app",)),
    ("setup.cfg", "[options]\npackages = app, worker\n", ("app", "worker")),
    ("setup.cfg", "[options]\npackage_dir =\n    =src\npackages = find:\n\n[options.packages.find]\nwhere = src\n", ("src/api",)),
    # Declared but not a package in the repository, unreadable, or not declared at all.
    ("pyproject.toml", '[tool.setuptools]\npackages = ["missing"]\n', ()),
    ("pyproject.toml", "[tool.setuptools\npackages = ", ()),
    ("pyproject.toml", '[project]\nname = "app"\n', ()),
    ("setup.cfg", "[options\n", ()),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES)
def test_declared_packages(name: str, text: str, expected: tuple[str, ...]) -> None:
    assert declared_packages({name: text.encode()}, PACKAGES) == expected
