"""Every catalogue check against a fixture that passes and one that fails, metric asserted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests.quality.rows import T0, bronze_row, hourly_row, risk_row, silver_row, table
from wikistream.lake.schemas import BRONZE, HOURLY_STATS, RISK_SCORES, SILVER, TableDef
from wikistream.quality.catalogue import (
    BRONZE_CHECKS,
    GOLD_HOURLY_CHECKS,
    GOLD_RISK_CHECKS,
    SILVER_CHECKS,
)
from wikistream.quality.checks import Check, Status
from wikistream.quality.engine import evaluate

Changes = dict[int, dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One check: rows that pass it (``good``) and rows that fail it (``bad``)."""

    check: str
    bad: Changes
    bad_status: Status
    bad_metric: float
    bad_failed: int
    good: Changes = field(default_factory=dict)
    good_metric: float | None = None  # None: the unchanged fixture's value (BASE_METRIC or 1.0)
    good_failed: int = 0
    n: int = 10


LAYERS: dict[str, tuple[tuple[Check, ...], TableDef, Callable[..., dict[str, Any]]]] = {
    "bronze": (BRONZE_CHECKS, BRONZE, bronze_row),
    "silver": (SILVER_CHECKS, SILVER, silver_row),
    "hourly": (GOLD_HOURLY_CHECKS, HOURLY_STATS, hourly_row),
    "risk": (GOLD_RISK_CHECKS, RISK_SCORES, risk_row),
}
F, W = Status.FAILED, Status.WARNING


def _late(seconds: int) -> Changes:
    return {i: {"bronze_processed_at": T0 + timedelta(seconds=i + seconds)} for i in range(10)}


USERS = [  # (user_normalized, correct user_kind, what the seed's IPv4-only regex says)
    ("192.168.0.1", "ip", "ip"),
    ("2602:30A:2E33:A320:3437:38F6:B4D4:91E8", "ip", "registered"),
    ("2001:db8::1", "ip", "registered"),
    ("~2026-12646-40", "temporary", "registered"),
    ("256.1.1.1", "registered", "ip"),
    ("Alice", "registered", "registered"),
    ("1.2.3", "registered", "registered"),
    ("~Tilde", "registered", "registered"),
    ("~2025-1234", "temporary", "registered"),
    ("10.0.0.255", "ip", "ip"),
]


def _users(column: int) -> Changes:
    return {
        i: {
            "user_normalized": u[0],
            "user_kind": u[column],
            "is_anonymous": u[column] != "registered",
        }
        for i, u in enumerate(USERS)
    }


CASES: dict[str, list[Case]] = {
    "bronze": [
        Case("completeness_event_id", {0: {"event_id": None}}, F, 0.9, 1),
        Case("completeness_event_type", {0: {"event_type": None}}, F, 0.9, 1),
        Case("completeness_domain", {0: {"domain": None}}, F, 0.9, 1),
        Case("completeness_event_timestamp", {0: {"event_timestamp": None}}, F, 0.9, 1),
        # 95 % completeness is a warning; exactly 95 % passes
        Case(
            "completeness_title",
            {0: {"title": None}, 1: {"title": None}},
            W,
            0.9,
            2,
            good={0: {"title": None}},
            good_metric=0.95,
            good_failed=1,
            n=20,
        ),
        Case(
            "completeness_user",
            {0: {"user": None}, 1: {"user": None}},
            W,
            0.9,
            2,
            good={0: {"user": None}},
            good_metric=0.95,
            good_failed=1,
            n=20,
        ),
        Case(
            "completeness_wiki",
            {0: {"wiki": None}, 1: {"wiki": None}},
            W,
            0.9,
            2,
            good={0: {"wiki": None}},
            good_metric=0.95,
            good_failed=1,
            n=20,
        ),
        Case(
            "validity_event_type_in_allowed_values",
            {3: {"event_type": "bogus"}},
            F,
            0.9,
            1,
            good={0: {"event_type": None}, 1: {"event_type": "external"}},
        ),
        Case(
            "validity_event_hour_non_negative",
            {0: {"event_hour": -1}},
            F,
            -1,
            1,
            good={0: {"event_hour": 0}},
            good_metric=0,
        ),
        Case(
            "validity_event_hour_max_check",
            {0: {"event_hour": 24}},
            F,
            24,
            1,
            good={0: {"event_hour": 23}},
            good_metric=23,
        ),
        Case("uniqueness_event_id", {1: {"event_id": "ev-0"}}, F, 0.9, 1),
        Case("timeliness_p95_latency_s", _late(400), W, 400, 10, good_metric=30),
        Case(
            "validity_domain_in_target_domains", {0: {"domain": "commons.wikimedia.org"}}, W, 0.9, 1
        ),
        Case("consistency_length_delta", {0: {"length_delta": 999}}, F, 0.9, 1),
        Case("consistency_event_date", {0: {"event_date": "2026-02-25"}}, F, 0.9, 1),
        Case("consistency_event_hour", {0: {"event_hour": 3}}, F, 0.9, 1),
        Case(
            "validity_event_timestamp_not_future",
            {0: {"bronze_processed_at": T0 - timedelta(hours=1)}},
            W,
            0.9,
            1,
        ),
    ],
    "silver": [
        Case("completeness_event_id", {0: {"event_id": None}}, F, 0.9, 1),
        Case("completeness_domain", {0: {"domain": None}}, F, 0.9, 1),
        Case("completeness_region", {0: {"region": None}}, F, 0.9, 1),
        Case("completeness_event_timestamp", {0: {"event_timestamp": None}}, F, 0.9, 1),
        Case("validity_region_in_allowed_values", {0: {"region": "mars"}}, F, 0.9, 1),
        Case("uniqueness_event_id", {1: {"event_id": "ev-0"}}, F, 0.9, 1),
        # threshold 0.99: 1 bad row in 100 passes, 2 fail
        Case(
            "accuracy_length_delta",
            {0: {"length_delta": 1}, 1: {"length_delta": 1}},
            F,
            0.98,
            2,
            good={0: {"length_delta": 1}},
            good_metric=0.99,
            good_failed=1,
            n=100,
        ),
        # the seed's IPv4-only rule misclassifies IPv6, temporary accounts and 256.1.1.1
        Case("accuracy_user_kind", _users(2), F, 0.5, 5, good=_users(1)),
        Case(
            "consistency_is_anonymous",
            {0: {"user_normalized": "1.2.3.4", "user_kind": "ip", "is_anonymous": False}},
            F,
            0.9,
            1,
            good=_users(1),
        ),
        Case("validity_user_kind_in_allowed_values", {0: {"user_kind": "anon"}}, F, 0.9, 1),
        # the full 18-domain map: the seed's 7-domain subset would not see ru/es/he
        Case(
            "accuracy_region_mapping",
            {
                0: {"domain": "ru.wikipedia.org", "region": "other"},
                1: {"domain": "es.wikipedia.org", "region": "americas"},
            },
            F,
            0.8,
            2,
            good={
                0: {"domain": "ru.wikipedia.org", "region": "europe"},
                1: {"domain": "he.wikipedia.org", "region": "middle_east"},
                2: {"domain": "commons.wikimedia.org", "region": "other"},
            },
        ),
        Case(
            "accuracy_language_mapping",
            {0: {"language": "english"}},
            F,
            0.9,
            1,
            good={0: {"domain": "commons.wikimedia.org", "region": "other", "language": "co"}},
        ),
        Case("consistency_is_valid", {0: {"is_valid": False}}, F, 0.9, 1),
        Case(
            "consistency_large_edit_flags",
            {0: {"length_old": 7000, "length_new": 1000, "length_delta": -6000}},
            F,
            0.9,
            1,
            good={
                0: {
                    "length_old": 7000,
                    "length_new": 1000,
                    "length_delta": -6000,
                    "is_large_deletion": True,
                },
                1: {
                    "length_old": 0,
                    "length_new": 60000,
                    "length_delta": 60000,
                    "is_large_addition": True,
                },
            },
        ),
    ],
    "hourly": [
        Case("completeness_domain", {0: {"domain": None}}, F, 0.9, 1),
        Case("completeness_total_events", {0: {"total_events": None}}, F, 0.9, 1),
        Case(
            "validity_bot_percentage_non_negative",
            {0: {"bot_percentage": -5.0}},
            F,
            -5,
            1,
            good={0: {"bot_percentage": 0.0}},
            good_metric=0,
        ),
        Case(
            "validity_bot_percentage_max_check",
            {0: {"bot_percentage": 150.0}},
            F,
            150,
            1,
            good={0: {"bot_percentage": 100.0}},
            good_metric=100,
        ),
        Case("consistency_events_vs_users", {0: {"unique_users": 20}}, F, 0.9, 1),
        Case("uniqueness_grain", {1: {"stat_hour": 0}}, F, 0.9, 1),
    ],
    "risk": [
        Case("completeness_entity_id", {0: {"entity_id": None}}, F, 0.9, 1),
        Case(
            "validity_risk_score_non_negative",
            {0: {"risk_score": -1.0}},
            F,
            -1,
            1,
            good={0: {"risk_score": 0.0}},
            good_metric=0,
        ),
        Case(
            "validity_risk_score_max_check",
            {0: {"risk_score": 120.0}},
            F,
            120,
            1,
            good={0: {"risk_score": 100.0}},
            good_metric=100,
        ),
        Case("validity_risk_level_in_allowed_values", {0: {"risk_level": "CRITICAL"}}, F, 0.9, 1),
        Case("uniqueness_grain", {1: {"entity_id": "User0"}}, F, 0.9, 1),
    ],
}
# metrics that are not shares: the base fixture's value when nothing is changed
BASE_METRIC = {
    "validity_event_hour_non_negative": 10,
    "validity_event_hour_max_check": 10,
    "validity_bot_percentage_non_negative": 20,
    "validity_bot_percentage_max_check": 20,
    "validity_risk_score_non_negative": 20,
    "validity_risk_score_max_check": 20,
}


def _run(layer: str, case: Case, changes: Changes) -> Any:
    checks, defn, builder = LAYERS[layer]
    (check,) = [c for c in checks if c.name == case.check]
    rows = [builder(i, **changes.get(i, {})) for i in range(case.n)]
    (result,) = evaluate([check], table(defn, rows, strict=False), table_name=defn.identifier)
    return result


PARAMS = [
    pytest.param(layer, c, id=f"{layer}-{c.check}") for layer, cs in CASES.items() for c in cs
]


@pytest.mark.parametrize(("layer", "case"), PARAMS)
def test_check_passes_on_good_rows(layer: str, case: Case) -> None:
    result = _run(layer, case, case.good)
    assert result.status is Status.PASSED, result.message
    expected = BASE_METRIC.get(case.check, 1.0) if case.good_metric is None else case.good_metric
    assert result.metric_value == pytest.approx(expected)
    assert result.records_failed == case.good_failed


@pytest.mark.parametrize(("layer", "case"), PARAMS)
def test_check_fails_on_bad_rows(layer: str, case: Case) -> None:
    result = _run(layer, case, case.bad)
    assert result.status is case.bad_status, result.message
    assert result.metric_value == pytest.approx(case.bad_metric)
    assert result.records_failed == case.bad_failed
    assert result.blocking is (case.bad_status is Status.FAILED)


@pytest.mark.parametrize("layer", list(LAYERS))
def test_every_catalogue_check_has_a_case(layer: str) -> None:
    checks, _, _ = LAYERS[layer]
    assert sorted(c.name for c in checks) == sorted(c.check for c in CASES[layer])


def test_bronze_has_seventeen_checks_and_the_seed_severities() -> None:
    levels = {c.name: c.level.value for c in BRONZE_CHECKS}
    assert len(BRONZE_CHECKS) == 17
    assert levels["completeness_title"] == levels["timeliness_p95_latency_s"] == "warning"
    assert levels["uniqueness_event_id"] == "error"
    unique = next(c for c in BRONZE_CHECKS if c.name == "uniqueness_event_id")
    assert unique.constraint.threshold == 1.0


def test_invalid_event_type_evidence_names_the_value() -> None:
    result = _run("bronze", CASES["bronze"][7], CASES["bronze"][7].bad)
    assert result.evidence["example_failing_value"] == "bogus"
    assert "bogus" in result.message
