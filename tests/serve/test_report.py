"""The static report: inlined assets, and data that cannot break out of its script element."""

from __future__ import annotations

import json
import re

from wikistream.serve.report import render_report

HOSTILE = "</script><script>alert(1)</script><!--"


def _snapshot() -> dict[str, object]:
    user = {"entity_id": HOSTILE, "risk_score": 100.0, "risk_level": "HIGH", "diffs": []}
    return {
        "generated_at": "2026-01-28T00:00:00.000000Z",
        "meta": {"version": "test", "tables": []},
        "pipeline": {"stages": [], "alarms": [], "log": {}, "lake": {}},
        "activity": {"dates": [], "date": None, "hours": list(range(24)), "empty": True},
        "risk": {"dates": ["2026-01-28"], "date": "2026-01-28", "users": [user], "factors": []},
        "daily": {"days": [], "rows": []},
    }


def test_report_inlines_every_asset() -> None:
    html = render_report(_snapshot())
    assert "/static/" not in html
    assert "<style>" in html
    assert "Chart.js v4" in html
    assert "window.WIKISTREAM_SNAPSHOT = " in html


def test_hostile_data_stays_inside_the_data_script() -> None:
    html = render_report(_snapshot())
    assert HOSTILE not in html
    assert "alert(1)" in html  # present, but only as escaped JSON text
    match = re.search(r"window\.WIKISTREAM_SNAPSHOT = (.*?);</script>", html, re.S)
    assert match is not None
    data = json.loads(match.group(1))
    assert data["risk"]["users"][0]["entity_id"] == HOSTILE
    # exactly one script element per inlined part: Chart.js, the data, the app
    assert html.count("<script>") == 3
    assert html.count("</script>") == 3
