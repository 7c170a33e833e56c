"""Errors shown to the user as one line (exit code 2), never as a traceback."""


class OptimizeError(Exception):
    """A usage, configuration or environment problem the user can fix."""

    exit_code = 2


class ConfigError(OptimizeError):
    pass


class GitError(OptimizeError):
    pass
