"""Build the Iceberg runtime jars for Spark from PyPI wheels, once, into a cache directory.

Maven Central is not always reachable, PyPI is. ``snowpark-connect-deps-iceberg`` ships
``iceberg-spark-runtime-3.5_2.12`` but not the Jackson classes that jar expects under
``org.apache.iceberg.shaded.com.fasterxml.jackson``; ``snowpark-connect-deps-2`` ships plain
Jackson jars. We relocate those with ``jarjar`` (Debian ``libjarjar-java``) into a companion jar,
so the pair works like the official runtime. Both wheels are pinned by version and SHA-256.

Run ``python -m wikistream.spark.jars`` to build (or show) the cache; :func:`ensure_iceberg_jars`
does the same on first use. The SQLite JDBC driver of the local catalog comes from Debian
(``libxerial-sqlite-jdbc-java``): :func:`sqlite_jdbc_jar` finds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from wikistream.errors import ConfigError

ICEBERG_VERSION = "1.10.2"
RUNTIME_JAR = f"iceberg-spark-runtime-3.5_2.12-{ICEBERG_VERSION}.jar"
JACKSON_JAR = f"iceberg-shaded-jackson-{ICEBERG_VERSION}.jar"
JACKSON_VERSION = "2.18.8"
JACKSON_JARS = tuple(
    f"jackson-{name}-{JACKSON_VERSION}.jar" for name in ("core", "databind", "annotations")
)
JARJAR_RULE = "rule com.fasterxml.jackson.** org.apache.iceberg.shaded.com.fasterxml.jackson.@1\n"


@dataclass(frozen=True)
class Wheel:
    """A pinned PyPI wheel and the jars we take from it."""

    requirement: str
    sha256: str
    jars: tuple[str, ...]


WHEELS = (
    Wheel(
        "snowpark-connect-deps-iceberg==1.0.3",
        "4f280e3677ab8d3a89f16647fc392ab2a3d48369f0c48873fe07bc1e74e06ffc",
        (RUNTIME_JAR,),
    ),
    Wheel(
        "snowpark-connect-deps-2==3.56.7",
        "567f48506b8dd6c78083210aa6e741ba057d5a9b8ce45d58b7a12250f5ba7a5d",
        JACKSON_JARS,
    ),
)
JARJAR_CANDIDATES = ("/usr/share/java/jarjar.jar", "/usr/share/java/jarjar-1.4.jar")
SQLITE_JDBC_CANDIDATES = (
    "/usr/share/java/sqlite-jdbc.jar",
    "/usr/share/java/xerial-sqlite-jdbc.jar",
)
MANIFEST = "BUILD.json"


@dataclass(frozen=True)
class IcebergJars:
    """The two jars Spark needs for Iceberg: the runtime and its relocated Jackson."""

    runtime: Path
    jackson: Path

    @property
    def paths(self) -> tuple[Path, Path]:
        """Both jars, for ``spark.jars``."""
        return (self.runtime, self.jackson)


def default_jars_dir() -> Path:
    """``$XDG_CACHE_HOME/wikistream/jars`` (``~/.cache/wikistream/jars``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wikistream" / "jars"


def ensure_iceberg_jars(jars_dir: Path | None = None) -> IcebergJars:
    """Return the cached jars, building them first when absent (safe across processes).

    Raises :class:`ConfigError` when a build step fails (no PyPI, no Java, no jarjar), naming the
    step and what to install; nothing half-built is left in the cache.
    """
    target = (jars_dir or default_jars_dir()) / f"iceberg-{ICEBERG_VERSION}"
    jars = IcebergJars(target / RUNTIME_JAR, target / JACKSON_JAR)
    if _complete(target, jars):
        return jars
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / f".iceberg-{ICEBERG_VERSION}.lock"):
        if _complete(target, jars):  # another process built it while we waited
            return jars
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
            staging = Path(tmp) / "out"
            staging.mkdir()
            _build(Path(tmp), staging)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
    return jars


def _complete(target: Path, jars: IcebergJars) -> bool:
    return (target / MANIFEST).is_file() and all(p.is_file() for p in jars.paths)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(work: Path, out: Path) -> None:
    wheels = _download(work / "wheels")
    extracted = work / "jars"
    extracted.mkdir()
    for wheel in WHEELS:
        _extract(wheels[wheel.requirement], wheel.jars, extracted)
    shutil.copyfile(extracted / RUNTIME_JAR, out / RUNTIME_JAR)
    merged = work / "jackson-merged.jar"
    _merge_classes([extracted / name for name in JACKSON_JARS], merged)
    _relocate(merged, out / JACKSON_JAR, work / "rules.txt")
    manifest = {
        "iceberg_version": ICEBERG_VERSION,
        "jackson_version": JACKSON_VERSION,
        "wheels": {w.requirement: w.sha256 for w in WHEELS},
        "rule": JARJAR_RULE.strip(),
        "jars": {p.name: _sha256(p) for p in sorted(out.glob("*.jar"))},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _download(dest: Path) -> dict[str, Path]:
    """pip-download the pinned wheels (hash-checked) into ``dest``; map requirement → file."""
    dest.mkdir(parents=True)
    requirements = dest / "requirements.txt"
    requirements.write_text(
        "".join(f"{w.requirement} --hash=sha256:{w.sha256}\n" for w in WHEELS), encoding="utf-8"
    )
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
        "--require-hashes", "-r", str(requirements), "-d", str(dest),
    ]  # fmt: skip
    _run(command, "download the Iceberg jar wheels from PyPI", "check network access to PyPI")
    found: dict[str, Path] = {}
    for wheel in WHEELS:
        name = wheel.requirement.split("==")[0].replace("-", "_")
        matches = sorted(dest.glob(f"{name}-*.whl"))
        if not matches:
            raise ConfigError(
                f"pip did not produce a wheel for {wheel.requirement} in {dest}", key="spark.jars"
            )
        found[wheel.requirement] = matches[0]
    return found


def _extract(wheel: Path, names: Sequence[str], dest: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = {Path(m).name: m for m in archive.namelist() if m.endswith(".jar")}
        for name in names:
            if name not in members:
                raise ConfigError(
                    f"{wheel.name} has no {name}; the pinned wheel changed — update "
                    "wikistream.spark.jars",
                    key="spark.jars",
                )
            with archive.open(members[name]) as src, (dest / name).open("wb") as dst:
                shutil.copyfileobj(src, dst)


def _merge_classes(jars: Sequence[Path], out: Path) -> None:
    """One jar with the classes of ``jars`` (their META-INF and module-info are dropped)."""
    seen: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as merged:
        for jar in jars:
            with zipfile.ZipFile(jar) as archive:
                for info in archive.infolist():
                    name = info.filename
                    # META-INF/versions holds Java-11+ variants of classes that exist anyway
                    skip = name.startswith("META-INF/") or name.endswith("module-info.class")
                    if skip or name in seen or info.is_dir():
                        continue
                    seen.add(name)
                    merged.writestr(info, archive.read(name))


def _relocate(merged: Path, out: Path, rules: Path) -> None:
    jarjar = next((Path(p) for p in JARJAR_CANDIDATES if Path(p).is_file()), None)
    if jarjar is None:
        raise ConfigError(
            "building the Iceberg jars needs jarjar, which is not installed; install it with "
            '`apt-get install libjarjar-java`, or set spark.iceberg_jars = "provided" and give '
            "Spark the Iceberg runtime yourself (--packages)",
            key="spark.iceberg_jars",
        )
    java = shutil.which("java")
    if java is None:
        raise ConfigError(
            "building the Iceberg jars needs Java 17 (`java` is not on PATH); install "
            "openjdk-17-jre-headless",
            key="spark.iceberg_jars",
        )
    rules.write_text(JARJAR_RULE, encoding="utf-8")
    _run(
        [java, "-jar", str(jarjar), "process", str(rules), str(merged), str(out)],
        "relocate the Jackson classes with jarjar",
        "check the Java installation",
    )


def _run(command: list[str], what: str, hint: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot {what}: {exc}; {hint}", key="spark.iceberg_jars") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ConfigError(
            f"cannot {what} (exit {done.returncode}): {' | '.join(detail)}; {hint}",
            key="spark.iceberg_jars",
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sqlite_jdbc_jar() -> Path | None:
    """The SQLite JDBC driver jar installed by Debian's ``libxerial-sqlite-jdbc-java``, if any."""
    return next((Path(p) for p in SQLITE_JDBC_CANDIDATES if Path(p).is_file()), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the jar cache (if needed) and print the jar paths, one per line."""
    args = list(argv if argv is not None else sys.argv[1:])
    jars_dir = Path(args[0]) if args else None
    try:
        jars = ensure_iceberg_jars(jars_dir)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in jars.paths:
        print(path)
    sqlite = sqlite_jdbc_jar()
    print(
        sqlite if sqlite else "# no SQLite JDBC driver: apt-get install libxerial-sqlite-jdbc-java"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
