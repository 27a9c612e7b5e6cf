"""The data behind the Activity, Risk and Daily pages, as JSON-able mappings.

Each function reads the current snapshot of its gold table (and, for Risk, the matching silver
rows), aggregates with DuckDB over Arrow and returns plain lists/dicts the page charts directly.
The SQL of each figure is a named constant next to the code that runs it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from wikistream.clock import utc_now
from wikistream.lake.predicates import eq, is_in
from wikistream.serve.lakeread import LakeReader
from wikistream.serve.query import arrow_rows

HOURS = list(range(24))
RISK_TOP_USERS = 50
DIFFS_PER_USER = 10
DAILY_MAX_DAYS = 120

ACTIVITY_BY_HOUR_SQL = """
SELECT stat_hour AS hour, coalesce(region, 'other') AS region,
       sum(total_events) AS total, sum(bot_edits) AS bots, sum(human_edits) AS humans,
       sum(coalesce(ip_edits, anonymous_edits, 0)) AS ips,
       sum(coalesce(temporary_edits, 0)) AS temps,
       sum(bytes_added) AS added, sum(bytes_removed) AS removed
FROM stats WHERE stat_date = $day GROUP BY ALL ORDER BY hour, region
"""
ACTIVITY_BY_WIKI_SQL = """
SELECT domain, any_value(coalesce(region, 'other')) AS region,
       sum(total_events) AS total_events, sum(bot_edits) AS bot_edits,
       sum(human_edits) AS human_edits,
       sum(coalesce(ip_edits, anonymous_edits, 0)) AS ip_edits,
       sum(coalesce(temporary_edits, 0)) AS temporary_edits,
       sum(bytes_added) AS bytes_added, sum(bytes_removed) AS bytes_removed,
       sum(large_deletions) AS large_deletions
FROM stats WHERE stat_date = $day GROUP BY domain ORDER BY total_events DESC, domain
"""
RISK_USERS_SQL = """
SELECT * FROM risk WHERE stat_date = $day
ORDER BY risk_score DESC NULLS LAST, total_edits DESC NULLS LAST, entity_id LIMIT $top
"""
RISK_DIFFS_SQL = """
SELECT user_normalized AS user, domain, title, event_type, revision_old, revision_new,
       length_delta, event_timestamp
FROM silver
QUALIFY row_number() OVER (PARTITION BY user_normalized
                           ORDER BY event_timestamp DESC, revision_new DESC) <= $per_user
ORDER BY user, event_timestamp DESC
"""
DAILY_SQL = "SELECT * FROM daily ORDER BY summary_date DESC LIMIT $days"

RISK_FACTORS = ("velocity_points", "deletion_points", "anonymous_points", "cross_domain_points")


class _Aggregator:
    """One in-memory DuckDB for page aggregates; each call gets its own cheap cursor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._db is None:
                db = duckdb.connect(":memory:")
                db.execute("SET enable_external_access = false")
                db.execute("SET lock_configuration = true")
                self._db = db
            return self._db.cursor()


_AGGREGATOR = _Aggregator()


def run_sql(sql: str, params: dict[str, Any], **tables: pa.Table) -> list[dict[str, Any]]:
    """Run one of our aggregate queries over Arrow tables; rows as JSON-safe mappings."""
    con = _AGGREGATOR.cursor()
    try:
        for name, table in tables.items():
            con.register(name, table)
        result = con.sql(sql, params=params).to_arrow_table()
    finally:
        con.close()
    names = result.column_names
    return [dict(zip(names, row, strict=True)) for row in arrow_rows(result)]


def _pick_day(days: Sequence[str], wanted: str | None) -> str | None:
    """The requested day if present, else today (UTC) if present, else the latest day."""
    if wanted and wanted in days:
        return wanted
    today = utc_now().strftime("%Y-%m-%d")
    if today in days:
        return today
    return max(days) if days else None


def _distinct(table: pa.Table, column: str) -> list[str]:
    values = table.column(column).unique().to_pylist()
    return sorted((v for v in values if v is not None), reverse=True)


def activity_panel(reader: LakeReader, day: str | None = None) -> dict[str, Any]:
    """Edits per hour by region, per wiki, bot vs human, user kinds and bytes for one day."""
    stats = reader.read("gold.hourly_stats")
    days = _distinct(stats, "stat_date")
    chosen = _pick_day(days, day)
    body: dict[str, Any] = {"dates": days, "date": chosen, "hours": HOURS}
    if chosen is None:
        return body | {"empty": True}
    per_hour = run_sql(ACTIVITY_BY_HOUR_SQL, {"day": chosen}, stats=stats)
    wikis = run_sql(ACTIVITY_BY_WIKI_SQL, {"day": chosen}, stats=stats)
    regions = sorted({r["region"] for r in per_hour})
    by_region = {region: [0] * 24 for region in regions}
    series = {k: [0] * 24 for k in ("total", "bots", "humans", "ips", "temps", "added", "removed")}
    for row in per_hour:
        hour = int(row["hour"])
        if not 0 <= hour < 24:
            continue
        by_region[row["region"]][hour] += row["total"] or 0
        for key in series:
            series[key][hour] += row[key] or 0
    registered = [
        t - i - m for t, i, m in zip(series["total"], series["ips"], series["temps"], strict=True)
    ]
    for wiki in wikis:
        wiki["registered_edits"] = (
            (wiki["total_events"] or 0) - (wiki["ip_edits"] or 0) - (wiki["temporary_edits"] or 0)
        )
    totals = {
        "total_events": sum(series["total"]),
        "bot_edits": sum(series["bots"]),
        "human_edits": sum(series["humans"]),
        "registered_edits": sum(registered),
        "ip_edits": sum(series["ips"]),
        "temporary_edits": sum(series["temps"]),
        "bytes_added": sum(series["added"]),
        "bytes_removed": sum(series["removed"]),
        "wikis": len(wikis),
    }
    return body | {
        "totals": totals,
        "by_region": by_region,
        "bot_human": {"bot": series["bots"], "human": series["humans"]},
        "user_kinds": {"registered": registered, "ip": series["ips"], "temporary": series["temps"]},
        "bytes": {"added": series["added"], "removed": series["removed"]},
        "by_wiki": wikis,
    }


def diff_url(domain: str | None, revision_new: int | None, revision_old: int | None) -> str | None:
    """Link to an edit on its wiki (a page creation links to the revision itself)."""
    if not domain or revision_new is None:
        return None
    if revision_old is None or revision_old <= 0:
        return f"https://{domain}/w/index.php?oldid={revision_new}"
    return f"https://{domain}/w/index.php?diff={revision_new}&oldid={revision_old}"


def risk_panel(reader: LakeReader, day: str | None = None) -> dict[str, Any]:
    """The day's users by score with each factor's points, evidence and links to their diffs."""
    risk = reader.read("gold.risk_scores")
    days = _distinct(risk, "stat_date")
    chosen = _pick_day(days, day)
    body: dict[str, Any] = {"dates": days, "date": chosen, "factors": list(RISK_FACTORS)}
    if chosen is None:
        return body | {"users": [], "levels": {}, "empty": True}
    users = run_sql(RISK_USERS_SQL, {"day": chosen, "top": RISK_TOP_USERS}, risk=risk)
    names = [u["entity_id"] for u in users if u["entity_id"] is not None]
    diffs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    if names:
        silver = reader.read(
            "silver.cleaned_events",
            ["user_normalized", "domain", "title", "event_type", "revision_old", "revision_new",
             "length_delta", "event_timestamp"],
            eq("event_date", chosen) & is_in("user_normalized", names),
        )  # fmt: skip
        for row in run_sql(RISK_DIFFS_SQL, {"per_user": DIFFS_PER_USER}, silver=silver):
            row["url"] = diff_url(row["domain"], row["revision_new"], row["revision_old"])
            diffs.setdefault(row["user"], []).append(row)
    levels: dict[str, int] = {}
    for rank, user in enumerate(users, start=1):
        user["rank"] = rank
        user["evidence"] = _evidence(user.get("evidence"))
        user["diffs"] = diffs.get(user["entity_id"], [])
        levels[str(user.get("risk_level"))] = levels.get(str(user.get("risk_level")), 0) + 1
    all_levels = run_sql(
        "SELECT risk_level, count(*) AS n FROM risk WHERE stat_date = $day GROUP BY ALL",
        {"day": chosen},
        risk=risk,
    )
    return body | {
        "users": users,
        "levels": {str(r["risk_level"]): r["n"] for r in all_levels},
        "scored_users": sum(r["n"] for r in all_levels),
        "alerts": sum(1 for u in users if u.get("alert_triggered")),
    }


def _evidence(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def daily_panel(reader: LakeReader) -> dict[str, Any]:
    """The KPI trend of the daily summary, oldest day first."""
    daily = reader.read("gold.daily_analytics_summary")
    rows = run_sql(DAILY_SQL, {"days": DAILY_MAX_DAYS}, daily=daily)
    rows.reverse()
    return {"days": [r["summary_date"] for r in rows], "rows": rows, "empty": not rows}
