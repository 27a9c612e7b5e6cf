"""The static HTML report: every dashboard page in one self-contained file for sharing.

The page, its script, Chart.js and the data are inlined, so the file opens offline from disk or
an e-mail attachment. The Query page is shown without its Run button (it needs the server).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wikistream.atomic_file import write_text_atomic
from wikistream.errors import ConfigError
from wikistream.serve.dashboard import Dashboard
from wikistream.serve.server import static_file

if TYPE_CHECKING:
    from wikistream.settings import Settings

STYLE_TAG = '<link rel="stylesheet" href="/static/style.css">'
CHART_TAG = '<script src="/static/vendor/chart.umd.js" defer></script>'
APP_TAG = '<script src="/static/app.js" defer></script>'


def _script(text: str) -> str:
    # "</script" or "<!--" inside inlined code would end or confuse the script element.
    safe = text.replace("</script", "<\\/script").replace("<!--", "<\\!--")
    return f"<script>{safe}</script>"


def _data_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, default=str)
    # Escape what could close the script element or break JS string parsing.
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _asset(name: str) -> str:
    data = static_file(name)
    if data is None:
        raise ConfigError(f"the dashboard asset {name} is missing from the installed package")
    return data.decode("utf-8")


def render_report(snapshot: dict[str, Any]) -> str:
    """The report HTML for a :meth:`Dashboard.snapshot`."""
    page = _asset("index.html")
    for tag in (STYLE_TAG, CHART_TAG, APP_TAG):
        if tag not in page:
            raise ConfigError(f"index.html no longer contains {tag!r}; update report.py")
    page = page.replace(STYLE_TAG, f"<style>{_asset('style.css')}</style>")
    page = page.replace(CHART_TAG, _script(_asset("vendor/chart.umd.js")))
    data = f"<script>window.WIKISTREAM_SNAPSHOT = {_data_json(snapshot)};</script>"
    return page.replace(APP_TAG, data + _script(_asset("app.js")))


def write_report(settings: Settings, out: Path) -> dict[str, Any]:
    """Render every page from the current tables into ``out`` (atomically); return a summary."""
    dashboard = Dashboard(settings)
    try:
        snapshot = dashboard.snapshot()
    finally:
        dashboard.close()
    html = render_report(snapshot)
    out = out.expanduser()
    if out.parent and not out.parent.is_dir():
        raise ConfigError(
            f"cannot write the report to {out}: directory {out.parent} does not exist"
        )
    write_text_atomic(out, html)
    return {
        "report": str(out),
        "bytes": len(html.encode("utf-8")),
        "generated_at": snapshot["generated_at"],
        "activity_date": snapshot["activity"].get("date"),
        "risk_date": snapshot["risk"].get("date"),
        "daily_days": len(snapshot["daily"].get("days", [])),
    }
