"""Building the Iceberg jars: the merge step, and failures that name what to install."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from wikistream.errors import ConfigError
from wikistream.spark import jars


def _jar(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, b"x")
    return path


def test_merge_keeps_classes_once_and_drops_meta_inf(tmp_path: Path) -> None:
    a = _jar(tmp_path / "a.jar", ["com/fasterxml/jackson/core/A.class", "META-INF/MANIFEST.MF"])
    b = _jar(
        tmp_path / "b.jar",
        [
            "com/fasterxml/jackson/core/A.class",
            "com/fasterxml/jackson/databind/B.class",
            "module-info.class",
            "META-INF/versions/11/com/fasterxml/jackson/core/A.class",
        ],
    )
    out = tmp_path / "merged.jar"
    jars._merge_classes([a, b], out)
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [
            "com/fasterxml/jackson/core/A.class",
            "com/fasterxml/jackson/databind/B.class",
        ]


def test_missing_jarjar_names_the_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jars, "JARJAR_CANDIDATES", (str(tmp_path / "none.jar"),))
    with pytest.raises(ConfigError, match="libjarjar-java") as info:
        jars._relocate(tmp_path / "in.jar", tmp_path / "out.jar", tmp_path / "rules.txt")
    assert info.value.key == "spark.iceberg_jars"


def test_a_failing_build_step_reports_its_output() -> None:
    command = [sys.executable, "-c", "import sys; print('boom: no route'); sys.exit(3)"]
    with pytest.raises(ConfigError, match=r"exit 3.*boom: no route.*check the network"):
        jars._run(command, "download the wheels", "check the network")


def test_a_complete_cache_is_used_without_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / f"iceberg-{jars.ICEBERG_VERSION}"
    target.mkdir()
    for name in (jars.RUNTIME_JAR, jars.JACKSON_JAR, jars.MANIFEST):
        (target / name).write_bytes(b"x")

    def no_build(*_: object) -> None:
        raise AssertionError("the cache was complete: nothing should be built")

    monkeypatch.setattr(jars, "_build", no_build)
    found = jars.ensure_iceberg_jars(tmp_path)
    assert found.paths == (target / jars.RUNTIME_JAR, target / jars.JACKSON_JAR)


def test_an_incomplete_cache_is_rebuilt_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / f"iceberg-{jars.ICEBERG_VERSION}"
    target.mkdir()
    (target / jars.RUNTIME_JAR).write_bytes(b"half")  # an interrupted older build

    def fake_build(work: Path, out: Path) -> None:
        for name in (jars.RUNTIME_JAR, jars.JACKSON_JAR, jars.MANIFEST):
            (out / name).write_bytes(b"built")

    monkeypatch.setattr(jars, "_build", fake_build)
    found = jars.ensure_iceberg_jars(tmp_path)
    assert found.runtime.read_bytes() == b"built"
    assert not list(tmp_path.glob(".build-*"))
