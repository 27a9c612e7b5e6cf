"""Status, alarm and report files are replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from wikistream.atomic_file import write_text_atomic


def test_the_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "bronze.status.json"
    write_text_atomic(path, "first")
    write_text_atomic(path, "second ✓")
    assert path.read_text(encoding="utf-8") == "second ✓"
    assert [p.name for p in tmp_path.iterdir()] == ["bronze.status.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "alerts.json"
    write_text_atomic(path, "[]")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "lone surrogate \ud800")
    assert path.read_text(encoding="utf-8") == "[]"
    assert [p.name for p in tmp_path.iterdir()] == ["alerts.json"]
