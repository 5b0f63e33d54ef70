/* pages/pools.js — #pools[/center]: an operator's centers and their pools (issue #17, item 4).
   Capacity, state (draining or not), price, health, back-end; drain and resume a pool (operators: their own
   centers' pools, admins: any; the API refuses the rest); load over time (utilisation telemetry, ECharts);
   the jobs placed on the center's pools. Admins and the regulator pick any center (the regulator reads only:
   no drain buttons). */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "pools.nav": "资源池",
      "pools.title": "我的中心与资源池",
      "pools.intro": "各资源池的容量、状态、价格、健康与后端；排空后不再接收新作业，已在运行的作业继续运行。",
      "pools.center": "数据中心",
      "pools.no_centers": "此账号未绑定任何数据中心。",
      "pools.operator": "运营方",
      "pools.health": "健康",
      "pools.healthy": "正常",
      "pools.unhealthy": "异常",
      "pools.unknown": "未检测",
      "pools.checked": "检测于 {time}，延迟 {ms} 毫秒",
      "pools.card.pools": "资源池",
      "pools.card.nodes": "节点",
      "pools.card.cpus": "CPU 核",
      "pools.card.gpus": "GPU 卡",
      "pools.card.draining": "排空中 {n} 个",
      "pools.card.mem": "内存 {tb} TB",
      "pools.list": "资源池",
      "pools.empty": "此中心没有资源池。",
      "pools.col.pool": "资源池",
      "pools.col.accelerator": "加速器",
      "pools.col.nodes": "节点",
      "pools.col.cpus": "CPU 核",
      "pools.col.gpus": "GPU 卡",
      "pools.col.mem": "内存 GB/节点",
      "pools.col.price": "价格/节点·时",
      "pools.col.backend": "后端",
      "pools.col.state": "状态",
      "pools.col.action": "操作",
      "pools.cpu_only": "仅 CPU",
      "pools.open": "接收作业",
      "pools.draining": "排空中",
      "pools.draining_since": "{by} 于 {time} 排空：{reason}",
      "pools.drain": "排空",
      "pools.resume": "恢复",
      "pools.drain_label": "排空 {pool}",
      "pools.resume_label": "恢复 {pool}",
      "pools.reason": "排空原因",
      "pools.reason_placeholder": "例如：计划维护",
      "pools.done_drain": "已排空 {pool}：不再接收新作业。",
      "pools.done_resume": "已恢复 {pool}：重新接收作业。",
      "pools.simulated": "模拟",
      "pools.backend_ok": "可用",
      "pools.backend_unknown": "未注册",
      "pools.load": "负载趋势（近 {h} 小时利用率）",
      "pools.load_note": "{n} 个数据点",
      "pools.load_empty": "该时段暂无利用率数据。",
      "pools.load_chart": "利用率随时间变化图",
      "pools.whole_center": "整个中心",
      "pools.no_charts": "图表库未加载，仅显示数据点数。",
      "pools.jobs": "我的资源池上的作业",
      "pools.jobs_empty": "暂无作业放置在此中心。",
      "pools.job.id": "作业",
      "pools.job.name": "名称",
      "pools.job.tenant": "租户",
      "pools.job.pool": "资源池",
      "pools.job.state": "状态",
      "pools.job.submitted": "提交时间",
      "pools.edit": "修改资源池",
      "pools.edit_pool": "资源池",
      "pools.edit_nodes": "节点数",
      "pools.edit_price": "价格 (元/节点·时)",
      "pools.edit_save": "保存",
      "pools.done_edit": "已保存 {pool}：{nodes} 个节点，{price}/节点·时。",
    },
    en: {
      "pools.nav": "Pools",
      "pools.title": "My centers and pools",
      "pools.intro": "Capacity, state, price, health and back-end of each pool; a drained pool takes no new jobs, jobs already running go on.",
      "pools.center": "Center",
      "pools.no_centers": "This account is bound to no center.",
      "pools.operator": "Operator",
      "pools.health": "Health",
      "pools.healthy": "Healthy",
      "pools.unhealthy": "Unhealthy",
      "pools.unknown": "Not checked",
      "pools.checked": "checked {time}, latency {ms} ms",
      "pools.card.pools": "Pools",
      "pools.card.nodes": "Nodes",
      "pools.card.cpus": "CPU cores",
      "pools.card.gpus": "GPUs",
      "pools.card.draining": "{n} draining",
      "pools.card.mem": "memory {tb} TB",
      "pools.list": "Pools",
      "pools.empty": "This center has no pool.",
      "pools.col.pool": "Pool",
      "pools.col.accelerator": "Accelerator",
      "pools.col.nodes": "Nodes",
      "pools.col.cpus": "CPU cores",
      "pools.col.gpus": "GPUs",
      "pools.col.mem": "GB/node",
      "pools.col.price": "Price/node-hour",
      "pools.col.backend": "Back-end",
      "pools.col.state": "State",
      "pools.col.action": "Action",
      "pools.cpu_only": "CPU only",
      "pools.open": "Open",
      "pools.draining": "Draining",
      "pools.draining_since": "drained by {by} at {time}: {reason}",
      "pools.drain": "Drain",
      "pools.resume": "Resume",
      "pools.drain_label": "Drain {pool}",
      "pools.resume_label": "Resume {pool}",
      "pools.reason": "Reason for draining",
      "pools.reason_placeholder": "e.g. planned maintenance",
      "pools.done_drain": "{pool} drained: it takes no new jobs.",
      "pools.done_resume": "{pool} resumed: it takes jobs again.",
      "pools.simulated": "simulated",
      "pools.backend_ok": "available",
      "pools.backend_unknown": "not registered",
      "pools.load": "Load over time (utilisation, last {h} hours)",
      "pools.load_note": "{n} data points",
      "pools.load_empty": "No utilisation data in this period.",
      "pools.load_chart": "Utilisation over time chart",
      "pools.whole_center": "Whole center",
      "pools.no_charts": "The chart library is not loaded; only the number of points is shown.",
      "pools.jobs": "Jobs on my pools",
      "pools.jobs_empty": "No job is placed in this center.",
      "pools.job.id": "Job",
      "pools.job.name": "Name",
      "pools.job.tenant": "Tenant",
      "pools.job.pool": "Pool",
      "pools.job.state": "State",
      "pools.job.submitted": "Submitted",
      "pools.edit": "Change a pool",
      "pools.edit_pool": "Pool",
      "pools.edit_nodes": "Nodes",
      "pools.edit_price": "Price (CNY/node-hour)",
      "pools.edit_save": "Save",
      "pools.done_edit": "{pool} saved: {nodes} nodes, {price} per node-hour.",
    },
  });

  const DRAIN = "POST /api/v1/pools/{item_id}:drain";
  const RESUME = "POST /api/v1/pools/{item_id}:resume";
  const PATCH = "PATCH /api/v1/pools/{item_id}";
  const LOAD_WINDOW_H = 6;
  const t = HH.t;
  const el = HH.el;
  const st = { centers: null, center: null, jobsOffset: 0, chart: null, message: null, refill: null };

  /** The centers this caller may pick: an operator's own, everyone's for admins and the regulator. */
  function myCenters() {
    const all = st.centers || [];
    const me = HH.whoami;
    if (me && me.role === "operator") return all.filter((c) => (me.centers || []).includes(c.id));
    return all;
  }
  /** Whether the caller may drain `pool` (the API decides; this only hides buttons it would refuse). */
  function mayDrain(pool) {
    const me = HH.whoami;
    if (!me || !HH.can(DRAIN) || !HH.can(RESUME)) return false;
    return me.role !== "operator" || (me.centers || []).includes(pool.center);
  }
  function mayEdit(pool) {
    const me = HH.whoami;
    return Boolean(me) && HH.can(PATCH) && (me.role !== "operator" || (me.centers || []).includes(pool.center));
  }

  function section(titleText, ...body) {
    return el("section", { className: "section panel" }, el("div", { className: "section-head" }, el("h3", {}, titleText)), ...body);
  }
  /** A horizontally scrolling box around a table, reachable by keyboard (axe: scrollable-region-focusable). */
  function wrap(table, label, extra) {
    const box = el("div", { className: "table-wrap" + (extra ? " " + extra : ""), tabIndex: 0 }, table);
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", label);
    return box;
  }
  function card(label, value, sub) {
    return el("div", { className: "card" }, el("div", { className: "card-label" }, label),
      el("div", { className: "card-value" }, value), el("div", { className: "card-sub" }, sub || ""));
  }

  // Only the latest of overlapping reads draws (another center picked, a drain's, resume's or edit's reload; a
  // pager click of the jobs): an older answer never replaces a newer one.
  const [fresh, freshJobs] = [HH.latest(), HH.latest()];
  async function loadCenter(root, centerId) {
    const mine = fresh();
    const [pools, drains, health, backends] = await Promise.all([
      HH.api(`/api/v1/pools${HH.query({ center: centerId, limit: 1000 })}`),
      HH.api(`/api/v1/pool-drains${HH.query({ center: centerId })}`),
      HH.api("/api/v1/health/centers").catch(() => ({ items: [] })),
      HH.api("/api/v1/backends").catch(() => ({ items: [] })),
    ]);
    if (!mine()) return;  // overtaken: the later read draws
    const center = myCenters().find((c) => c.id === centerId);
    const drained = new Map(drains.map((d) => [d.pool, d]));
    const h = (health.items || []).find((x) => x.center === centerId);
    const byBackend = new Map((backends.items || []).map((b) => [b.name, b]));
    // a drain's, resume's or edit's reload keeps what was typed and not sent (HH.keepInputs; another center: a new
    // root, nothing carried); then the edit form's untouched fields show the kept pool's values ('hh-inputs-kept')
    st.refill = null;
    HH.keepInputs(root, () => root.replaceChildren(...[
      summary(center, pools.items, drained, h),
      poolTable(pools.items, drained, byBackend, root, centerId),
      editSection(pools.items.filter(mayEdit), root, centerId),
      loadSection(centerId),
      jobsSection(centerId),
    ].filter(Boolean)));
    loadTelemetry(centerId);
    loadJobs(centerId);
  }

  function summary(center, pools, drained, health) {
    const sum = (f) => pools.reduce((a, p) => a + f(p), 0);
    const healthText = !health ? t("pools.unknown") : health.healthy ? t("pools.healthy") : t("pools.unhealthy");
    const healthSub = health ? t("pools.checked", { time: HH.time(health.checked_s), ms: HH.fmt(health.latency_ms, 1) }) : "";
    const cards = el("div", { className: "cards five" },
      card(t("pools.health"), healthText, health && !health.healthy ? health.message : healthSub),
      card(t("pools.card.pools"), HH.fmt(pools.length), t("pools.card.draining", { n: HH.fmt(drained.size) })),
      card(t("pools.card.nodes"), HH.fmt(sum((p) => p.nodes)), t("pools.card.mem", { tb: HH.fmt(sum((p) => p.nodes * p.mem_gb_per_node) / 1024, 1) })),
      card(t("pools.card.cpus"), HH.fmt(sum((p) => p.nodes * p.cpus_per_node))),
      card(t("pools.card.gpus"), HH.fmt(sum((p) => p.nodes * p.gpus_per_node))));
    cards.dataset.health = !health ? "unknown" : health.healthy ? "healthy" : "unhealthy";
    const head = el("p", { className: "hint-line" }, center ? `${t("pools.operator")}: ${center.operator}` : "");
    return el("section", { className: "section" }, head, cards);
  }

  function backendCell(pool, byBackend) {
    const b = byBackend.get(pool.backend);
    const status = !b ? t("pools.backend_unknown") : b.simulated ? t("pools.simulated") : t("pools.backend_ok");
    return [el("span", { className: "mono" }, pool.backend), " ", el("span", { className: "tag" }, status)];
  }

  function poolTable(pools, drained, byBackend, root, centerId) {
    const reason = el("input", { type: "text", id: "pools-reason", maxLength: 500, placeholder: t("pools.reason_placeholder") });
    reason.setAttribute("aria-label", t("pools.reason"));
    const msg = el("div", { id: "pools-message", role: "status" }, st.message ? el("p", { className: "ok-line" }, st.message) : null);
    st.message = null;
    const anyAction = pools.some(mayDrain);
    const rows = pools.map((p) => {
      const d = drained.get(p.id);
      const state = d
        ? [el("span", { className: "badge" }, t("pools.draining")), el("div", { className: "hint-line drain-note" },
          t("pools.draining_since", { by: d.by, time: HH.time(d.since_s), reason: d.reason || "–" }))]
        : el("span", {}, t("pools.open"));
      const cells = [
        { text: [el("b", {}, p.name || p.id), el("div", { className: "code" }, p.id),
          el("div", { className: "hint-line" }, `${t("pools.col.accelerator")}: ${p.accelerator || t("pools.cpu_only")}`)], className: "pool-name" },
        { text: HH.fmt(p.nodes), className: "num" },
        { text: HH.fmt(p.nodes * p.cpus_per_node), className: "num" },
        { text: HH.fmt(p.nodes * p.gpus_per_node), className: "num" },
        { text: HH.fmt(p.mem_gb_per_node), className: "num" },
        { text: HH.money(p.price_cny_per_hour), className: "num" },
        backendCell(p, byBackend),
        state,
      ];
      if (anyAction) {
        let button = "";
        if (mayDrain(p)) {
          const draining = Boolean(d);
          button = el("button", { type: "button", className: "small", dataset: { pool: p.id, action: draining ? "resume" : "drain" } },
            t(draining ? "pools.resume" : "pools.drain"));
          button.setAttribute("aria-label", t(draining ? "pools.resume_label" : "pools.drain_label", { pool: p.id }));
          button.addEventListener("click", () => act(p.id, draining ? "resume" : "drain", reason.value, root, centerId, msg));
        }
        cells.push(button);
      }
      return cells;
    });
    const labels = [t("pools.col.pool"), { text: t("pools.col.nodes"), num: true },
      { text: t("pools.col.cpus"), num: true }, { text: t("pools.col.gpus"), num: true },
      { text: t("pools.col.mem"), num: true }, { text: t("pools.col.price"), num: true }, t("pools.col.backend"), t("pools.col.state")];
    if (anyAction) labels.push(t("pools.col.action"));
    const table = HH.table(labels, rows, t("pools.empty"));
    table.id = "pools-table";
    const body = [msg];
    if (anyAction) body.push(el("p", {}, el("label", { className: "inline", htmlFor: "pools-reason" }, t("pools.reason")), " ", reason));
    body.push(wrap(table, t("pools.list")));
    return section(t("pools.list"), ...body);
  }

  async function act(poolId, action, reason, root, centerId, msg) {
    try {
      const id = encodeURIComponent(poolId);
      if (action === "drain") await HH.api(`/api/v1/pools/${id}:drain`, { method: "POST", body: { reason } });
      else await HH.api(`/api/v1/pools/${id}:resume`, { method: "POST" });
      st.message = t(action === "drain" ? "pools.done_drain" : "pools.done_resume", { pool: poolId });
      const used = root.querySelector("#pools-reason");
      if (used) HH.keepInputs.forget(used);  // the reason went with the drain
      await loadCenter(root, centerId);
    } catch (err) {
      HH.showError(msg, err);
    }
  }

  // ---- change a pool (nodes, price) -------------------------------------------------------------------------
  function editSection(pools, root, centerId) {
    if (!pools.length) return null;
    const field = (id, labelKey, input) => [el("label", { className: "inline", htmlFor: id }, t(labelKey)), input];
    const select = el("select", { id: "pools-edit-pool" }, pools.map((p) => el("option", { value: p.id }, p.id)));
    const nodes = el("input", { type: "number", id: "pools-edit-nodes", min: 0, step: 1 });
    const price = el("input", { type: "number", id: "pools-edit-price", min: 0, step: 0.01 });
    /** The chosen pool's values: into every field (another pool picked: typed values dropped), or (all false,
        after a redraw) into the fields the user did not change (HH.keepInputs marks them). */
    const fill = (all) => {
      const p = pools.find((x) => x.id === select.value);
      for (const [input, v] of [[nodes, p.nodes], [price, p.price_cny_per_hour]]) {
        if (all) HH.keepInputs.forget(input);
        if (all || input.dataset.hhTouched !== "1") input.value = String(v);
      }
    };
    select.addEventListener("change", () => fill(true));
    fill(true);
    st.refill = () => fill(false);
    const status = el("div", { id: "pools-edit-status", role: "status" });
    const form = el("form", { className: "section-head", id: "pools-edit" },
      field("pools-edit-pool", "pools.edit_pool", select), field("pools-edit-nodes", "pools.edit_nodes", nodes),
      field("pools-edit-price", "pools.edit_price", price),
      el("button", { type: "submit", className: "primary" }, t("pools.edit_save")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const id = encodeURIComponent(select.value);
      try {
        await HH.api(`/api/v1/pools/${id}`, { method: "PATCH", body: { nodes: Number(nodes.value), price_cny_per_hour: Number(price.value) } });
        const saved = await HH.api(`/api/v1/pools/${id}`);
        st.message = t("pools.done_edit", { pool: saved.id, nodes: HH.fmt(saved.nodes), price: HH.money(saved.price_cny_per_hour) });
        HH.keepInputs.forget(form);  // saved: the reload shows the pool's values
        await loadCenter(root, centerId);
      } catch (err) {
        HH.showError(status, err);
      }
    });
    return section(t("pools.edit"), status, form);
  }

  // ---- load over time ---------------------------------------------------------------------------------------
  function loadSection() {
    const chart = el("div", { id: "pools-load-chart", className: "chart", role: "img" });
    chart.setAttribute("aria-label", t("pools.load_chart"));
    return section(t("pools.load", { h: LOAD_WINDOW_H }),
      el("p", { id: "pools-load-note", className: "hint-line" }), el("div", { id: "pools-load-error" }), chart);
  }
  async function loadTelemetry(centerId) {
    const note = document.getElementById("pools-load-note");
    const slot = document.getElementById("pools-load-chart");
    const from = new Date(Date.now() - LOAD_WINDOW_H * 3600 * 1000).toISOString();
    let d;
    try {
      d = await HH.api(`/api/v1/telemetry${HH.query({ metric: "utilisation", center: centerId, step: "5m", from, limit: 2000 })}`);
    } catch (err) {
      HH.showError(document.getElementById("pools-load-error"), err);
      return;
    }
    if (!note || !note.isConnected) return;
    slot.dataset.points = String(d.points.length);
    note.textContent = d.points.length ? t("pools.load_note", { n: HH.fmt(d.points.length) }) : t("pools.load_empty");
    if (d.simulated) note.append(" ", el("span", { className: "badge simulated" }, t("pools.simulated")));
    if (window.HUANGHE_NO_ECHARTS || typeof window.echarts === "undefined") {
      slot.replaceChildren(el("div", { className: "notice" }, t("pools.no_charts")));
      return;
    }
    const bySubject = new Map();
    for (const p of d.points) {
      const v = p.mean != null ? p.mean : p.value;
      if (!bySubject.has(p.subject)) bySubject.set(p.subject, []);
      bySubject.get(p.subject).push([p.time, v * 100]);
    }
    if (st.chart) st.chart.dispose();
    st.chart = echarts.init(slot, null, { renderer: "canvas" });
    st.chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 50, right: 16, top: 34, bottom: 30 },
      xAxis: { type: "time" },
      yAxis: { type: "value", min: 0, max: 100, name: "%" },
      series: [...bySubject.keys()].sort().slice(0, 8).map((s) => ({
        name: s || t("pools.whole_center"), type: "line", showSymbol: false, data: bySubject.get(s),
      })),
    }, true);
  }

  // ---- jobs on my pools -------------------------------------------------------------------------------------
  function jobsSection() {
    return section(t("pools.jobs"), el("div", { id: "pools-jobs-error" }), el("div", { id: "pools-jobs" }));
  }
  async function loadJobs(centerId) {
    const slot = document.getElementById("pools-jobs");
    const mine = freshJobs();
    let page;
    try {
      page = await HH.api(`/api/v1/centers/${encodeURIComponent(centerId)}/jobs${HH.query({ limit: 20, offset: st.jobsOffset })}`);
    } catch (err) {
      if (mine()) HH.showError(document.getElementById("pools-jobs-error"), err);
      return;
    }
    if (!mine() || !slot || !slot.isConnected) return;
    const rows = page.items.map((j) => [
      el("span", { className: "mono" }, j.id), j.name, j.tenant || "–", el("span", { className: "mono" }, j.pool || "–"),
      HH.label("state", j.state), HH.time(j.submit_s),
    ]);
    const table = HH.table([t("pools.job.id"), t("pools.job.name"), t("pools.job.tenant"), t("pools.job.pool"),
      t("pools.job.state"), t("pools.job.submitted")], rows, t("pools.jobs_empty"));
    table.id = "pools-jobs-table";
    slot.replaceChildren(wrap(table, t("pools.jobs"), "short"),
      HH.pager(page, (offset) => { st.jobsOffset = offset; loadJobs(centerId); }));
  }

  // ---- the page ---------------------------------------------------------------------------------------------
  async function show(params, root) {
    const latest = fresh();  // a later show (another center picked) overtakes one still waiting for the centers
    await HH.ready;
    if (!st.centers) st.centers = (await HH.api("/api/v1/centers?limit=1000")).items;
    if (!latest()) return;
    const centers = myCenters();
    const select = el("select", { id: "pools-center" },
      centers.map((c) => el("option", { value: c.id }, `${HH.named(c)} (${c.id})`)));
    const label = el("label", { className: "inline", htmlFor: "pools-center" }, t("pools.center"));
    const body = el("div", { id: "pools-body" });
    root.replaceChildren(
      el("section", { className: "section" },
        el("div", { className: "section-head" }, el("h2", {}, t("pools.title")), label, select),
        el("p", { className: "hint-line" }, t("pools.intro"))),
      body);
    if (!centers.length) {
      body.replaceChildren(el("p", { className: "notice" }, t("pools.no_centers")));
      return;
    }
    const wanted = params[0] && centers.some((c) => c.id === params[0]) ? params[0] : centers[0].id;
    select.value = wanted;
    select.addEventListener("change", () => { location.hash = `#pools/${encodeURIComponent(select.value)}`; });
    st.center = wanted;
    st.jobsOffset = 0;
    await loadCenter(body, wanted);
  }

  const page = HH.registerPage({
    name: "pools",
    nav: "pools.nav",
    needs: ["GET /api/v1/centers/{center_id}/jobs"],
    calls: [
      "GET /api/v1/centers",
      "GET /api/v1/pools",
      "GET /api/v1/pool-drains",
      "GET /api/v1/health/centers",
      "GET /api/v1/backends",
      DRAIN,
      RESUME,
      PATCH,
      "GET /api/v1/pools/{item_id}",
      "GET /api/v1/telemetry",
      "GET /api/v1/centers/{center_id}/jobs",
    ],
    show,
    relang: true,  // a language switch draws it anew (what was typed stays: common.js)
  });
  // once what was typed is back (a reload's or a language switch's redraw: HH.keepInputs), the edit form's
  // untouched fields show the kept pool's values (no change event on restore)
  page.el.addEventListener("hh-inputs-kept", () => { if (st.refill) st.refill(); });

  // Work-around (framework race, reported): the menu is drawn when HH.ready resolves, which can happen before
  // this script registered the page; then add this page's entry as renderNav would (the next language switch
  // redraws the whole menu in order).
  HH.ready.then(() => {
    const nav = document.querySelector(".nav");
    if (!nav || nav.querySelector('a[data-nav="pools"]') || !page.needs.every((c) => HH.can(c))) return;
    const link = HH.el("a", { href: "#pools", dataset: { nav: "pools", i18n: page.nav } }, HH.t(page.nav));
    nav.insertBefore(link, nav.querySelector('a[href="/docs"]'));
    if (HH.view === "pools") { link.classList.add("active"); link.setAttribute("aria-current", "page"); }
  });
})();
