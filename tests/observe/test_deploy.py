"""deploy/grafana and deploy/prometheus: well-formed, and every metric they name exists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from wikistream.observe.metrics import PipelineMetrics

DASHBOARD = REPO / "deploy" / "grafana" / "wikistream.json"
RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "alerts_test.yml"
METRIC = re.compile(r"\bwikistream_[a-z0-9_]+\b")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "info": ("_info",),
}
IN_PROCESS_ALERT_TYPES = {
    "PRODUCER_CPU_HIGH",
    "BRONZE_STALLED",
    "SOURCE_STALE",
    "DLQ_HIGH_RATE",
    "PIPELINE_FAILURE",
    "DATA_QUALITY_GATE_FAILURE",
    "DATA_DRIFT_DETECTED",
    "STAGE_RESTART",
    "STAGE_RESTART_FAILED",
}


def exported_names() -> set[str]:
    """Every series name PipelineMetrics can expose (labelled families included)."""
    names: set[str] = set()
    for family in PipelineMetrics().registry.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def rule_list() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_dashboard_is_importable_json_with_the_seed_widgets() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "wikistream-pipeline"
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"
    panels = dashboard["panels"]
    assert len(panels) >= 12
    assert len({p["id"] for p in panels}) == len(panels)
    titles = " | ".join(p["title"] for p in panels)
    for seed_widget in ("Batch pipeline cycles", "DLQ", "Active alerts", "Bronze throughput"):
        assert seed_widget in titles
    cells: set[tuple[int, int]] = set()
    for p in panels:  # no two panels overlap on the 24-column grid
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24
        area = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not cells & area, p["title"]
        cells |= area


def test_every_metric_named_in_dashboard_and_rules_exists() -> None:
    known = exported_names()
    referenced = {m for expr in dashboard_exprs() for m in METRIC.findall(expr)}
    referenced |= {m for rule in rule_list() for m in METRIC.findall(rule["expr"])}
    assert len(referenced) > 20
    assert referenced - known == set()
    assert "wikistream_nonexistent_total" not in known  # the check can fail


def test_prometheus_rules_are_well_formed_and_cover_the_in_process_alerts() -> None:
    rules = rule_list()
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
        assert rule["alert"].startswith("Wikistream")
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert {"summary", "description", "action"} <= set(rule["annotations"])
    assert {r["labels"]["alert_type"] for r in rules} >= IN_PROCESS_ALERT_TYPES


promtool = shutil.which("promtool")


@pytest.mark.skipif(promtool is None, reason="promtool not installed (apt install prometheus)")
def test_promtool_checks_and_unit_tests_the_rules() -> None:
    assert promtool is not None
    check = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = subprocess.run(
        [promtool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "SUCCESS" in tests.stdout


def test_rule_unit_tests_cover_every_rule() -> None:
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    assert tested == {rule["alert"] for rule in rule_list()}
