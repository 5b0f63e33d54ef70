/* Huanghe console: reads GET /api/v1/topology and shows summary cards, the map of Shandong and the centers table.
   Language: ?lang=en|zh-CN, else localStorage "huanghe.lang", else zh-CN. */
(function () {
  "use strict";

  const { t, fmt, named, escapeHtml } = window.HH;
  const KINDS = ["general", "intelligent", "supercomputing"];
  const TIERS = ["national", "provincial", "industry", "edge"];
  const KIND_COLORS = { general: "#2f6fde", intelligent: "#e07b1a", supercomputing: "#8b3fd1" };
  const TIER_SIZES = { national: 26, provincial: 19, industry: 14, edge: 10 };
  const CIRCLE_TINTS = ["#e3edf8", "#e2f2ee", "#f6efe0", "#efe7f5", "#f3e6e6"];
  const COLUMNS = [
    { key: "id", label: "col.id" },
    { key: "name", label: "col.name" },
    { key: "city", label: "col.city" },
    { key: "circle", label: "col.circle" },
    { key: "tier", label: "col.tier", order: (r) => TIERS.indexOf(r.tier) },
    { key: "kind", label: "col.kind", order: (r) => KINDS.indexOf(r.kind) },
    { key: "operator", label: "col.operator" },
    { key: "pools", label: "col.pools", num: true },
    { key: "gpus", label: "col.gpus", num: true },
    { key: "pue", label: "col.pue", num: true },
    { key: "backends", label: "col.backend" },
    { key: "health", label: "col.health", order: (r) => (r.health ? (r.health.healthy ? 0 : 1) : 2) },
  ];
  const HEALTH = "GET /api/v1/health/centers";  // the back-end pings of each center, when the role may read them
  HH.registerCalls("network", [HEALTH]);

  HH.registerCalls("common", ["GET /api/v1/topology"]);  // read once, shared by every view (HH.topology)
  const state = { topo: null, rows: [], sortKey: "id", sortDir: 1, chart: null, geo: null, mapProblem: null, error: null, health: new Map() };
  const $ = (id) => document.getElementById(id);

  // ---- language: see common.js (HH.t, HH.setLang) ------------------------------------------------------------
  const stripShi = (name) => name.replace(/市$/, "");

  // ---- data -----------------------------------------------------------------------------------------------
  function buildRows(topo) {
    const cities = new Map(topo.cities.map((c) => [c.id, c]));
    const regions = new Map(topo.regions.map((r) => [r.id, r]));
    return topo.centers.map((c) => {
      const city = cities.get(c.city);
      const region = city ? regions.get(city.region) : null;
      return {
        center: c,
        id: c.id,
        name: named(c),
        city: named(city) || c.city,
        circleId: region ? region.id : "",
        circle: named(region),
        tier: c.tier,
        kind: c.kind,
        operator: c.operator,
        pools: c.pools.length,
        gpus: c.pools.reduce((s, p) => s + p.nodes * p.gpus_per_node, 0),
        pue: c.energy.pue,
        backends: [...new Set(c.pools.map((p) => p.backend))].sort().join(", "),
        illustrative: c.illustrative || c.pools.some((p) => p.illustrative),
        health: state.health.get(c.id) || null,
      };
    });
  }

  // ---- cards and badges -----------------------------------------------------------------------------------
  function renderCards() {
    const topo = state.topo;
    const rows = state.rows;
    const pools = topo.centers.flatMap((c) => c.pools);
    $("network-name").textContent = topo.description || topo.name;
    $("card-centers").textContent = fmt(rows.length);
    $("card-centers-sub").textContent = t("card.centers.sub", { n: topo.regions.length });
    $("card-pools").textContent = fmt(pools.length);
    $("card-pools-sub").textContent = t("card.pools.sub", { n: fmt(pools.reduce((s, p) => s + p.nodes, 0)) });
    $("card-gpus").textContent = fmt(rows.reduce((s, r) => s + r.gpus, 0));
    $("card-gpus-sub").textContent = t("card.gpus.sub", { n: fmt(pools.reduce((s, p) => s + p.nodes * p.cpus_per_node, 0)) });
    $("card-cities").textContent = fmt(topo.cities.length);
    $("card-cities-sub").textContent = t("card.cities.sub", { n: new Set(topo.centers.map((c) => c.city)).size });
    $("network-note").textContent = topo.note || "–";
    const illustrative = rows.some((r) => r.illustrative);
    document.querySelectorAll(".badge.illustrative").forEach((el) => { el.hidden = !illustrative; });
    renderBackends(pools);
  }
  // which back-end runs each pool (Pool.backend): `make run` runs the CPU pools of the bundled network
  // locally (sandboxed) and the accelerator pools on `simulated`, which is said in words: never a real GPU run
  function renderBackends(pools) {
    const counts = new Map();
    pools.forEach((p) => counts.set(p.backend, (counts.get(p.backend) || 0) + 1));
    const note = $("backend-note");
    note.classList.toggle("all-local", counts.size === 1 && counts.has("local"));
    let text = note.classList.contains("all-local")
      ? t("backend.all_local", { n: fmt(pools.length) })
      : t("backend.mixed", { list: [...counts].sort().map(([b, n]) => `${b} ${fmt(n)}`).join(" · ") });
    if (counts.has("simulated")) text += " " + t("backend.simulated", { n: fmt(counts.get("simulated")) });
    note.textContent = text;
    note.hidden = !pools.length;
  }

  // ---- table ----------------------------------------------------------------------------------------------
  function fillSelect(select, allKey, options) {
    const keep = select.value;
    select.replaceChildren(new Option(t(allKey), ""), ...options.map(([value, label]) => new Option(label, value)));
    select.value = options.some(([v]) => v === keep) ? keep : "";
  }
  function renderFilters() {
    fillSelect($("filter-circle"), "table.all_circles", state.topo.regions.map((r) => [r.id, named(r)]));
    fillSelect($("filter-tier"), "table.all_tiers", TIERS.map((x) => [x, t("tier." + x)]));
    fillSelect($("filter-kind"), "table.all_kinds", KINDS.map((x) => [x, t("kind." + x)]));
  }
  function visibleRows() {
    const q = $("search").value.trim().toLowerCase();
    const circle = $("filter-circle").value, tier = $("filter-tier").value, kind = $("filter-kind").value;
    const col = COLUMNS.find((c) => c.key === state.sortKey);
    const value = col.order || ((r) => r[col.key]);
    return state.rows
      .filter((r) => (!circle || r.circleId === circle) && (!tier || r.tier === tier) && (!kind || r.kind === kind))
      .filter((r) => !q || [r.id, r.center.name_zh, r.center.name_en, r.city, r.circle, r.operator]
        .some((s) => String(s).toLowerCase().includes(q)))
      .sort((a, b) => {
        const [x, y] = [value(a), value(b)];
        const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y), HH.lang);
        return c * state.sortDir || a.id.localeCompare(b.id);
      });
  }
  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }
  function healthCell(h) {
    const key = !h ? "health.unknown" : h.healthy ? "health.ok" : "health.down";
    const td = cell("", "health " + key.replace(".", "-"));
    td.append(HH.el("span", { className: "dot" }), t(key));
    if (h) td.title = t("health.tip", { message: h.message || "–", time: HH.time(h.checked_s) });
    return td;
  }
  async function loadHealth() {
    await HH.ready;
    if (!HH.can(HEALTH)) return;
    try {
      const page = await HH.api("/api/v1/health/centers");
      state.health = new Map(page.items.map((h) => [h.center, h]));
    } catch (err) {
      return;  // the table without the column's values: the pings are a nicety here
    }
    if (state.topo) { state.rows = buildRows(state.topo); renderTable(); }
  }
  function renderTable() {
    const head = $("centers-head");
    head.replaceChildren(...COLUMNS.map((col) => {
      const th = document.createElement("th");
      th.textContent = t(col.label);
      th.title = t("sort.hint");
      th.dataset.key = col.key;
      th.tabIndex = 0;
      if (col.num) th.className = "num";
      if (col.key === state.sortKey) th.setAttribute("aria-sort", state.sortDir > 0 ? "ascending" : "descending");
      return th;
    }));
    const rows = visibleRows();
    const mixed = new Set(state.rows.map((r) => r.illustrative)).size > 1;  // else the section badge says it all
    const body = $("centers-body");
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.id = r.id;
      const name = cell(r.name, "wrap");
      if (r.illustrative && mixed) {
        const tag = document.createElement("span");
        tag.className = "tag illustrative";
        tag.textContent = t("badge.illustrative");
        name.append(" ", tag);
      }
      const kind = cell("");
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.style.background = KIND_COLORS[r.kind];
      kind.append(dot, t("kind." + r.kind));
      tr.append(cell(r.id, "mono"), name, cell(r.city), cell(r.circle), cell(t("tier." + r.tier), "tier-" + r.tier),
        kind, cell(r.operator, "wrap"), cell(fmt(r.pools), "num"), cell(fmt(r.gpus), "num"), cell(fmt(r.pue, 2), "num"),
        cell(r.backends, "mono"), healthCell(r.health));
      return tr;
    }));
    if (!rows.length) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = cell(t("table.empty"));
      td.colSpan = COLUMNS.length;
      tr.append(td);
      body.append(tr);
    }
    $("table-count").textContent = t("table.count", { shown: rows.length, total: state.rows.length });
  }

  // ---- map ------------------------------------------------------------------------------------------------
  function mapNotice(key) {
    $("map-notice").textContent = t(key);
    $("map-notice").hidden = false;
    $("map-chart").hidden = true;
  }
  async function loadGeo() {
    if (window.HUANGHE_NO_ECHARTS || typeof window.echarts === "undefined") return "map.missing";
    try {
      const resp = await fetch("/static/vendor/shandong.geo.json");
      if (!resp.ok) return "map.geo_missing";
      state.geo = await resp.json();
      echarts.registerMap("shandong", state.geo);
      return null;
    } catch (err) {
      return "map.geo_missing";
    }
  }
  function centerTooltip(d) {
    const r = d.row;
    const lines = [
      `<b>${escapeHtml(r.name)}</b>`,
      `${t("tip.city")}: ${escapeHtml(r.city)} · ${escapeHtml(r.circle)}`,
      `${t("tip.operator")}: ${escapeHtml(r.operator)}`,
      `${t("tip.tier")}: ${t("tier." + r.tier)} · ${t("tip.kind")}: ${t("kind." + r.kind)}`,
      `${t("tip.pools")}: ${fmt(r.pools)} · ${t("tip.gpus")}: ${fmt(r.gpus)}`,
      `${t("tip.pue")}: ${fmt(r.pue, 2)}`,
    ];
    if (r.illustrative) lines.push(`<span class="tip-badge">${t("badge.illustrative")}</span>`);
    return lines.join("<br>");
  }
  function linkTooltip(d) {
    const l = d.link;
    const latency = l.latency_ms == null ? t("tip.latency.estimated") : `${fmt(l.latency_ms, 2)} ms`;
    return `<b>${escapeHtml(d.names.join(" ⇄ "))}</b><br>${t("tip.bandwidth")}: ${fmt(l.bandwidth_gbps)} Gbps<br>` +
      `${t("tip.latency")}: ${latency}`;
  }
  function cityLookup() {  // map feature name (e.g. 济南市) -> topology city
    const byName = new Map(state.topo.cities.map((c) => [stripShi(c.name_zh), c]));
    return (featureName) => byName.get(stripShi(featureName));
  }
  function mapOption() {
    const topo = state.topo;
    const rowsById = new Map(state.rows.map((r) => [r.id, r]));
    const cityOf = cityLookup();
    const regionIndex = new Map(topo.regions.map((r, i) => [r.id, i]));
    const nameMap = {};
    const regions = state.geo.features.map((f) => {  // region names are the names after nameMap
      const city = cityOf(f.properties.name);
      if (!city) return { name: f.properties.name, itemStyle: { areaColor: "#f1f3f5" } };
      nameMap[f.properties.name] = named(city);
      return { name: named(city), itemStyle: { areaColor: CIRCLE_TINTS[regionIndex.get(city.region) % CIRCLE_TINTS.length] } };
    });
    const links = topo.links.filter((l) => rowsById.has(l.a) && rowsById.has(l.b)).map((l) => {
      const [a, b] = [rowsById.get(l.a).center, rowsById.get(l.b).center];
      return { coords: [[a.lon, a.lat], [b.lon, b.lat]], link: l, names: [named(a), named(b)],
        lineStyle: { width: 0.6 + 0.34 * Math.log2(Math.max(l.bandwidth_gbps, 40) / 40) } };
    });
    const scatter = KINDS.map((kind) => ({
      id: "centers-" + kind,
      name: t("kind." + kind),
      type: "scatter",
      coordinateSystem: "geo",
      data: state.rows.filter((r) => r.kind === kind).map((r) => ({
        name: r.name, value: [r.center.lon, r.center.lat], row: r, symbolSize: TIER_SIZES[r.tier] })),
      itemStyle: { color: KIND_COLORS[kind], borderColor: "#fff", borderWidth: 1.5, shadowBlur: 4, shadowColor: "rgba(0,0,0,.25)" },
      emphasis: { scale: 1.3 },
      tooltip: { formatter: (p) => centerTooltip(p.data) },
    }));
    return {
      animation: false,
      tooltip: { trigger: "item", confine: true, className: "map-tip" },
      geo: {
        map: "shandong", roam: true, nameMap, regions, left: 16, right: 16, top: 16, bottom: 16, selectedMode: false,
        label: { show: true, color: "#4a5a6b", fontSize: 11, textBorderColor: "#fff", textBorderWidth: 2,
          formatter: (p) => stripShi(p.name) },
        itemStyle: { borderColor: "#8aa2bb", borderWidth: 0.8 },
        emphasis: { label: { color: "#123" }, itemStyle: { areaColor: "#cfe0f3" } },
      },
      series: [
        { id: "links", name: t("legend.link"), type: "lines", coordinateSystem: "geo", data: links,
          lineStyle: { color: "#3f6fa8", opacity: 0.4, curveness: 0.12 },
          emphasis: { lineStyle: { opacity: 1 } }, tooltip: { formatter: (p) => linkTooltip(p.data) } },
        ...scatter,
      ],
    };
  }
  function renderLegend() {
    const slot = (html) => `<span class="slot">${html}</span>`;
    const parts = [`<div class="legend-title">${t("legend.tier")}</div>`];
    for (const tier of TIERS) {
      const s = TIER_SIZES[tier];
      parts.push(`<div class="legend-row">${slot(`<span class="sym" style="width:${s}px;height:${s}px"></span>`)}${t("tier." + tier)}</div>`);
    }
    parts.push(`<div class="legend-title">${t("legend.kind")}</div>`);
    for (const kind of KINDS) {
      parts.push(`<div class="legend-row">${slot(`<span class="sym" style="background:${KIND_COLORS[kind]}"></span>`)}${t("kind." + kind)}</div>`);
    }
    parts.push(`<div class="legend-title">${t("col.circle")}</div>`);
    state.topo.regions.forEach((r, i) => {
      parts.push(`<div class="legend-row">${slot(`<span class="area" style="background:${CIRCLE_TINTS[i % CIRCLE_TINTS.length]}"></span>`)}${escapeHtml(named(r))}</div>`);
    });
    parts.push(`<div class="legend-row">${slot('<span class="line"></span>')}${t("legend.link")}</div>`);
    $("legend").innerHTML = parts.join("");
  }
  function renderMap() {
    renderLegend();
    if (!state.geo) return;
    if (!state.chart) {
      state.chart = echarts.init($("map-chart"), null, { renderer: "canvas" });
      window.addEventListener("resize", () => {  // skip transient zero sizes (the geo layout fails on them)
        const el = $("map-chart");
        if (el.clientWidth > 0 && el.clientHeight > 0) state.chart.resize();
      });
    }
    state.chart.setOption(mapOption(), true);
  }
  function focusCenter(id) {
    if (!state.chart) return;
    const row = state.rows.find((r) => r.id === id);
    const seriesIndex = 1 + KINDS.indexOf(row.kind);
    const dataIndex = state.rows.filter((r) => r.kind === row.kind).indexOf(row);
    state.chart.dispatchAction({ type: "showTip", seriesIndex, dataIndex });
  }

  // ---- wiring ---------------------------------------------------------------------------------------------
  function render() {
    if (state.mapProblem) mapNotice(state.mapProblem);
    if (state.error) showError(state.error);
    if (!state.topo) return;
    state.rows = buildRows(state.topo);
    renderCards();
    renderFilters();
    renderTable();
    renderMap();
  }
  async function readTopology(resp) {  // the API's errors are {"detail": [{"path", "message"}]}
    if (resp.ok) return resp.json();
    const body = await resp.json().catch(() => null);
    const detail = body && Array.isArray(body.detail) && body.detail[0] ? ": " + body.detail[0].message : "";
    throw new Error(`HTTP ${resp.status}${detail}`);
  }
  function showError(detail) {
    $("error").textContent = t("error.api", { detail });
    $("error").hidden = false;
  }
  async function main() {
    HH.applyStaticText();
    $("lang-switch").addEventListener("click", () => HH.setLang(HH.lang === "en" ? "zh-CN" : "en"));
    HH.onLang(render);
    HH.onView((view) => {  // the map was drawn while hidden (zero size) or the window changed meanwhile
      const el = $("map-chart");
      if (view === "network" && state.chart && el.clientWidth > 0) state.chart.resize();
    });
    HH.startRouting();
    $("search").addEventListener("input", renderTable);
    ["filter-circle", "filter-tier", "filter-kind"].forEach((id) => $(id).addEventListener("change", renderTable));
    const sortBy = (ev) => {
      const key = ev.target.closest("th") && ev.target.closest("th").dataset.key;
      if (!key || (ev.type === "keydown" && ev.key !== "Enter" && ev.key !== " ")) return;
      ev.preventDefault();
      state.sortDir = key === state.sortKey ? -state.sortDir : 1;
      state.sortKey = key;
      renderTable();
      $("centers-head").querySelector(`th[data-key="${key}"]`).focus();
    };
    $("centers-head").addEventListener("click", sortBy);
    $("centers-head").addEventListener("keydown", sortBy);
    $("centers-body").addEventListener("click", (ev) => {
      const tr = ev.target.closest("tr[data-id]");
      if (tr) focusCenter(tr.dataset.id);
    });
    const [geoProblem, topo] = await Promise.all([
      loadGeo(),
      fetch("/api/v1/topology").then(readTopology).catch((e) => e),
    ]);
    state.mapProblem = geoProblem;
    if (topo instanceof Error) {
      state.error = topo.message;
      HH.setTopology(null);
      render();
      document.body.dataset.ready = "error";
      return;
    }
    state.topo = topo;
    HH.setTopology(topo);
    render();
    loadHealth();
    document.body.dataset.ready = "1";
  }
  main();
})();
