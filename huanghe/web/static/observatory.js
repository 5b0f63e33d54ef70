/* Observatory view (#observatory): GET /api/v1/observatory/{indicators,index,targets,green-list,network-capacity},
   open alerts (GET /api/v1/alerts, ack/resolve), telemetry of one center (GET /api/v1/telemetry, step=5m) and
   report links. Loaded when first shown; the language switch re-renders from the data already read. */
(function () {
  "use strict";

  const { t, fmt, pct, el } = window.HH;
  const LEVELS = ["city", "circle", "province"];
  const WEIGHTS = ["equal", "entropy", "expert"];
  const DIMENSIONS = ["compute", "storage", "network", "environment", "application"];
  const DIM_COLORS = ["#2f6fde", "#2a9d8f", "#e07b1a", "#6a9f2a", "#8e5bb5"];
  const TELE_METRICS = ["utilisation", "pue"];
  const TELE_WINDOW_H = 24;
  const GREEN_TOP = 10;
  const $ = (id) => document.getElementById(id);

  const st = { loaded: false, topo: null, data: {}, errors: {}, charts: {} };
  HH.registerCalls("observatory", [
    "GET /api/v1/observatory/indicators",
    "GET /api/v1/observatory/index",
    "GET /api/v1/observatory/targets",
    "GET /api/v1/observatory/green-list",
    "GET /api/v1/observatory/network-capacity",
    "GET /api/v1/observatory/reports/{kind}",
    "GET /api/v1/alerts",
    "POST /api/v1/alerts/{alert_id}:ack",
    "POST /api/v1/alerts/{alert_id}:resolve",
    "GET /api/v1/telemetry",
    "GET /api/v1/telemetry/metrics",
    "GET /api/v1/telemetry/exporters",
    "GET /api/v1/observatory/index/sensitivity",
    "GET /api/v1/observatory/maturity",
    "GET /api/v1/observatory/data-storage",
    "GET /api/v1/lifecycle-policies",
    "GET /api/v1/storage-endpoints",
    "GET /api/v1/transfers",
    "GET /api/v1/scheduler",
    "GET /api/v1/observatory/empowerment",
  ]);
  // read only when the role may (the observatory is shown to operators too)
  const OPTIONAL = {
    lifecycle: "GET /api/v1/lifecycle-policies",
    scheduler: "GET /api/v1/scheduler",
    empowerment: "GET /api/v1/observatory/empowerment",
  };

  const hasCharts = () => !window.HUANGHE_NO_ECHARTS && typeof window.echarts !== "undefined";
  function centerName(id, fallback) {
    const c = st.topo && st.topo.centers.find((x) => x.id === id);
    return c ? HH.named(c) : fallback || id;
  }
  function chart(key, slotId) {
    if (!hasCharts()) {
      $(slotId).replaceChildren(el("div", { className: "notice" }, t("map.missing")));
      return null;
    }
    if (!st.charts[key]) st.charts[key] = echarts.init($(slotId), null, { renderer: "canvas" });
    return st.charts[key];
  }
  /** A part's guard: only the latest of its overlapping reads (a control changed twice, an action's reload) stores
      and draws its answer, so an older answer never replaces a newer one. */
  const guards = {};
  const freshOf = (key) => (guards[key] = guards[key] || HH.latest());
  /** Read `path` into st.data[key] (or st.errors[key]) and render that part. */
  async function load(key, path, renderPart) {
    const mine = freshOf(key)();
    try {
      const data = await HH.api(path);
      if (!mine()) return;  // overtaken: the later read draws
      st.data[key] = data;
      st.errors[key] = null;
    } catch (err) {
      if (!mine()) return;
      st.errors[key] = err;
    }
    renderPart();
  }
  function guard(key, slot, fn) {  // an error box instead of the part when its request failed
    HH.showError($(slot), st.errors[key], "obs.error");
    if (!st.errors[key] && st.data[key]) fn(st.data[key]);
  }

  // ---- indicators -----------------------------------------------------------------------------------------
  function card(label, value, sub) {
    return el("div", { className: "card" }, el("div", { className: "card-label" }, label),
      el("div", { className: "card-value" }, value), el("div", { className: "card-sub" }, sub));
  }
  function renderIndicators() {
    guard("indicators", "obs-indicators-error", (d) => {
      const r = d.rows[0];
      $("obs-year").textContent = t("obs.year", { year: d.year });
      document.querySelectorAll(".obs-illustrative").forEach((b) => { b.hidden = !d.illustrative; });
      $("obs-cards").replaceChildren(
        card(t("obs.card.racks"), fmt(r.standard_racks), t("obs.card.racks.sub", { n: fmt(r.racks_in_use) })),
        card(t("obs.card.eflops"), fmt(r.total_eflops, 3), t("obs.card.eflops.sub", { share: pct(r.intelligent_share) })),
        card(t("obs.card.storage"), fmt(r.storage_eb, 3), t("obs.card.storage.sub", { share: pct(r.advanced_storage_share) })),
        card(t("obs.card.egress"), fmt(r.egress_gbps), t("obs.card.egress.sub", { share: pct(r.pon10g_share) })),
        card(t("obs.card.pue"), fmt(r.pue, 3), r.pue_measured == null
          ? t("obs.card.pue.sub", { ref: pct(r.ref) }) : t("obs.card.pue.measured", { pue: fmt(r.pue_measured, 3) })));
    });
  }

  // ---- comprehensive compute index ------------------------------------------------------------------------
  function renderIndex() {
    guard("index", "obs-index-error", (d) => {
      const rows = [...d.rows].sort((a, b) => a.rank - b.rank);
      const name = (r) => (HH.lang === "en" ? r.name_en || r.name_zh : r.name_zh);
      const table = HH.table(
        [t("obs.index.rank"), t("obs.index.name"), { text: t("obs.index.score"), num: true },
          ...DIMENSIONS.map((k) => ({ text: t("obs.dim." + k), num: true }))],
        rows.map((r) => [{ text: fmt(r.rank), className: "num" }, name(r), { text: fmt(r.score, 1), className: "num strong" },
          ...DIMENSIONS.map((k) => ({ text: fmt(r.dimensions[k], 1), className: "num" }))]));
      table.id = "obs-index-grid";
      $("obs-index-table").replaceChildren(table);
      const c = chart("index", "obs-index-chart");
      if (!c) return;
      c.setOption({
        animation: false,
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 0 },
        grid: { left: 40, right: 12, top: 34, bottom: 60 },
        xAxis: { type: "category", data: rows.map(name), axisLabel: { rotate: rows.length > 8 ? 40 : 0, interval: 0 } },
        yAxis: { type: "value", max: 100 },
        series: DIMENSIONS.map((k, i) => ({ name: t("obs.dim." + k), type: "bar", data: rows.map((r) => r.dimensions[k]), itemStyle: { color: DIM_COLORS[i] } })),
      }, true);
    });
  }
  function loadIndex() {
    const q = new URLSearchParams({ level: $("obs-level").value || "city", weights: $("obs-weights").value || "equal" });
    return load("index", `/api/v1/observatory/index?${q}`, renderIndex);
  }

  // ---- targets --------------------------------------------------------------------------------------------
  function targetValue(v, unit) {
    if (v == null) return "–";
    if (unit === "share") return pct(v);
    if (unit === "ratio") return fmt(v, 2);
    if (unit === "racks" || unit === "Gbps") return fmt(v) + (unit === "Gbps" ? " Gbps" : "");
    return `${fmt(v, 2)} ${unit}`;
  }
  function renderTargets() {
    guard("targets", "obs-targets-error", (rows) => {
      $("obs-targets").replaceChildren(...rows.map((r) => {
        const key = "kpi." + r.kpi;
        const label = t(key) === key ? r.name_zh : t(key);
        const progress = r.comparison === "<=" ? (r.actual ? r.target / r.actual : 0) : r.target ? r.actual / r.target : 0;
        const width = Math.max(0, Math.min(1, progress)) * 100;
        return el("div", { className: "target", dataset: { kpi: r.kpi } },
          el("div", { className: "target-head" }, el("b", {}, label),
            el("span", { className: "met " + (r.met ? "yes" : "no") }, t(r.met ? "obs.targets.met" : "obs.targets.not_met"))),
          el("div", { className: "bar", title: pct(progress) }, el("div", { className: "fill" + (r.met ? " met" : ""), style: `width:${width.toFixed(1)}%` })),
          el("div", { className: "target-sub" }, t("obs.targets.line", {
            actual: targetValue(r.actual, r.unit), actual_year: r.actual_year, cmp: r.comparison === "<=" ? "≤" : "≥",
            target: targetValue(r.target, r.unit), year: r.year, forecast: targetValue(r.forecast, r.unit),
            outlook: t(r.forecast_met ? "obs.targets.on_track" : "obs.targets.off_track") })),
          el("div", { className: "source" }, r.source));
      }));
    });
  }

  // ---- green list -----------------------------------------------------------------------------------------
  function renderGreen() {
    guard("green", "obs-green-error", (d) => {
      const rules = d.rules;
      $("obs-green-rules").textContent = t("obs.green.rules", { pue: fmt(rules.pue_limit, 2), racks: fmt(rules.small_racks_below),
        km: fmt(rules.scattered_km_above), year: rules.old_opened_before });
      const city = (id) => { const c = st.topo && st.topo.cities.find((x) => x.id === id); return c ? HH.named(c) : id; };
      $("obs-green").replaceChildren(
        el("div", { id: "obs-green-pue", tabIndex: 0 }, el("h3", {}, t("obs.green.pue", { pue: fmt(rules.pue_limit, 1) })),
          HH.table([t("col.name"), t("col.city"), { text: "PUE", num: true }],
            d.pue_above_limit.map((r) => [{ text: centerName(r.center, r.name_zh), className: "wrap" }, city(r.city), { text: fmt(r.pue, 2), className: "num" }]),
            t("obs.green.none"))),
        el("div", { id: "obs-green-renewable", tabIndex: 0 }, el("h3", {}, t("obs.green.renewable", { n: GREEN_TOP })),
          HH.table([t("obs.index.rank"), t("col.name"), { text: t("obs.green.share"), num: true }, { text: "PUE", num: true }],
            d.renewable_ranking.slice(0, GREEN_TOP).map((r) => [{ text: fmt(r.rank), className: "num" }, { text: centerName(r.center, r.name_zh), className: "wrap" },
              { text: pct(r.renewable_share, 0), className: "num" }, { text: fmt(r.pue, 2), className: "num" }]))),
        el("div", { id: "obs-green-sso", tabIndex: 0 }, el("h3", {}, t("obs.green.sso")),
          HH.table([t("col.name"), { text: t("obs.green.racks"), num: true }, { text: t("obs.green.km"), num: true }, t("obs.green.opened"), t("obs.green.reasons")],
            d.small_scattered_old.map((r) => [{ text: centerName(r.center, r.name_zh), className: "wrap" }, { text: fmt(r.standard_racks), className: "num" },
              { text: fmt(r.nearest_km, 1), className: "num" }, String(r.opened_year), r.reasons.map((x) => t("obs.green.reason." + x)).join(" · ")]),
            t("obs.green.none"))));
    });
  }

  // ---- network capacity -----------------------------------------------------------------------------------
  function meter(label, ok, total) {
    const share = total ? ok / total : 1;
    return el("div", { className: "target" },
      el("div", { className: "target-head" }, el("b", {}, label), el("span", { className: "met " + (ok === total ? "yes" : "no") }, pct(share))),
      el("div", { className: "bar" }, el("div", { className: "fill" + (ok === total ? " met" : ""), style: `width:${(share * 100).toFixed(1)}%` })),
      el("div", { className: "target-sub" }, t("obs.capacity.pairs", { ok: fmt(ok), total: fmt(total) })));
  }
  function renderCapacity() {
    guard("capacity", "obs-capacity-error", (d) => {
      const s = d.summary;
      const failing = d.pairs.filter((p) => p.compliant === false);
      $("obs-capacity").replaceChildren(
        meter(t("obs.capacity.city"), s.city_compliant, s.city_pairs),
        meter(t("obs.capacity.circle"), s.circle_compliant, s.circle_pairs),
        el("p", { className: "hint-line" }, t("obs.capacity.cross", { n: fmt(s.cross_pairs) })),
        failing.length
          ? HH.table([t("obs.capacity.pair"), { text: t("obs.capacity.latency"), num: true }, { text: t("obs.capacity.limit"), num: true }],
            failing.slice(0, 20).map((p) => [`${centerName(p.a)} ⇄ ${centerName(p.b)}`, { text: fmt(p.latency_ms, 2), className: "num" }, { text: fmt(p.limit_ms, 1), className: "num" }]))
          : el("p", { className: "ok-line" }, t("obs.capacity.all_ok")));
    });
  }

  // ---- alerts ---------------------------------------------------------------------------------------------
  function renderAlerts() {
    guard("alerts", "obs-alerts-error", (page) => {
      const open = page.items;
      $("obs-alerts-count").textContent = t("obs.alerts.count", { n: page.total });
      const actions = (a) => el("span", { className: "actions" },
        a.state === "open" ? el("button", { type: "button", className: "small", dataset: { alert: a.id, act: "ack" } }, t("obs.alerts.ack")) : null,
        el("button", { type: "button", className: "small", dataset: { alert: a.id, act: "resolve" } }, t("obs.alerts.resolve")));
      $("obs-alerts").replaceChildren(HH.table(
        [t("obs.alerts.rule"), t("obs.alerts.subject"), { text: t("obs.alerts.value"), num: true }, t("obs.alerts.opened"), t("obs.alerts.state"), ""],
        open.map((a) => [HH.coded("alert.rule", a.rule), { text: [a.center ? centerName(a.center) : "", el("div", { className: "mono sub" }, a.subject)], className: "wrap" },
          { text: `${fmt(a.value, 3)} / ${fmt(a.threshold, 3)}`, className: "num" }, HH.time(a.opened_at), t("obs.alerts.state." + a.state), actions(a)]),
        t("obs.alerts.none")));
    });
  }
  async function alertAction(ev) {
    const btn = ev.target.closest("button[data-alert]");
    if (!btn) return;
    btn.disabled = true;
    try {
      const id = encodeURIComponent(btn.dataset.alert);
      await HH.api(btn.dataset.act === "ack" ? `/api/v1/alerts/${id}:ack` : `/api/v1/alerts/${id}:resolve`, { method: "POST" });
    } catch (err) {
      st.errors.alerts = err;
      renderAlerts();
      return;
    }
    await loadAlerts();
  }
  /** Open and acknowledged alerts (two reads, so that many resolved ones cannot hide them), newest first. */
  async function loadAlerts() {
    const mine = freshOf("alerts")();
    try {
      const pages = await Promise.all(["open", "acknowledged"].map((s) => HH.api(`/api/v1/alerts?state=${s}&limit=100`)));
      if (!mine()) return;  // overtaken: the later read draws
      const items = pages.flatMap((p) => p.items).sort((a, b) => String(b.opened_at).localeCompare(String(a.opened_at)));
      st.data.alerts = { items, total: pages.reduce((n, p) => n + p.total, 0) };
      st.errors.alerts = null;
    } catch (err) {
      if (!mine()) return;
      st.errors.alerts = err;
    }
    renderAlerts();
  }

  // ---- telemetry ------------------------------------------------------------------------------------------
  function loadTelemetry() {
    const center = $("obs-tele-center").value;
    if (!center) return Promise.resolve();
    const from = new Date(Date.now() - TELE_WINDOW_H * 3600 * 1000).toISOString();
    const q = new URLSearchParams({ metric: $("obs-tele-metric").value, center, step: "5m", from, limit: "2000" });
    return load("telemetry", `/api/v1/telemetry?${q}`, renderTelemetry);
  }
  function renderTelemetry() {
    $("obs-tele-simulated").hidden = true;
    guard("telemetry", "obs-tele-error", (d) => {
      $("obs-tele-simulated").hidden = !d.simulated;
      const bySubject = new Map();
      d.points.forEach((p) => {
        const v = p.mean != null ? p.mean : p.value;
        if (!bySubject.has(p.subject)) bySubject.set(p.subject, []);
        bySubject.get(p.subject).push([p.time, d.metric === "utilisation" ? v * 100 : v]);
      });
      $("obs-tele-note").textContent = d.points.length
        ? t("obs.telemetry.note", { n: fmt(d.points.length), unit: d.metric === "utilisation" ? "%" : d.unit })
        : t("obs.telemetry.empty");
      if (d.truncated) $("obs-tele-note").textContent += " · " + t("obs.telemetry.truncated");
      const c = chart("telemetry", "obs-tele-chart");
      if (!c) return;
      const subjects = [...bySubject.keys()].sort().slice(0, 8);
      c.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0, type: "scroll" },
        grid: { left: 50, right: 16, top: 34, bottom: 30 },
        xAxis: { type: "time" },
        yAxis: { type: "value", scale: true, name: d.metric === "utilisation" ? "%" : d.unit },
        series: subjects.map((s) => ({ name: s ? s : t("obs.telemetry.whole_center"), type: "line", showSymbol: false, data: bySubject.get(s) })),
      }, true);
    });
  }

  // ---- robustness of the index, storage, collection -----------------------------------------------------------
  function renderSensitivity() {
    const d = st.data.sensitivity;
    const study = d && !st.errors.sensitivity && d.studies && d.studies[0];
    $("obs-sensitivity").textContent = study
      ? t("obs.sensitivity", { mean: fmt(study.kendall_tau_mean, 2), min: fmt(study.kendall_tau_min, 2), n: fmt(study.samples) }) : "";
  }
  const bytes = (n) => (n == null ? "–" : n >= 1e15 ? `${fmt(n / 1e15, 2)} PB` : n >= 1e12 ? `${fmt(n / 1e12, 2)} TB` : `${fmt(n / 1e9, 2)} GB`);
  function renderStorage() {
    guard("storage", "obs-storage-error", (d) => {
      $("obs-storage-summary").textContent = t("obs.storage.summary", { available: fmt(d.endpoints_available), endpoints: fmt(d.endpoints),
        stored: bytes(d.stored_bytes), capacity: bytes(d.capacity_bytes), offsite: pct(d.offsite && d.offsite.share) });
    });
    const levels = ["capacity", "performance", "reliability", "green"];
    if (st.data.maturity && !st.errors.maturity) {
      $("obs-maturity").replaceChildren(HH.table(
        [t("col.name"), t("obs.storage.overall"), ...levels.map((k) => ({ text: t("obs.storage." + k), num: true }))],
        st.data.maturity.map((r) => [{ text: centerName(r.center, r.name_zh), className: "wrap" }, `L${r.overall}`,
          ...levels.map((k) => ({ text: `L${r.levels[k]}`, className: "num" }))])));
    }
    if (st.data.exporters && !st.errors.exporters) {
      const rows = st.data.exporters;
      $("obs-exporters").replaceChildren(rows.length
        ? HH.table([t("col.name"), t("obs.exporters.name"), t("obs.exporters.state"), t("obs.exporters.last")],
          rows.map((x) => [{ text: centerName(x.center), className: "wrap" }, { text: x.url, className: "mono wrap" },
            { text: x.last_error || (x.enabled ? "ok" : "–"), className: "wrap" }, HH.time(x.last_scrape)]))
        : el("p", { className: "hint-line" }, t("obs.exporters.none")));
    }
  }
  function renderEndpoints() {
    guard("endpoints", "obs-storage-error", (d) => {
      $("obs-endpoints").replaceChildren(el("h3", {}, t("obs.endpoints.title")), d.items.length ? el("div", { className: "table-wrap short" }, HH.table(
        [t("obs.endpoints.id"), t("col.name"), t("obs.endpoints.tier"), { text: t("obs.endpoints.used"), num: true }, t("obs.endpoints.state")],
        d.items.map((e) => [{ text: e.id, className: "mono" }, { text: centerName(e.center), className: "wrap" }, `${e.temperature} · ${e.medium}`,
          { text: `${bytes(e.used_bytes)} / ${bytes(e.capacity_bytes)}`, className: "num" }, e.available ? t("obs.endpoints.ok") : e.reason || "–"])))
        : el("p", { className: "hint-line" }, t("obs.endpoints.none")));
    });
  }
  function renderTransfers() {
    guard("transfers", "obs-storage-error", (d) => {
      $("obs-transfers").replaceChildren(el("h3", {}, t("obs.transfers.title")), d.items.length ? el("div", { className: "table-wrap short" }, HH.table(
        [t("obs.transfers.file"), t("obs.transfers.route"), { text: t("obs.transfers.size"), num: true }, t("obs.transfers.state"), t("obs.transfers.created")],
        d.items.map((x) => [{ text: el("a", { href: `#transfer/${x.id}` }, `${x.dataset} / ${x.file}`), className: "mono wrap" }, { text: `${x.source_endpoint || "–"} → ${x.dest_endpoint}`, className: "mono" },
          { text: bytes(x.bytes), className: "num" }, x.state, HH.time(x.created_s)])))
        : el("p", { className: "hint-line" }, t("obs.transfers.none")));
    });
  }
  function renderExtras() {
    const lc = st.data.lifecycle;
    if (lc && !st.errors.lifecycle) {
      $("obs-lifecycle").replaceChildren(el("h3", {}, t("obs.lifecycle.title")), HH.table(
        [t("obs.lifecycle.move"), { text: t("obs.lifecycle.idle"), num: true }, t("obs.lifecycle.scope"), t("obs.lifecycle.enabled")],
        lc.items.map((p) => [`${p.from_temperature} → ${p.to_temperature}`, { text: fmt(p.idle_s / 86400), className: "num" },
          p.tenant || t("obs.lifecycle.province"), t(p.enabled ? "obs.yes" : "obs.no")])));
    }
    const sc = st.data.scheduler;
    $("obs-scheduler").textContent = sc && !st.errors.scheduler ? t("obs.scheduler", { state: t(sc.enabled ? "obs.scheduler.on" : "obs.scheduler.off"),
      policy: sc.policy, interval: fmt(sc.interval_s, 1), ticks: fmt(sc.ticks), holder: sc.holder || "–" }) : "";
    const em = st.data.empowerment;
    $("obs-empowerment-panel").hidden = !em && !st.errors.empowerment;
    guard("empowerment", "obs-empowerment-error", (d) => {
      $("obs-empowerment-title").textContent = t("obs.empowerment.title", { year: d.year });
      const row = (r, name) => [name, { text: fmt(r.enterprises), className: "num" }, { text: fmt(r.jobs), className: "num" },
        { text: fmt(r.gpu_hours, 1), className: "num" }, { text: HH.money(Number(r.spending_cny)), className: "num" }, { text: pct(r.voucher_share), className: "num" }];
      $("obs-empowerment").replaceChildren(el("div", { className: "table-wrap" }, HH.table(
        [t("obs.empowerment.industry"), ...["enterprises", "jobs", "gpu_hours", "spending", "voucher_share"].map((k) => ({ text: t("obs.empowerment." + k), num: true }))],
        [...d.by_industry.map((r) => row(r, HH.lang === "en" ? r.name_en : r.name_zh)), row(d.totals, t("obs.empowerment.total"))])));
    });
  }
  function loadExtras() {
    const paths = {
      lifecycle: "/api/v1/lifecycle-policies",
      scheduler: "/api/v1/scheduler",
      empowerment: `/api/v1/observatory/empowerment?year=${new Date().getFullYear()}`,
    };
    return Promise.all(Object.keys(OPTIONAL).filter((k) => HH.can(OPTIONAL[k])).map((k) => load(k, paths[k], renderExtras)));
  }
  async function loadMetrics() {  // the telemetry catalogue: every metric a center reports
    try {
      const all = await HH.api("/api/v1/telemetry/metrics");
      st.metrics = all.filter((m) => m.subject.includes("center")).map((m) => m.name);
      fillControls();
    } catch (err) {
      st.metrics = null;  // the two built-in metrics stay
    }
  }

  // ---- reports --------------------------------------------------------------------------------------------
  function renderReports() {
    const lang = HH.lang === "en" ? "en" : "zh";
    $("obs-reports").replaceChildren(...["storage", "index"].map((kind) => el("div", { className: "report" },
      el("b", {}, t("obs.reports." + kind)), " ",
      ...["pdf", "html"].map((f) => el("a", { className: "button-link", href: `/api/v1/observatory/reports/${kind}?format=${f}&lang=${lang}`, download: "" }, f.toUpperCase())))));
  }

  // ---- wiring ---------------------------------------------------------------------------------------------
  function fillControls() {
    const fill = (id, prefix, values) => {
      const s = $(id);
      const keep = s.value;
      s.replaceChildren(...values.map((v) => new Option(t(prefix + v), v)));
      if (values.includes(keep)) s.value = keep;
    };
    fill("obs-level", "obs.level.", LEVELS);
    fill("obs-weights", "obs.weights.", WEIGHTS);
    const metrics = st.metrics && st.metrics.length ? st.metrics : TELE_METRICS;
    const metric = $("obs-tele-metric");
    const keepMetric = metric.value;
    metric.replaceChildren(...metrics.map((m) => new Option(HH.label("obs.metric", m), m)));
    if (metrics.includes(keepMetric)) metric.value = keepMetric;
    const centers = $("obs-tele-center");
    const keep = centers.value;
    const mine = HH.whoami && HH.whoami.role === "operator" ? new Set(HH.whoami.centers || []) : null;  // its own only
    const shown = (st.topo ? st.topo.centers : []).filter((c) => !mine || mine.has(c.id));
    centers.replaceChildren(...shown.map((c) => new Option(`${HH.named(c)} (${c.id})`, c.id)));
    if (keep) centers.value = keep;
  }
  function render() {
    fillControls();
    if (!st.loaded) return;
    renderIndicators();
    renderIndex();
    renderTargets();
    renderGreen();
    renderCapacity();
    renderAlerts();
    renderTelemetry();
    renderSensitivity();
    renderStorage();
    renderExtras();
    renderEndpoints();
    renderTransfers();
    renderReports();
  }
  async function loadAll() {
    st.loaded = true;
    await HH.ready;  // who is asking (an operator sees the telemetry of its own centers)
    st.topo = await HH.topology;
    fillControls();
    renderReports();
    await Promise.all([
      load("indicators", "/api/v1/observatory/indicators?level=province", renderIndicators),
      loadIndex(),
      load("targets", "/api/v1/observatory/targets", renderTargets),
      load("green", "/api/v1/observatory/green-list", renderGreen),
      load("capacity", "/api/v1/observatory/network-capacity", renderCapacity),
      loadAlerts(),
      loadTelemetry(),
      loadMetrics(),
      load("sensitivity", "/api/v1/observatory/index/sensitivity", renderSensitivity),
      load("storage", "/api/v1/observatory/data-storage", renderStorage),
      load("maturity", "/api/v1/observatory/maturity", renderStorage),
      load("exporters", "/api/v1/telemetry/exporters", renderStorage),
      loadExtras(),
      load("endpoints", "/api/v1/storage-endpoints?limit=200", renderEndpoints),
      load("transfers", "/api/v1/transfers?limit=10", renderTransfers),
    ]);
    document.body.dataset.observatory = "1";
  }
  function start() {
    fillControls();
    $("obs-level").addEventListener("change", loadIndex);
    $("obs-weights").addEventListener("change", loadIndex);
    $("obs-tele-center").addEventListener("change", loadTelemetry);
    $("obs-tele-metric").addEventListener("change", loadTelemetry);
    $("obs-alerts").addEventListener("click", alertAction);
    window.addEventListener("resize", () => {  // a phone turned, a window narrowed: charts follow (not while hidden)
      if (HH.view === "observatory") Object.values(st.charts).forEach((c) => c.resize());
    });
    HH.onLang(render);
    HH.onView((view) => {
      if (view !== "observatory") return;
      if (!st.loaded) loadAll();
      else Object.values(st.charts).forEach((c) => c.resize());
    });
  }
  start();
})();
