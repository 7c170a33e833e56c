"""The lowest SQLAlchemy version a project's dependency files allow."""

from __future__ import annotations

import json

import pytest

from optimize.analyzers.versions import sqlalchemy_minimum


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"requirements.txt": "sqlalchemy<3,>=2.0.4\n"}, (2, 0, 4)),
        ({"requirements.txt": "SQLAlchemy >= 2.0.4 ; python_version > '3.8'\n"}, (2, 0, 4)),
        ({"requirements.txt": "sqlalchemy!=2.0.1,>=2.0.0\n"}, (2, 0, 0)),
        ({"requirements.txt": "sqlalchemy~=2.0.10\n"}, (2, 0, 10)),
        ({"requirements.txt": "sqlalchemy==2.0.*\n"}, (2, 0)),
        ({"requirements.txt": "sqlalchemy>2.0.3\n"}, (2, 0, 3)),  # 2.0.3.post1 would do
        ({"requirements.txt": "sqlalchemy>=2.0.4rc1\n"}, (2, 0, 3)),  # a pre-release is below
        ({"requirements.txt": "sqlalchemy<3\n"}, None),
        ({"requirements.txt": "sqlalchemy @ https://example.org/sqlalchemy.whl\n"}, None),
        ({"requirements.txt": "-r base.txt\n--index-url https://x\nsqlalchemy==2.0.9 \\\n    --hash=sha256:ab\n"}, (2, 0, 9)),
        ({"requirements.txt": "flask-sqlalchemy>=3.1\nsqlalchemy-utils>=0.41\ntypes-sqlalchemy>=9\n"}, None),
        ({"requirements.txt": "sqlalchemy>=2.0.4\n", "requirements-legacy.txt": "sqlalchemy>=1.4\n"}, (1, 4)),
        ({"pyproject.toml": '[project]\ndependencies = ["sqlalchemy[asyncio]<3,>=2.0.9"]\n'}, (2, 0, 9)),
        ({"pyproject.toml": '[project]\ndependencies = []\n[project.optional-dependencies]\ndb = ["sqlalchemy>=2.0.5"]\n'}, (2, 0, 5)),
        ({"pyproject.toml": '[dependency-groups]\ndev = ["sqlalchemy>=2.0.6"]\n'}, (2, 0, 6)),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nSQLAlchemy = {extras = ["asyncio"], version = ">= 2.0.7, < 3"}\n'}, (2, 0, 7)),
        ({"pyproject.toml": '[tool.poetry.dependencies]\nsqlalchemy = "2.0.8"\n'}, (2, 0, 8)),
        ({"pyproject.toml": '[tool.poetry.dependencies]\nsqlalchemy = "~2.0.11 || ^2.1"\n'}, (2, 0, 11)),
        ({"pyproject.toml": '[tool.poetry.group.dev.dependencies]\nsqlalchemy = "*"\n'}, None),
        ({"pyproject.toml": "this is [not toml"}, None),
        ({"setup.cfg": "[options]\ninstall_requires =\n    fastapi\n    sqlalchemy>=2.0.12\n"}, (2, 0, 12)),
        (
            {
                "pyproject.toml": '[project]\ndependencies = ["sqlalchemy>=1.4"]\n',
                "uv.lock": 'version = 1\n[[package]]\nname = "sqlalchemy"\nversion = "2.0.36"\n',
            },
            (2, 0, 36),
        ),
        (
            {
                "requirements.txt": "sqlalchemy>=1.4\n",
                "Pipfile.lock": json.dumps({"default": {"sqlalchemy": {"version": "==2.0.31"}}}),
            },
            (2, 0, 31),
        ),
    ],
)
def test_sqlalchemy_minimum(files, expected) -> None:
    assert sqlalchemy_minimum({k: v.encode() for k, v in files.items()}) == expected
