"""Shared fixtures."""

from __future__ import annotations

import pytest

from tests.postgres import PostgresServer, server_binaries


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server, or a skip saying why there is none."""
    bindir = server_binaries()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql)")
    server = PostgresServer(bindir)
    try:
        server.initialise()
        server.start()
    except Exception as exc:  # a machine that cannot run the server: say so, do not fail
        server.cleanup()
        pytest.skip(f"PostgreSQL server could not start: {exc}")
    try:
        yield server
    finally:
        server.cleanup()


def pytest_collection_modifyitems(items) -> None:
    """The long corpus tests first: with `-n auto` the first items go one to each worker,
    so the two corpus shards run side by side instead of one after the other at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
