"""The synthetic generator: schema validity, layout, determinism, mix, ground truth, failures."""

from __future__ import annotations

import gzip
import itertools
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from wikistream.clock import parse_iso_utc
from wikistream.errors import ConfigError
from wikistream.ingest import calibration as cal
from wikistream.ingest.config import SEED_TARGET_DOMAINS
from wikistream.ingest.generate import (
    EventGenerator,
    GenerateOptions,
    manifest_path,
    read_manifest,
    write_events,
)
from wikistream.ingest.synth.planted import seed_risk
from wikistream.ingest.synth.users import DAILY_CAPS, UserPool

START = datetime(2026, 2, 26, 9, 0, tzinfo=UTC)
TARGETS = frozenset(SEED_TARGET_DOMAINS)
DT_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TEMP_RE = re.compile(r"^~\d{4}-\d{5}-\d{1,2}$")
IPV4_RE = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
IPV6_RE = re.compile(r"^[0-9A-F]{1,4}(:[0-9A-F]{1,4}){7}$")
SRC = Path(__file__).resolve().parents[2] / "src"


def read_lines(path: Path) -> list[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return handle.read().splitlines()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], dict[str, Any]]:
    """One 20 000-line file with 2 vandals, 2 medium users, late events and duplicates."""
    out = tmp_path_factory.mktemp("gen") / "events.jsonl"
    options = GenerateOptions(
        events=20_000,
        seed=7,
        start=START,
        vandals=2,
        late_fraction=0.02,
        duplicate_fraction=0.02,
    )
    manifest = write_events(options, out, manifest=True)
    assert read_manifest(out) == manifest
    return read_lines(out), manifest


@pytest.fixture(scope="module")
def events(generated: tuple[list[bytes], dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in generated[0]]


@pytest.fixture(scope="module")
def originals(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events minus canaries and re-sent duplicates (first occurrence of each meta.id)."""
    seen: set[str] = set()
    kept = []
    for event in events:
        if event["meta"]["domain"] == "canary" or event["meta"]["id"] in seen:
            continue
        seen.add(event["meta"]["id"])
        kept.append(event)
    return kept


def test_every_event_validates_against_the_recentchange_schema(
    shared_data: Path, events: list[dict[str, Any]]
) -> None:
    schema = json.loads((shared_data / "recentchange.schema.json").read_text())
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    failures = [(i, e.message) for i, ev in enumerate(events) for e in validator.iter_errors(ev)]
    assert failures == []
    for event in events:
        meta = event["meta"]
        assert DT_RE.match(meta["dt"]), meta["dt"]
        assert UUID_RE.match(meta["id"])
        assert UUID_RE.match(meta["request_id"])
        assert meta["stream"] == "mediawiki.recentchange"
        assert meta["topic"] == cal.TOPIC
        assert meta["partition"] == 0
        if meta["domain"] != "canary":
            # timestamp is floor(meta.dt); title_url and meta.uri name the same page.
            assert event["timestamp"] == math.floor(parse_iso_utc(meta["dt"]).timestamp())
            assert meta["uri"] == event["title_url"]
            assert event["server_url"] == f"https://{meta['domain']}" == meta["uri"][: len(
                event["server_url"])]  # fmt: skip
            assert event["server_name"] == meta["domain"]


def _real_layouts(shared_data: Path) -> dict[str, list[list[str]]]:
    layouts: dict[str, list[list[str]]] = defaultdict(list)
    for line in (shared_data / "recentchange-2026-02-26.jsonl").read_text().splitlines():
        event = json.loads(line)
        layouts[event["type"]].append(list(event))
    return layouts


def test_field_layout_matches_the_live_2026_sample_per_type(
    shared_data: Path, originals: list[dict[str, Any]]
) -> None:
    real = _real_layouts(shared_data)
    sample = (shared_data / "recentchange-2026-02-26.jsonl").read_text().splitlines()
    real_meta = list(json.loads(sample[0])["meta"])
    seen_layouts: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for event in originals:
        assert list(event["meta"]) == real_meta
        seen_layouts[event["type"]].add(tuple(event))
        if event["type"] == "edit":
            assert set(event["length"]) == {"old", "new"} == set(event["revision"])
            assert event["revision"]["new"] > event["revision"]["old"]
            assert f"diff={event['revision']['new']}&oldid={event['revision']['old']}" in (
                event["notify_url"])  # fmt: skip
        elif event["type"] == "new":
            assert list(event["length"]) == ["new"]
            assert list(event["revision"]) == ["new"]
        elif event["type"] == "categorize":
            assert not {"length", "revision", "minor", "patrolled"} & set(event)
            assert event["namespace"] == 14
        else:
            assert {"log_id", "log_type", "log_action", "log_params", "log_action_comment"} <= set(
                event)  # fmt: skip
            assert "notify_url" not in event
    # Every layout the real sample shows for a type is produced (patrolled and rc id optional).
    for kind, layouts in real.items():
        for layout in layouts:
            assert tuple(layout) in seen_layouts[kind], (kind, layout)


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    def make(seed: int, name: str) -> bytes:
        options = GenerateOptions(events=3000, seed=seed, start=START, duplicate_fraction=0.05,
                                  late_fraction=0.05)  # fmt: skip
        write_events(options, tmp_path / name)
        return (tmp_path / name).read_bytes()

    first, again, other = make(11, "a.jsonl.gz"), make(11, "b.jsonl.gz"), make(12, "c.jsonl.gz")
    assert first == again
    assert first != other
    assert gzip.decompress(first).count(b"\n") == 3000


def test_gz_output_holds_the_same_lines_as_plain(tmp_path: Path) -> None:
    options = GenerateOptions(events=2000, seed=5, start=START)
    plain = write_events(options, tmp_path / "x.jsonl")
    packed = write_events(options, tmp_path / "x.jsonl.gz")
    assert gzip.decompress((tmp_path / "x.jsonl.gz").read_bytes()) == (
        tmp_path / "x.jsonl").read_bytes()  # fmt: skip
    assert {k: v for k, v in plain.items() if k != "file"} == {
        k: v for k, v in packed.items() if k != "file"
    }
    assert not list(tmp_path.glob(".*partial"))


def test_offsets_are_consecutive_and_duplicates_are_exact_resends(
    generated: tuple[list[bytes], dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    lines, manifest = generated
    first_line_of: dict[str, bytes] = {}
    offsets = []
    duplicates = 0
    for line, event in zip(lines, events, strict=True):
        meta_id = event["meta"]["id"]
        if meta_id in first_line_of:
            assert line == first_line_of[meta_id]  # byte-exact re-send, same offset
            duplicates += 1
            continue
        first_line_of[meta_id] = line
        offsets.append(event["meta"]["offset"])
    assert offsets == list(range(offsets[0], offsets[0] + len(offsets)))
    assert offsets[0] == manifest["offsets"]["first"]
    assert offsets[-1] == manifest["offsets"]["last"]
    assert duplicates == manifest["duplicates"]
    assert 0.01 < duplicates / len(lines) < 0.03


def test_manifest_counts_match_a_recount_of_the_file(
    generated: tuple[list[bytes], dict[str, Any]],
    events: list[dict[str, Any]],
    originals: list[dict[str, Any]],
) -> None:
    _, manifest = generated
    canaries = [e for e in events if e["meta"]["domain"] == "canary"]
    assert manifest["lines"] == len(events) == 20_000
    assert manifest["canaries"] == len(canaries)
    assert manifest["events"] == len(originals)
    assert manifest["counts_by_type"] == dict(Counter(e["type"] for e in originals))
    assert manifest["counts_by_domain"] == dict(Counter(e["meta"]["domain"] for e in originals))
    targets = [e for e in originals if e["meta"]["domain"] in TARGETS]
    assert manifest["target_events"] == len(targets)
    assert manifest["target_events_by_date"] == dict(Counter(e["meta"]["dt"][:10] for e in targets))
    assert manifest["bot_events"] == sum(e["bot"] for e in originals)
    large = [e for e in targets if e["type"] == "edit" and
             e["length"]["new"] - e["length"]["old"] < -5000]  # fmt: skip
    assert manifest["target_large_deletions"] == len(large)
    dts = sorted(e["meta"]["dt"] for e in originals)
    assert manifest["event_time_range"] == {"min": dts[0], "max": dts[-1]}


def test_type_bot_target_and_user_kind_mix_follow_the_calibration(tmp_path: Path) -> None:
    out = tmp_path / "organic.jsonl"
    write_events(GenerateOptions(events=20_000, seed=3, start=START), out)
    rows = [json.loads(line) for line in read_lines(out)]
    rows = [r for r in rows if r["meta"]["domain"] != "canary"]
    n = len(rows)
    types = Counter(r["type"] for r in rows)
    for kind, share in cal.TYPE_MIX.items():
        assert abs(types[kind] / n - share) < 0.015, (kind, types[kind] / n)
    assert abs(sum(r["bot"] for r in rows) / n - cal.BOT_SHARE) < 0.015
    assert abs(sum(r["meta"]["domain"] in TARGETS for r in rows) / n - cal.TARGET_SHARE) < 0.02
    domains = Counter(r["meta"]["domain"] for r in rows)
    assert {"www.wikidata.org", "commons.wikimedia.org", "en.wikipedia.org"} <= set(domains)
    assert len(domains) > 40
    assert set(domains) >= TARGETS
    assert domains.most_common(1)[0][0] == "www.wikidata.org"
    humans = [r["user"] for r in rows if not r["bot"]]
    assert any(TEMP_RE.match(u) for u in humans)
    assert any(IPV4_RE.match(u) for u in humans)
    assert any(IPV6_RE.match(u) for u in humans)
    assert sum(not (TEMP_RE.match(u) or ":" in u or IPV4_RE.match(u)) for u in humans) > 0.7 * len(
        humans)  # fmt: skip
    # Zipf-like: the busiest human makes far more edits than the median one.
    per_user = sorted(Counter(humans).values())
    assert per_user[-1] >= 20 * per_user[len(per_user) // 2]
    # Non-ASCII titles are percent-encoded in title_url.
    assert any("%" in r["title_url"] and not r["title"].isascii() for r in rows)


def test_length_deltas_are_heavy_tailed_and_mostly_small(tmp_path: Path) -> None:
    out = tmp_path / "deltas.jsonl"
    write_events(GenerateOptions(events=30_000, seed=9, start=START), out)
    deltas = sorted(
        r["length"]["new"] - r["length"]["old"]
        for r in map(json.loads, read_lines(out))
        if r.get("type") == "edit"
    )
    n = len(deltas)
    assert abs(deltas[n // 2]) < 60  # median: a few bytes
    assert deltas[int(0.99 * n)] > 1000  # 1 % of edits add more than 1 kB
    assert deltas[0] < -5000
    assert deltas[-1] > 20_000
    large = sum(d < -5000 for d in deltas) / n
    assert 0.0003 < large < 0.006


def test_planted_users_are_the_only_medium_or_high_users(
    generated: tuple[list[bytes], dict[str, Any]], originals: list[dict[str, Any]]
) -> None:
    """Recompute the seed's per-user-day risk (SEED-FACTS §4.3) from the events themselves."""
    _, manifest = generated
    stats: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "anon": 0, "large": 0, "domains": set()}
    )
    for e in originals:
        if e["meta"]["domain"] not in TARGETS or e["bot"]:
            continue
        s = stats[(datetime.fromtimestamp(e["timestamp"], UTC).date().isoformat(), e["user"])]
        s["n"] += 1
        s["anon"] += bool(IPV4_RE.match(e["user"]))
        s["domains"].add(e["meta"]["domain"])
        delta = e["length"]["new"] - e["length"]["old"] if e["type"] == "edit" else 0
        s["large"] += delta < -5000
    levels = {
        key: seed_risk(s["n"], s["anon"], s["large"], len(s["domains"]))["risk_level"]
        for key, s in stats.items()
        if s["n"] >= 5
    }
    high = {user for (_, user), level in levels.items() if level == "HIGH"}
    medium = {user for (_, user), level in levels.items() if level == "MEDIUM"}
    assert high == {u["user"] for u in manifest["vandals"]}
    assert medium == {u["user"] for u in manifest["medium_users"]}
    assert len(high) == 2
    assert len(medium) == 2
    kinds = {u["kind"] for u in manifest["vandals"]}
    assert kinds == {"ipv4", "registered"}
    for truth in manifest["vandals"] + manifest["medium_users"]:
        s = stats[(truth["date"], truth["user"])]
        assert s["n"] == truth["edits"]
        assert s["large"] == truth["large_deletions"]
        assert sorted(s["domains"]) == truth["domains"]
        assert truth["first_dt"][:10] == truth["last_dt"][:10] == truth["date"]
    for truth in manifest["vandals"]:
        assert truth["edits"] > 1300
        assert truth["large_deletions"] >= 4
        assert len(truth["domains"]) >= 6
        assert truth["expected_seed_risk"]["risk_level"] == "HIGH"
        assert truth["expected_seed_risk"]["alert_triggered"] is True
    for truth in manifest["medium_users"]:
        assert 600 < truth["edits"] < 1200
        assert truth["large_deletions"] == 2
        assert truth["expected_seed_risk"]["risk_level"] == "MEDIUM"


@pytest.mark.parametrize(
    ("total", "anon", "large", "domains", "score", "level", "alert"),
    [
        (30, 30, 0, 1, 20.0, "LOW", False),
        (300, 0, 4, 1, 40.0, "LOW", False),
        (700, 0, 2, 1, 40.0, "MEDIUM", False),
        (1300, 0, 4, 6, 80.0, "HIGH", True),
    ],
)
def test_seed_risk_reproduces_the_worked_examples_of_seed_facts(
    total: int, anon: int, large: int, domains: int, score: float, level: str, alert: bool
) -> None:
    risk = seed_risk(total, anon, large, domains)
    assert (risk["risk_score"], risk["risk_level"], risk["alert_triggered"]) == (
        score, level, alert)  # fmt: skip


def test_late_events_lie_up_to_three_days_before_their_arrival(
    generated: tuple[list[bytes], dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    _, manifest = generated
    arrival = parse_iso_utc(manifest["arrival_time_range"]["first"])
    step = timedelta(seconds=1 / 30)
    late = 0
    seen: set[str] = set()
    for slot, event in enumerate(events):
        if event["meta"]["id"] in seen:
            continue
        seen.add(event["meta"]["id"])
        lag = arrival + slot * step - parse_iso_utc(event["meta"]["dt"])
        assert lag < timedelta(days=3, seconds=1)
        if lag > timedelta(seconds=30):
            late += 1
    assert late == manifest["late_events"]
    assert 0.01 < late / len(events) < 0.03
    planted = {u["user"] for u in manifest["vandals"] + manifest["medium_users"]}
    assert manifest["event_time_range"]["min"] < manifest["arrival_time_range"]["first"]
    assert all(e.get("user") not in planted or e["meta"]["dt"][:10] == "2026-02-26" for e in events)


def test_canaries_carry_only_schema_and_meta_about_once_an_hour(tmp_path: Path) -> None:
    out = tmp_path / "slow.jsonl"
    manifest = write_events(GenerateOptions(events=10_800, seed=1, start=START, rate=1.0), out)
    canaries = [r for r in map(json.loads, read_lines(out)) if r["meta"]["domain"] == "canary"]
    assert 3 <= len(canaries) <= 4
    assert len(canaries) == manifest["canaries"]
    times = [parse_iso_utc(c["meta"]["dt"]) for c in canaries]
    assert times[0] - START <= timedelta(hours=1)
    assert all(
        timedelta(minutes=57) < b - a <= timedelta(hours=1) for a, b in itertools.pairwise(times)
    )
    for canary in canaries:
        assert set(canary) == {"$schema", "meta"}
        assert {"dt", "stream", "domain", "id"} <= set(canary["meta"])


def test_default_start_ends_the_file_near_now() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    generator = EventGenerator(GenerateOptions(events=3000, seed=1), now=now)
    rows = [json.loads(line) for line in generator.lines()]
    last = parse_iso_utc(rows[-1]["meta"]["dt"])
    assert now - timedelta(seconds=2) < last <= now
    assert parse_iso_utc(rows[0]["meta"]["dt"]) >= now - timedelta(seconds=101)


def test_daily_caps_keep_organic_humans_below_the_seed_velocity_tiers() -> None:
    import random

    pool = UserPool(seed=1, year=2026)
    rng = random.Random(1)
    counts: Counter[tuple[str, str]] = Counter()
    for _ in range(300_000):
        user = pool.draw(rng, 20_000)
        if not user.is_bot:
            counts[(user.kind, user.name)] += 1
    busiest = max(n for (kind, _), n in counts.items() if kind == "registered")
    assert busiest == DAILY_CAPS["registered"]  # the cap binds for the busiest users
    for (kind, _), n in counts.items():
        assert n <= DAILY_CAPS[kind]
    # A second large deletion by the same human on the same day is refused.
    human = pool.sample("registered", 0)
    assert pool.allow_large_deletion(human, 1) is True
    assert pool.allow_large_deletion(human, 1) is False
    assert pool.allow_large_deletion(human, 2) is True


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"events": 0}, "--events must be at least 1"),
        ({"events": 10, "rate": 0.0}, "--rate must be > 0"),
        ({"events": 10, "late_fraction": 1.5}, "--late-fraction must be in [0, 1)"),
        ({"events": 10, "duplicate_fraction": -0.1}, "--duplicate-fraction"),
        ({"events": 10, "vandals": -1}, "--vandals must be >= 0"),
        ({"events": 3000, "vandals": 2, "start": START}, "planted edits inside one UTC day"),
        ({"events": 10, "start": datetime(2026, 1, 1)}, "has no time zone"),
        ({"events": 9000, "vandals": 1, "target_domains": ("en.wikipedia.org",)}, "6 target"),
    ],
)
def test_bad_options_raise_config_errors_naming_the_option(
    options: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        EventGenerator(GenerateOptions(**options))


def test_vandals_that_cannot_fit_in_one_utc_day_are_refused() -> None:
    # 2 400 events at 30/s centred on midnight: 1 200 slots per day, a vandal needs > 1 300.
    start = datetime(2026, 2, 26, 23, 59, 20, tzinfo=UTC)
    with pytest.raises(ConfigError, match="inside one UTC day"):
        EventGenerator(GenerateOptions(events=2400, start=start, vandals=1, medium=0))
    ok = EventGenerator(GenerateOptions(events=2400, start=start - timedelta(hours=1),
                                        vandals=1, medium=0))  # fmt: skip
    assert ok.schedule.total > 1300


def test_a_failed_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: EventGenerator) -> Any:
        yield b"{}"
        raise OSError("disk full")

    monkeypatch.setattr(EventGenerator, "lines", broken)
    out = tmp_path / "never.jsonl.gz"
    with pytest.raises(OSError, match="disk full"):
        write_events(GenerateOptions(events=10, start=START), out, manifest=True)
    assert list(tmp_path.iterdir()) == []


def test_read_manifest_explains_a_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--manifest"):
        read_manifest(tmp_path / "nothing.jsonl")
    assert manifest_path(tmp_path / "a.jsonl.gz").name == "a.manifest.json"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = str(SRC)
    return subprocess.run(
        [sys.executable, "-m", "wikistream", "--data-dir", str(cwd / "data"), *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip


def test_cli_writes_the_file_and_manifest_and_reports_json(tmp_path: Path) -> None:
    result = _cli(
        "generate", "--events", "4000", "--out", str(tmp_path / "cli.jsonl.gz"), "--seed", "2",
        "--start", "2026-02-26T10:00:00Z", "--vandals", "1", "--medium", "0",
        "--late-fraction", "0.01", "--duplicate-fraction", "0.01", "--manifest", "-o", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    manifest = read_manifest(tmp_path / "cli.jsonl.gz")
    assert summary["lines"] == manifest["lines"] == 4000
    assert summary["vandals"] == [manifest["vandals"][0]["user"]]
    assert manifest["medium_users"] == []
    assert manifest["options"]["start"] == "2026-02-26T10:00:00.000000Z"
    assert len(read_lines(tmp_path / "cli.jsonl.gz")) == 4000


def test_cli_rejects_bad_input_with_one_line_and_exit_code_1(tmp_path: Path) -> None:
    result = _cli("generate", "-n", "10", "--out", str(tmp_path / "x.jsonl"), "--start", "soon",
                  cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: --start 'soon' is not an ISO-8601 time; use e.g. 2026-02-26T15:00:00Z"
    ]
    assert not (tmp_path / "x.jsonl").exists()
