"""Shared fixtures: the real data in ../shared/data and an isolated settings tree per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from wikistream.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
# ../shared/data beside the main checkout; ../../shared/data beside a worktree in /work/wt/<name>.
_CANDIDATES = [REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data"]
SHARED_DATA = Path(
    os.environ.get("WIKISTREAM_SHARED_DATA")
    or next((c for c in _CANDIDATES if c.is_dir()), _CANDIDATES[0])
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No WIKISTREAM_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("WIKISTREAM_") and name != "WIKISTREAM_SHARED_DATA":
            monkeypatch.delenv(name)
    return


@pytest.fixture
def shared_data() -> Path:
    """The real sample data shipped beside the project (never copied into it)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real data folder {SHARED_DATA} is missing; set WIKISTREAM_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings rooted at a fresh data dir."""
    return load_settings(overrides={"data_dir": tmp_path / "data"})
