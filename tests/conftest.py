"""Fast unit tests of the harness and of every paper's method: each well under a second, fixed seeds."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    # conftest hooks see every collected item: only the unit tests under tests/ get the 60 s limit
    root = config.rootpath / "tests"
    for item in items:
        if item.path.is_relative_to(root) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(60))


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("BENCH_PROGRESS", "0")
