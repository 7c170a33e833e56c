"""Errors shown to the user as one line (exit code 2), never as a traceback."""

from __future__ import annotations

import os

# Credentials the process may hold for pull requests; never shown, whoever prints them
# (a commit hook, a --verify command, gh, a push URL).
SECRET_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")


def redact(text: str) -> str:
    """``text`` with the value of every credential in the environment replaced by ***."""
    for name in SECRET_VARIABLES:
        value = os.environ.get(name, "")
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text


class OptimizeError(Exception):
    """A usage, configuration or environment problem the user can fix."""

    exit_code = 2

    def __init__(self, message: str = "", *args) -> None:
        super().__init__(redact(str(message)), *args)


class ConfigError(OptimizeError):
    pass


class GitError(OptimizeError):
    pass
