"""Shared fixtures: the real data in ../shared/data and an isolated settings tree per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wikistream.settings import Settings, load_settings

# Session-scoped real services (SeaweedFS, PostgreSQL, moto) for the integration tests.
pytest_plugins = ("tests.services.fixtures",)

REPO = Path(__file__).resolve().parents[1]
_CANDIDATES = [
    os.environ.get("SHARED_DATA_DIR", ""),
    str(REPO.parent / "shared" / "data"),
    str(REPO.parents[1] / "shared" / "data"),  # git worktrees under /work/wt/<name>
]
SHARED_DATA = next((Path(c) for c in _CANDIDATES if c and Path(c).is_dir()), Path(_CANDIDATES[1]))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No WIKISTREAM_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("WIKISTREAM_"):
            monkeypatch.delenv(name)
    return


@pytest.fixture
def shared_data() -> Path:
    """The real sample data shipped beside the project (never copied into it)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real data folder {SHARED_DATA} is missing; set SHARED_DATA_DIR")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings rooted at a fresh data dir."""
    return load_settings(overrides={"data_dir": tmp_path / "data"})


CHROMIUM = "/usr/bin/chromium"  # Debian's package; `.ci/run` installs it
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (skips when either is missing)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` uses -n 2 --dist loadgroup) keep all Spark tests on one
    worker: they share one JVM session that takes ~10 s to start."""
    for item in items:
        if item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))
