"""Shared fixtures: the real test data in ../shared (skipped when absent) and one Guangxi run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SITING_SHARED", ROOT.parent / "shared"))
SHARED_DATA = SHARED / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Use a fresh cache folder so tests never depend on a developer's cache."""
    old = os.environ.get("SITING_CACHE")
    os.environ["SITING_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("SITING_CACHE", None)
    else:
        os.environ["SITING_CACHE"] = old


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (../shared beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def guangxi():
    """One built-in run for Guangxi at 1 km, shared by the tests that only read it."""
    import siting

    return siting.assess("guangxi")


# Fixtures that run a whole province: every test that uses one is slow.
PROVINCE_FIXTURES = {"guangxi", "guangxi_no_forest"}


def pytest_collection_modifyitems(config, items):
    """Mark as slow the tests that run a whole province through a shared fixture (the others mark themselves)."""
    for item in items:
        if PROVINCE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
