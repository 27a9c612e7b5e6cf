/* WikiStream dashboard: polls the page JSON every refresh_s seconds and redraws what changed.
 * With window.WIKISTREAM_SNAPSHOT set (the static report) it renders that once, offline.
 * Every value from the data is inserted with textContent (never innerHTML): user names, page
 * titles and error messages come from the public edit stream. */
(function () {
  "use strict";
  const SNAP = window.WIKISTREAM_SNAPSHOT || null;
  const PAGES = ["pipeline", "activity", "risk", "daily", "query"];
  const charts = {};
  const state = { page: null, refresh: 2, last: {}, updates: {}, timer: null, tables: [] };
  window.wsCharts = charts;
  window.wsState = state;

  const COLORS = ["#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477",
    "#66aa00", "#b82e2e", "#316395", "#994499", "#22aa99"];
  const REGION_COLORS = { americas: "#3366cc", europe: "#109618", asia_pacific: "#ff9900",
    middle_east: "#990099", other: "#999999" };
  const FACTOR_LABELS = { velocity_points: "Velocity", deletion_points: "Large deletions",
    anonymous_points: "Anonymous", cross_domain_points: "Cross-wiki" };
  const FACTOR_COLORS = { velocity_points: "#dc3912", deletion_points: "#ff9900",
    anonymous_points: "#990099", cross_domain_points: "#3366cc" };

  // ---- small DOM helpers -------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child)) : child);
    }
    return node;
  }
  const $ = (id) => document.getElementById(id);
  function fill(id, ...nodes) { const n = $(id); n.replaceChildren(...nodes.flat()); return n; }
  function fmt(v, digits) {
    if (v === null || v === undefined || v === "") return "–";
    if (typeof v === "number") {
      return v.toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 2 : digits });
    }
    return String(v);
  }
  function secs(v) {
    if (v === null || v === undefined) return "–";
    if (Math.abs(v) < 120) return fmt(v, 1) + " s";
    if (Math.abs(v) < 7200) return fmt(v / 60, 1) + " min";
    return fmt(v / 3600, 1) + " h";
  }
  function tile(testid, label, value, sub, cls, raw) {
    return el("div", { class: "tile " + (cls || ""), "data-testid": testid },
      el("div", { class: "label", text: label }),
      el("div", { class: "value", "data-value": raw === undefined ? value : raw, text: value }),
      sub ? el("div", { class: "sub", text: sub }) : null);
  }
  function pill(text, cls) { return el("span", { class: "pill " + (cls || text), text: text }); }
  function safeLink(url, text) {
    if (typeof url !== "string" || !url.startsWith("https://")) return el("span", { text: text });
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: text });
  }
  /* columns: [{key, label, num, render(row)}] */
  function table(testid, columns, rows, empty) {
    if (!rows || rows.length === 0) return el("div", { class: "empty", text: empty || "No data yet." });
    const head = el("tr", {}, columns.map((c) => el("th", { class: c.num ? "num" : "", text: c.label })));
    const body = rows.map((row, i) => el("tr", { "data-testid": testid + "-row", "data-index": i },
      columns.map((c) => {
        const content = c.render ? c.render(row) : fmt(row[c.key]);
        return el("td", { class: c.num ? "num" : "", "data-col": c.key || c.label },
          content instanceof Node ? content : String(content));
      })));
    return el("div", { class: "scroll" }, el("table", { "data-testid": testid }, el("thead", {}, head),
      el("tbody", {}, body)));
  }

  // ---- charts ------------------------------------------------------------------------------
  function chart(id, type, labels, datasets, options) {
    if (!window.Chart) return;
    const data = { labels: labels, datasets: datasets };
    const existing = charts[id];
    if (existing && existing.config.type === type) {
      existing.data = data;
      existing.update("none");
      return;
    }
    if (existing) existing.destroy();
    const canvas = $("chart-" + id);
    if (!canvas) return;
    charts[id] = new window.Chart(canvas, {
      type: type, data: data,
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } }, options || {}),
    });
  }
  const stacked = { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };
  function ds(label, data, color, extra) {
    return Object.assign({ label: label, data: data, backgroundColor: color, borderColor: color, order: 1 }, extra || {});
  }

  // ---- pages -------------------------------------------------------------------------------
  function renderPipeline(d) {
    const lake = d.lake || {}, lg = d.log || {}, dlq = lg.dlq || {}, fr = lake.freshness || {};
    const fb = fr.bronze || {}, fs = fr.silver || {};
    const counters = lg.ingest_counters || {};
    const dlqShare = counters.received ? 100 * (counters.dead_lettered || 0) / counters.received : null;
    const failing = (d.stages || []).filter((s) => s.state === "failed" || s.stale).length;
    const problems = [lake.error && "lake: " + lake.error, lg.error && "event log: " + lg.error].filter(Boolean);
    fill("pipe-problems", problems.map((p) => el("div", { class: "error", "data-testid": "pipe-problem", text: p })));
    fill("pipe-tiles",
      tile("pipe-eps", "Events/s into bronze (last min)", fmt(lake.events_per_s, 2), null, null, lake.events_per_s),
      tile("pipe-lag", "Bronze lag (log records)", fmt(lg.bronze_lag), lg.available ? "vs. " + lg.lag_source + " position" : "event log unavailable",
        lg.bronze_lag > 10000 ? "warn" : "", lg.bronze_lag),
      tile("pipe-fresh-bronze", "Event → bronze p50 / p95", secs(fb.p50_s) + " / " + secs(fb.p95_s),
        fmt(fb.events) + " events, last " + fmt((fb.window_s || 0) / 60) + " min", null, fb.p50_s),
      tile("pipe-fresh-silver", "Event → silver p50 / p95", secs(fs.p50_s) + " / " + secs(fs.p95_s),
        fmt(fs.events) + " events", null, fs.p50_s),
      tile("pipe-dlq", "Dead letters (last hour)", fmt(dlq.last_hour), fmt(dlq.per_min_5m) + "/min over 5 min",
        dlq.per_min_5m > 10 ? "bad" : "", dlq.last_hour),
      tile("pipe-dlq-share", "DLQ share of received", dlqShare === null ? "–" : fmt(dlqShare, 2) + " %",
        fmt(counters.received) + " received", null, dlqShare),
      tile("pipe-alarms-count", "Active alarms", fmt((d.alarms || []).length), null,
        (d.alarms || []).length ? "bad" : "good", (d.alarms || []).length),
      tile("pipe-stages-bad", "Failed or stale stages", fmt(failing), null, failing ? "bad" : "good", failing));
    fill("pipe-stages", table("stages", [
      { key: "stage", label: "Stage" },
      { key: "state", label: "State", render: (r) => pill(r.stale ? r.state + " (stale)" : r.state, r.stale ? "stale" : r.state) },
      { key: "heartbeat_age_s", label: "Heartbeat", num: true, render: (r) => secs(r.heartbeat_age_s) + " ago" },
      { key: "progress_age_s", label: "Progress", num: true, render: (r) => r.progress_age_s === null ? "–" : secs(r.progress_age_s) + " ago" },
      { key: "message", label: "Message", render: (r) => r.last_error ? r.message + " — " + r.last_error : (r.message || "") },
    ], d.stages, "No stage has reported yet (is `wikistream run` running?)."));
    fill("pipe-alarms", table("alarms", [
      { key: "name", label: "Alarm" },
      { key: "severity", label: "Severity", render: (r) => pill(String(r.severity), String(r.severity)) },
      { key: "status", label: "Status" }, { key: "title", label: "Title" }, { key: "since", label: "Since" },
    ], d.alarms, "No active alarms."));
    const tp = lake.throughput || [];
    chart("throughput", "bar", tp.map((r) => String(r.minute).slice(11, 16) + "Z"),
      [ds("bronze events / min", tp.map((r) => r.events), COLORS[0])], { plugins: { legend: { display: false } } });
    const cov = lg.coverage || [];
    chart("coverage", "bar", cov.map((r) => r.hour.slice(5).replace("T", " ") + "h"), [
      ds("received", cov.map((r) => r.received), COLORS[3], { stack: "s", yAxisID: "y" }),
      ds("skipped upstream offsets", cov.map((r) => r.skipped), COLORS[1], { stack: "s", yAxisID: "y" }),
      ds("coverage %", cov.map((r) => r.coverage_pct), COLORS[0], { type: "line", yAxisID: "y1", order: 0, pointRadius: 3 }),
    ], { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true },
      y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } } });
    const gates = lake.gates || [];
    chart("gates", "bar", gates.map((g) => String(g.run_timestamp).slice(11, 16) + " " + g.layer), [
      ds("passed checks", gates.map((g) => g.passed), COLORS[3]),
      ds("warnings", gates.map((g) => g.warnings), COLORS[2]),
      ds("blocking failures", gates.map((g) => g.blocking), COLORS[1]),
    ], stacked);
    fill("pipe-gates", table("gates", [
      { key: "run_timestamp", label: "Run", render: (r) => String(r.run_timestamp).replace("T", " ").slice(0, 19) },
      { key: "layer", label: "Layer" },
      { key: "passed_gate", label: "Gate", render: (r) => pill(r.passed_gate ? "pass" : "fail") },
      { key: "checks", label: "Checks", num: true },
      { key: "failed_checks", label: "Failed checks", render: (r) => (r.failed_checks || []).join(", ") },
    ], gates.slice().reverse().slice(0, 12), "No gate has run in the last 48 hours."));
    const reasons = Object.entries(dlq.reasons_last_hour || {}).map(([k, v]) => ({ reason: k, count: v }));
    fill("pipe-dlq-reasons", table("dlq-reasons", [
      { key: "reason", label: "Reason (last hour)" }, { key: "count", label: "Records", num: true },
    ], reasons, lg.available === false ? "Event log unavailable." : "No dead letters in the last hour."));
    fill("pipe-dlq", el("h2", { text: "Latest dead letters" }), table("dlq", [
      { key: "appended_at", label: "When", render: (r) => String(r.appended_at).replace("T", " ").slice(0, 19) },
      { key: "stage", label: "Stage" }, { key: "error_type", label: "Type" }, { key: "error", label: "Error" },
    ], dlq.latest, "None."));
  }

  function dateSelect(id, dates, chosen) {
    const select = $(id);
    const current = Array.from(select.options).map((o) => o.value).join(",");
    if (current !== (dates || []).join(",")) {
      select.replaceChildren(...(dates || []).map((d) => el("option", { value: d, text: d })));
    }
    if (chosen) select.value = chosen;
  }

  function renderActivity(d) {
    dateSelect("activity-date", d.dates, d.date);
    const t = d.totals || {};
    const botPct = t.total_events ? 100 * t.bot_edits / t.total_events : null;
    fill("act-tiles",
      tile("act-total", "Edits", fmt(t.total_events), d.date ? "on " + d.date + " (UTC)" : "no data yet", null, t.total_events),
      tile("act-wikis", "Wikis", fmt(t.wikis), null, null, t.wikis),
      tile("act-bots", "Bot edits", fmt(t.bot_edits), botPct === null ? null : fmt(botPct, 1) + " % of edits", null, t.bot_edits),
      tile("act-registered", "Registered accounts", fmt(t.registered_edits), null, null, t.registered_edits),
      tile("act-ip", "IP editors", fmt(t.ip_edits), null, null, t.ip_edits),
      tile("act-temporary", "Temporary accounts", fmt(t.temporary_edits), null, null, t.temporary_edits),
      tile("act-added", "Bytes added", fmt(t.bytes_added), null, null, t.bytes_added),
      tile("act-removed", "Bytes removed", fmt(t.bytes_removed), null, null, t.bytes_removed));
    const hours = (d.hours || []).map((h) => String(h).padStart(2, "0") + "h");
    const regions = Object.keys(d.by_region || {});
    chart("act-region", "bar", hours, regions.map((r, i) =>
      ds(r, d.by_region[r], REGION_COLORS[r] || COLORS[i % COLORS.length])), stacked);
    const wikis = d.by_wiki || [];
    chart("act-wiki", "bar", wikis.map((w) => w.domain), [
      ds("human", wikis.map((w) => w.human_edits), COLORS[0]),
      ds("bot", wikis.map((w) => w.bot_edits), COLORS[2]),
    ], { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } } });
    const bh = d.bot_human || {};
    chart("act-bot", "bar", hours, [ds("human", bh.human, COLORS[0]), ds("bot", bh.bot, COLORS[2])], stacked);
    const k = d.user_kinds || {};
    chart("act-kind", "bar", hours, [ds("registered", k.registered, COLORS[3]), ds("IP", k.ip, COLORS[1]),
      ds("temporary", k.temporary, COLORS[4])], stacked);
    const b = d.bytes || {};
    chart("act-bytes", "line", hours, [ds("added", b.added, COLORS[3]), ds("removed", b.removed, COLORS[1])],
      { scales: { y: { beginAtZero: true } } });
    fill("act-wikis", table("wikis", [
      { key: "domain", label: "Wiki" }, { key: "region", label: "Region" },
      { key: "total_events", label: "Edits", num: true }, { key: "human_edits", label: "Human", num: true },
      { key: "bot_edits", label: "Bot", num: true }, { key: "registered_edits", label: "Registered", num: true },
      { key: "ip_edits", label: "IP", num: true }, { key: "temporary_edits", label: "Temporary", num: true },
      { key: "bytes_added", label: "Bytes +", num: true }, { key: "bytes_removed", label: "Bytes −", num: true },
      { key: "large_deletions", label: "Large deletions", num: true },
    ], wikis, "No hourly statistics yet."));
  }

  function contributionsUrl(user) {
    const first = (user.diffs || [])[0];
    if (!first || !first.domain) return null;
    return "https://" + first.domain + "/wiki/Special:Contributions/" + encodeURIComponent(user.entity_id);
  }

  function renderRisk(d) {
    dateSelect("risk-date", d.dates, d.date);
    const lv = d.levels || {};
    fill("risk-tiles",
      tile("risk-scored", "Scored users", fmt(d.scored_users || 0), d.date ? "on " + d.date : "no data yet", null, d.scored_users || 0),
      tile("risk-high", "HIGH", fmt(lv.HIGH || 0), null, lv.HIGH ? "bad" : "good", lv.HIGH || 0),
      tile("risk-medium", "MEDIUM", fmt(lv.MEDIUM || 0), null, lv.MEDIUM ? "warn" : "", lv.MEDIUM || 0),
      tile("risk-low", "LOW", fmt(lv.LOW || 0), null, null, lv.LOW || 0),
      tile("risk-alerts", "Alerts triggered", fmt(d.alerts || 0), null, d.alerts ? "bad" : "", d.alerts || 0));
    const users = d.users || [];
    const top = users.slice(0, 15);
    chart("risk", "bar", top.map((u) => u.entity_id), (d.factors || []).map((f) =>
      ds(FACTOR_LABELS[f] || f, top.map((u) => u[f] || 0), FACTOR_COLORS[f])),
    { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, max: 100 }, y: { stacked: true } } });
    fill("risk-users", table("risk-users", [
      { key: "rank", label: "#", num: true },
      { key: "entity_id", label: "User", render: (u) => {
        const url = contributionsUrl(u);
        return url ? safeLink(url, u.entity_id) : el("span", { text: u.entity_id });
      } },
      { key: "user_kind", label: "Kind" },
      { key: "risk_score", label: "Score", num: true },
      { key: "risk_level", label: "Level", render: (u) => pill(String(u.risk_level), String(u.risk_level)) },
      { key: "alert_triggered", label: "Alert", render: (u) => u.alert_triggered ? pill("alert", "HIGH") : "" },
      { key: "velocity_points", label: "Velocity", num: true },
      { key: "deletion_points", label: "Deletions", num: true },
      { key: "anonymous_points", label: "Anonymous", num: true },
      { key: "cross_domain_points", label: "Cross-wiki", num: true },
      { key: "total_edits", label: "Edits", num: true },
      { key: "evidence", label: "Evidence", render: (u) => el("span", { class: "evidence",
        text: u.evidence && typeof u.evidence === "object"
          ? Object.entries(u.evidence).map(([k, v]) => k.replace(/_/g, " ") + ": " + v).join(" · ")
          : String(u.evidence || "") }) },
      { key: "diffs", label: "Recent diffs", render: (u) => el("span", { class: "diffs" },
        (u.diffs || []).map((x) => safeLink(x.url, (x.domain || "").split(".")[0] + ":" + (x.title || x.revision_new)))) },
    ], users, "No risk scores yet."));
  }

  function renderDaily(d) {
    const rows = d.rows || [];
    const last = rows[rows.length - 1] || {};
    fill("daily-tiles",
      tile("daily-health", "Platform health score", fmt(last.platform_health_score), last.summary_date || "no data yet",
        last.platform_health_score >= 70 ? "good" : (last.platform_health_score >= 40 ? "warn" : "bad"), last.platform_health_score),
      tile("daily-total", "Events", fmt(last.total_events), null, null, last.total_events),
      tile("daily-users", "Unique users", fmt(last.unique_users), null, null, last.unique_users),
      tile("daily-net", "Net content change (bytes)", fmt(last.net_content_change), null, null, last.net_content_change),
      tile("daily-high", "HIGH-risk users", fmt(last.high_risk_user_count), null, null, last.high_risk_user_count),
      tile("daily-alerts", "Alerts triggered", fmt(last.total_alerts_triggered), null, null, last.total_alerts_triggered));
    const days = rows.map((r) => r.summary_date);
    chart("daily-events", "bar", days, [
      ds("events", rows.map((r) => r.total_events), COLORS[0], { yAxisID: "y" }),
      ds("health score", rows.map((r) => r.platform_health_score), COLORS[3], { type: "line", yAxisID: "y1", order: 0 }),
    ], { scales: { y: { beginAtZero: true }, y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } } });
    chart("daily-shares", "line", days, [
      ds("bot %", rows.map((r) => r.bot_percentage), COLORS[2]),
      ds("anonymous %", rows.map((r) => r.anonymous_percentage), COLORS[1]),
      ds("registered %", rows.map((r) => r.registered_user_percentage), COLORS[3]),
    ], { scales: { y: { min: 0, max: 100 } } });
    chart("daily-risk", "bar", days, [
      ds("HIGH", rows.map((r) => r.high_risk_user_count), COLORS[1]),
      ds("MEDIUM", rows.map((r) => r.medium_risk_user_count), COLORS[2]),
      ds("LOW", rows.map((r) => r.low_risk_user_count), COLORS[3]),
    ], stacked);
    chart("daily-content", "bar", days, [
      ds("added", rows.map((r) => r.total_bytes_added), COLORS[3]),
      ds("removed", rows.map((r) => r.total_bytes_removed), COLORS[1]),
      ds("net", rows.map((r) => r.net_content_change), COLORS[0], { type: "line", order: 0 }),
    ]);
    fill("daily-table", table("daily", [
      { key: "summary_date", label: "Day" }, { key: "total_events", label: "Events", num: true },
      { key: "unique_users", label: "Users", num: true }, { key: "active_domains", label: "Wikis", num: true },
      { key: "bot_percentage", label: "Bot %", num: true }, { key: "anonymous_percentage", label: "Anon %", num: true },
      { key: "new_pages_created", label: "New pages", num: true },
      { key: "large_deletions_count", label: "Large deletions", num: true },
      { key: "high_risk_user_count", label: "HIGH", num: true }, { key: "total_alerts_triggered", label: "Alerts", num: true },
      { key: "platform_avg_risk_score", label: "Avg risk", num: true },
      { key: "platform_health_score", label: "Health", num: true },
    ], rows.slice().reverse(), "No daily summary yet."));
  }

  // ---- query page --------------------------------------------------------------------------
  function renderTables(tables) {
    fill("query-tables", el("div", { class: "tables" }, (tables || []).map((t) =>
      el("details", {}, el("summary", { text: t.name, onclick: () => insert(t.name) }),
        el("div", { class: "muted", text: t.snapshot_id ? "snapshot " + t.snapshot_id : "no data yet" }),
        t.columns.map((c) => el("code", { text: c.name + "  " + c.type, onclick: () => insert(c.name) }))))));
  }
  function insert(text) {
    const area = $("query-sql");
    const start = area.selectionStart, end = area.selectionEnd;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.focus();
  }
  async function runQuery() {
    if (SNAP) return;
    const button = $("query-run");
    const body = { sql: $("query-sql").value };
    if ($("query-asof").value.trim()) body.as_of = $("query-asof").value.trim();
    if ($("query-limit").value) body.limit = Number($("query-limit").value);
    button.disabled = true;
    fill("query-status", "running…");
    try {
      const response = await fetch("/api/query", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const data = await response.json();
      if (!response.ok) {
        fill("query-status");
        fill("query-result", el("div", { class: "error", "data-testid": "query-error", text: data.error || response.statusText }));
        return;
      }
      const snaps = Object.entries(data.snapshots || {}).map(([k, v]) => k + "@" + (v || "empty")).join(", ");
      fill("query-status", fmt(data.row_count) + " rows" + (data.truncated ? " (truncated at " + fmt(data.row_limit) + ")" : "") +
        " · " + fmt(data.elapsed_ms, 0) + " ms" + (snaps ? " · " + snaps : ""));
      const cols = data.columns.map((c, i) => ({ label: c, num: /int|float|double|decimal/.test(data.types[i]),
        render: (row) => { const v = row[i]; return v !== null && typeof v === "object" ? JSON.stringify(v) : fmt(v, 6); } }));
      fill("query-result", table("query-table", cols, data.rows, "The query returned no rows."));
    } catch (err) {
      fill("query-result", el("div", { class: "error", "data-testid": "query-error", text: String(err) }));
    } finally {
      button.disabled = false;
    }
  }

  // ---- navigation and polling --------------------------------------------------------------
  const RENDER = { pipeline: renderPipeline, activity: renderActivity, risk: renderRisk, daily: renderDaily };
  function url(page) {
    const select = $(page + "-date");
    const day = select && select.value ? "?date=" + encodeURIComponent(select.value) : "";
    return "/api/" + page + day;
  }
  function setLive(ok, text) {
    const live = $("live");
    live.className = "live " + (ok ? "ok" : "err");
    live.textContent = text;
  }
  function render(page, data) {
    const text = JSON.stringify(data);
    if (state.last[page] === text) return;
    state.last[page] = text;
    RENDER[page](data);
    state.updates[page] = (state.updates[page] || 0) + 1;
  }
  async function poll() {
    clearTimeout(state.timer);
    const page = state.page;
    if (RENDER[page]) {
      try {
        const response = await fetch(url(page), { credentials: "same-origin" });
        const data = await response.json();
        if (!response.ok) throw new Error(data.error || response.statusText);
        if (page === state.page) render(page, data);
        setLive(true, "live · updated " + new Date().toLocaleTimeString());
      } catch (err) {
        setLive(false, "update failed: " + err.message);
      }
    }
    state.timer = setTimeout(poll, state.refresh * 1000);
  }
  function show(page) {
    if (!PAGES.includes(page)) page = "pipeline";
    state.page = page;
    for (const p of PAGES) $("page-" + p).hidden = p !== page;
    for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === page);
    if (SNAP) {
      if (RENDER[page] && SNAP[page]) render(page, SNAP[page]);
    } else {
      poll();
    }
  }

  async function start() {
    // The server has turned ?token= into an HttpOnly cookie: keep the secret out of the address
    // bar, history and bookmarks.
    if (!SNAP && new URLSearchParams(location.search).has("token")) {
      history.replaceState(null, "", location.pathname + location.hash);
    }
    window.addEventListener("hashchange", () => show(location.hash.slice(1)));
    for (const id of ["activity-date", "risk-date"]) {
      $(id).addEventListener("change", () => { state.last[id.split("-")[0]] = null; poll(); });
    }
    $("query-run").addEventListener("click", runQuery);
    $("query-sql").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) runQuery(); });
    if (SNAP) {
      setLive(true, "static report · generated " + SNAP.generated_at);
      $("footer").textContent = "WikiStream " + (SNAP.meta || {}).version + " static report — the Query page needs the live server (`wikistream serve`).";
      renderTables((SNAP.meta || {}).tables);
      $("query-run").disabled = true;
      for (const p of ["pipeline", "activity", "risk", "daily"]) if (SNAP[p]) render(p, SNAP[p]);
    } else {
      try {
        const meta = await (await fetch("/api/meta", { credentials: "same-origin" })).json();
        state.refresh = meta.refresh_s || 2;
        state.tables = meta.tables || [];
        renderTables(state.tables);
        $("query-limit").placeholder = String(meta.row_limit || "");
        $("footer").textContent = "WikiStream " + meta.version + " · refreshes every " + state.refresh + " s";
      } catch (err) {
        setLive(false, "cannot reach the server: " + err.message);
      }
    }
    show(location.hash.slice(1) || "pipeline");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
