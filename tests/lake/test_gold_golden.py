"""Golden tests: SEED-FACTS §4 worked examples and small fixtures computed by hand.

Every test goes the real way: bronze rows → SilverStep → GoldStep on real Iceberg tables.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.lake.bronze_rows import event
from tests.lake.conftest import Lake
from wikistream.lake.schemas import DAILY_SUMMARY, HOURLY_STATS, RISK_SCORES

DAY = "2026-02-26"
DOMAINS = [
    "en.wikipedia.org",
    "de.wikipedia.org",
    "fr.wikipedia.org",
    "ja.wikipedia.org",
    "es.wikipedia.org",
    "it.wikipedia.org",
]


class Offsets:
    """Hands out consecutive log offsets so every fixture row is a distinct event."""

    def __init__(self) -> None:
        self.next = 0

    def take(self) -> int:
        self.next += 1
        return self.next


def user_edits(
    offsets: Offsets,
    user: str,
    total: int,
    *,
    large_deletions: int = 0,
    domains: int = 1,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """``total`` edits by ``user`` across ``domains`` wikis (round robin) and 24 hours."""
    rows = []
    for i in range(total):
        delta = -6000 if i < large_deletions else 10
        at = f"{DAY} {i % 24:02d}:{i % 60:02d}"
        domain = DOMAINS[i % domains]
        rows.append(event(offsets.take(), user=user, at=at, delta=delta, domain=domain, **kwargs))
    return rows


# SEED-FACTS §4.3 worked examples: (total, large_del, domains, user) → E, V, D, A, C, score, level
WORKED = [
    # 30 edits by an IP user: A=20 → 20 LOW
    ("203.0.113.7", 30, 0, 1, 1.25, (0, 0, 20, 0), 20.0, "LOW", False),
    # 300 edits, 4 large deletions: V=10 (E 12.5 > 10), D=30 → 40. The seed said LOW (its level
    # ignored the 10-point tier); our level follows the score: MEDIUM.
    ("Example2", 300, 4, 1, 12.5, (10, 30, 0, 0), 40.0, "MEDIUM", False),
    # 700 edits, 2 large deletions: V=25 (E 29.166667 > 25), D=15 → 40 MEDIUM
    ("Example3", 700, 2, 1, 29.166667, (25, 15, 0, 0), 40.0, "MEDIUM", False),
    # 1300 edits, 4 large deletions, 6 wikis: V=40, D=30, C=10 (6 > 5 and E > 20) → 80 HIGH
    ("Example4", 1300, 4, 6, 54.166667, (40, 30, 0, 10), 80.0, "HIGH", True),
]


@pytest.fixture(scope="module")
def worked_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    from tests.lake.conftest import make_lake

    lake = make_lake(tmp_path_factory.mktemp("worked") / "data")
    offsets = Offsets()
    rows = []
    for user, total, large_del, domains, *_ in WORKED:
        rows += user_edits(offsets, user, total, large_deletions=large_del, domains=domains)
    # fewer than 5 edits: never scored; bots: never scored
    rows += user_edits(offsets, "Quiet", 4)
    rows += user_edits(offsets, "TidyBot", 50, bot=True)
    lake.append(rows)
    lake.run()
    return lake


@pytest.mark.parametrize("case", WORKED, ids=[c[0] for c in WORKED])
def test_seed_worked_risk_examples(worked_lake: Lake, case: tuple[Any, ...]) -> None:
    user, total, large_del, domains, e, (v, d, a, c), score, level, alert = case
    row = worked_lake.one(RISK_SCORES, entity_id=user)
    assert row["total_edits"] == total
    assert row["edits_per_hour_avg"] == pytest.approx(e, abs=1e-9)
    assert row["large_deletions"] == large_del
    assert row["domains_edited"] == domains
    points = (
        row["velocity_points"],
        row["deletion_points"],
        row["anonymous_points"],
        row["cross_domain_points"],
    )
    assert points == (v, d, a, c)
    assert row["risk_score"] == score
    assert row["risk_level"] == level
    assert row["alert_triggered"] is alert
    assert row["entity_type"] == "user"
    # edits spread evenly over 24 hours: the busiest hour has ceil(total / 24) edits
    assert row["peak_hour_edits"] == -(-total // 24)
    evidence = json.loads(row["evidence"])
    assert evidence["edits_per_hour"] == round(e, 2)
    assert evidence["total_edits"] == total
    assert evidence["large_deletions"] == large_del
    assert evidence["peak_hour_edits"] == row["peak_hour_edits"]
    # the seed's exact key order and 2-decimal formatting come first
    assert row["evidence"].startswith(f'{{"edits_per_hour":{e:.2f},"large_deletions":{large_del},')


def test_unscored_users_have_no_risk_row(worked_lake: Lake) -> None:
    ids = {r["entity_id"] for r in worked_lake.rows(RISK_SCORES)}
    assert ids == {c[0] for c in WORKED}  # not Quiet (4 edits), not TidyBot (bot)


def test_ip_user_is_recorded_as_ip(worked_lake: Lake) -> None:
    row = worked_lake.one(RISK_SCORES, entity_id="203.0.113.7")
    assert row["user_kind"] == "ip"
    assert row["anonymous_edits"] == 30


def test_seed_health_score_example(lake: Lake) -> None:
    """SEED-FACTS §4.4: 1000 events, 700 registered, added > removed, 5 large deletions, 10
    scored users of which 9 LOW ⇒ 36 + 21 + 20 + 10 = 87.00."""
    offsets = Offsets()
    at = f"{DAY} 12:00"
    rows = []
    # 10.0.0.1: 5 anonymous edits, 4 large deletions (-5001) → D 30 + A 20 = 50 MEDIUM
    rows += [event(offsets.take(), user="10.0.0.1", at=at, delta=-5001) for _ in range(4)]
    rows += [event(offsets.take(), user="10.0.0.1", at=at, delta=0)]
    # R1..R9: 70 registered edits each (E 2.9 → LOW); R1 makes the 5th large deletion
    for n in range(1, 10):
        rows += [event(offsets.take(), user=f"R{n}", at=at, delta=0) for _ in range(70)]
    rows[5]["length_delta"] = -5001
    # 70 more registered events by one-edit users (not scored); 95 one-edit IP users
    rows += [event(offsets.take(), user=f"Once{n}", at=at, delta=0) for n in range(70)]
    rows += [event(offsets.take(), user=f"10.1.0.{n}", at=at, delta=0) for n in range(95)]
    # 200 bot edits adding 250 bytes each = 50 000 bytes added
    rows += [event(offsets.take(), user="AddBot", at=at, delta=250, bot=True) for _ in range(200)]
    assert len(rows) == 1000
    lake.append(rows)
    lake.run()
    day = lake.one(DAILY_SUMMARY, summary_date=DAY)
    assert day["total_events"] == 1000
    assert day["registered_user_percentage"] == 70.0  # 630 + 70
    assert day["anonymous_percentage"] == 10.0  # 5 + 95
    assert day["bot_percentage"] == 20.0
    assert (day["total_bytes_added"], day["total_bytes_removed"]) == (50_000, 5 * 5001)
    assert day["large_deletions_count"] == 5
    assert (day["low_risk_user_count"], day["medium_risk_user_count"]) == (9, 1)
    assert day["high_risk_user_count"] == 0
    # H1 = 40·9/10 = 36; H2 = 30·700/1000 = 21; H3 = 20 (added > removed); H4 = 10 (5 < 1 % of T)
    assert day["platform_health_score"] == 87.0
    assert day["platform_avg_risk_score"] == pytest.approx((50 + 9 * 0) / 10)
    assert day["platform_max_risk_score"] == 50.0


def test_one_event_day_has_a_health_score(lake: Lake) -> None:
    """The seed's NULLIF(total, 1) made a one-event day's score NULL; ours is 0 + 30 + 20 + 10."""
    lake.append([event(1, at="2026-02-27 03:00", delta=5)])
    lake.run()
    day = lake.one(DAILY_SUMMARY, summary_date="2026-02-27")
    assert day["platform_health_score"] == 60.0
    assert day["avg_events_per_hour"] == 0.04  # 1/24, always divided by 24 as in the seed


# A small day to compute by hand. Times are UTC on 2026-02-26.
#   off  time   domain            user         type        delta    bot
#   1    10:05  en.wikipedia.org  Alice        edit          +100   no
#   2    10:20  en.wikipedia.org  Alice        edit          -40    no
#   3    10:30  en.wikipedia.org  198.51.100.1 new           +60000 no   (large addition)
#   4    10:45  en.wikipedia.org  FixBot       categorize    None   yes
#   5    10:50  de.wikipedia.org  Bernd        edit          -7000  no   (large deletion)
#   6    11:00  en.wikipedia.org  ~2026-1-1    log           None   no
#   7    11:59  ar.wikipedia.org  Alice        edit          +5     no
#   8    11:59  ar.wikipedia.org  Alice        edit          +5     no   (same page as 7)
HAND_DAY = [
    event(1, at="2026-02-26 10:05", user="Alice", title="A", delta=100),
    event(2, at="2026-02-26 10:20", user="Alice", title="A", delta=-40),
    event(3, at="2026-02-26 10:30", user="198.51.100.1", title="B", delta=60000, event_type="new"),
    event(4, at="2026-02-26 10:45", user="FixBot", title="C", delta=None, bot=True,
          event_type="categorize"),
    event(5, at="2026-02-26 10:50", user="Bernd", title="A", delta=-7000,
          domain="de.wikipedia.org"),
    event(6, at="2026-02-26 11:00", user="~2026-1-1", title="D", delta=None, event_type="log"),
    event(7, at="2026-02-26 11:59", user="Alice", title="E", delta=5, domain="ar.wikipedia.org"),
    event(8, at="2026-02-26 11:59", user="Alice", title="E", delta=5, domain="ar.wikipedia.org"),
]  # fmt: skip


def test_hand_computed_hourly_stats(lake: Lake) -> None:
    lake.append(HAND_DAY)
    lake.run()
    en10 = lake.one(HOURLY_STATS, stat_date=DAY, stat_hour=10, domain="en.wikipedia.org")
    assert en10 == {
        "stat_date": DAY,
        "stat_hour": 10,
        "domain": "en.wikipedia.org",
        "region": "americas",
        "total_events": 4,  # offsets 1-4
        "unique_users": 3,  # Alice, 198.51.100.1, FixBot
        "unique_pages": 3,  # A, B, C
        "bytes_added": 60100,  # 100 + 60000
        "bytes_removed": 40,
        "avg_edit_size": 15035.0,  # (100 + 40 + 60000 + 0) / 4 — NULL delta counts as 0
        "bot_edits": 1,
        "human_edits": 3,
        "bot_percentage": 25.0,
        "anonymous_edits": 1,  # the IP
        "type_edit": 2,
        "type_new": 1,
        "type_categorize": 1,
        "type_log": 0,
        "large_deletions": 0,
        "large_additions": 1,
        "schema_version": "1.0.0",
        "ip_edits": 1,
        "temporary_edits": 0,
    }
    de10 = lake.one(HOURLY_STATS, stat_date=DAY, stat_hour=10, domain="de.wikipedia.org")
    assert (de10["region"], de10["bytes_removed"], de10["large_deletions"]) == ("europe", 7000, 1)
    en11 = lake.one(HOURLY_STATS, stat_date=DAY, stat_hour=11, domain="en.wikipedia.org")
    assert (en11["temporary_edits"], en11["anonymous_edits"], en11["type_log"]) == (1, 1, 1)
    assert en11["avg_edit_size"] == 0.0
    assert en11["bot_percentage"] == 0.0
    ar11 = lake.one(HOURLY_STATS, stat_date=DAY, stat_hour=11, domain="ar.wikipedia.org")
    assert (ar11["region"], ar11["unique_pages"], ar11["bytes_added"]) == ("middle_east", 1, 10)
    assert len(lake.rows(HOURLY_STATS)) == 4


def test_hand_computed_daily_summary(lake: Lake) -> None:
    lake.append(HAND_DAY)
    lake.run()
    day = lake.one(DAILY_SUMMARY, summary_date=DAY)
    expected = {
        "total_events": 8,
        "unique_users": 5,  # Alice, 198.51.100.1, FixBot, Bernd, ~2026-1-1
        "active_domains": 3,
        "unique_pages_edited": 5,  # A, B, C, D, E (A on two wikis counts once, as in the seed)
        "bot_percentage": 12.5,  # 1/8
        "anonymous_percentage": 25.0,  # IP + temporary = 2/8
        "registered_user_percentage": 62.5,  # 8 - 1 bot - 2 anonymous = 5/8
        "total_bytes_added": 60110,  # 100 + 60000 + 5 + 5
        "total_bytes_removed": 7040,  # 40 + 7000
        "net_content_change": 53070,
        "avg_edit_size_bytes": 8393.75,  # (100 + 40 + 60000 + 0 + 7000 + 0 + 5 + 5) / 8
        "new_pages_created": 1,
        "large_deletions_count": 1,
        "large_additions_count": 1,
        "large_deletion_rate": 12.5,  # 100·1/8, 4 decimals
        "high_risk_user_count": 0,  # Alice has 4 edits: nobody reaches 5
        "medium_risk_user_count": 0,
        "low_risk_user_count": 0,
        "platform_avg_risk_score": 0.0,
        "platform_max_risk_score": 0.0,
        "total_alerts_triggered": 0,
        "europe_percentage": 12.5,  # de
        "americas_percentage": 62.5,  # en ×5
        "asia_pacific_percentage": 0.0,
        "middle_east_percentage": 25.0,  # ar ×2
        "other_percentage": 0.0,
        "peak_hour_events": 5,  # hour 10: offsets 1-5
        "avg_events_per_hour": 0.33,  # 8/24
        # H1 0 (no scored users) + H2 30·5/8 = 18.75 + H3 20 (60110 > 7040) + H4 0
        # (1 large deletion is not < 0.05·8 = 0.4) = 38.75
        "platform_health_score": 38.75,
    }
    assert {k: day[k] for k in expected} == expected
