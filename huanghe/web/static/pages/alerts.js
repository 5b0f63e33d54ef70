/* Alerts (#alerts): the telemetry alerts with their life cycle, open → acknowledged → resolved (GET /api/v1/alerts,
   newest first, paged; filtered on the server by state, rule and the text of the subject). Acknowledge and
   resolve buttons where the policy allows them. Regulator and admin see every alert; an operator sees (and
   handles) only the alerts of its own centers: the server narrows the list. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "alerts.nav": "告警",
      "alerts.title": "告警",
      "alerts.hint": "未处理 → 已确认 → 已解决；条件消失后系统自动解决",
      "alerts.scope.operator": "仅显示您所运营算力中心的告警",
      "alerts.f.state": "状态",
      "alerts.f.rule": "规则",
      "alerts.f.subject": "对象包含",
      "alerts.any": "全部",
      "alerts.search": "筛选",
      "alerts.col.id": "编号",
      "alerts.col.rule": "规则",
      "alerts.col.subject": "对象",
      "alerts.col.severity": "级别",
      "alerts.col.value": "数值 / 阈值",
      "alerts.col.state": "状态",
      "alerts.col.opened": "发生时间",
      "alerts.col.updated": "更新时间",
      "alerts.col.actions": "处理",
      "alerts.state.open": "未处理",
      "alerts.state.acknowledged": "已确认",
      "alerts.state.resolved": "已解决",
      "alerts.severity.warning": "警告",
      "alerts.severity.critical": "严重",
      "alerts.by.auto": "（自动）",
      "alerts.ack": "确认",
      "alerts.resolve": "解决",
      "alerts.done.ack": "告警 {id} 已确认",
      "alerts.done.resolve": "告警 {id} 已解决",
      "alerts.empty": "没有符合条件的告警",
      "alerts.detail": "告警 {id}",
      "alerts.d.message": "说明",
      "alerts.d.acknowledged": "确认时间",
      "alerts.d.resolved": "解决时间",
      "alerts.d.center": "算力中心",
      "alerts.close": "关闭详情",
    },
    en: {
      "alerts.nav": "Alerts",
      "alerts.title": "Alerts",
      "alerts.hint": "open → acknowledged → resolved; the system resolves an alert once its condition is gone",
      "alerts.scope.operator": "Only the alerts of the centers you operate",
      "alerts.f.state": "State",
      "alerts.f.rule": "Rule",
      "alerts.f.subject": "Subject contains",
      "alerts.any": "Any",
      "alerts.search": "Filter",
      "alerts.col.id": "ID",
      "alerts.col.rule": "Rule",
      "alerts.col.subject": "Subject",
      "alerts.col.severity": "Severity",
      "alerts.col.value": "Value / threshold",
      "alerts.col.state": "State",
      "alerts.col.opened": "Opened",
      "alerts.col.updated": "Updated",
      "alerts.col.actions": "Handle",
      "alerts.state.open": "open",
      "alerts.state.acknowledged": "acknowledged",
      "alerts.state.resolved": "resolved",
      "alerts.severity.warning": "warning",
      "alerts.severity.critical": "critical",
      "alerts.by.auto": "(automatic)",
      "alerts.ack": "Acknowledge",
      "alerts.resolve": "Resolve",
      "alerts.done.ack": "Alert {id} acknowledged",
      "alerts.done.resolve": "Alert {id} resolved",
      "alerts.empty": "No alert matches",
      "alerts.detail": "Alert {id}",
      "alerts.d.message": "Message",
      "alerts.d.acknowledged": "Acknowledged",
      "alerts.d.resolved": "Resolved",
      "alerts.d.center": "Center",
      "alerts.close": "Close",
    },
  });

  const { t, el } = HH;
  /** A table's scrolling box: focusable, so that it scrolls from the keyboard too (axe: scrollable-region-focusable). */
  const scrollWrap = (cls, table) => {
    const box = el("div", { className: cls, tabIndex: 0 }, table);
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", table.querySelector("th") ? [...table.querySelectorAll("th")].slice(0, 2).map((th) => th.textContent).join(" · ") : cls);
    return box;
  };
  const LIMIT = 50;
  const STATES = ["open", "acknowledged", "resolved"];
  const RULES = ["pue_jump", "utilisation_high", "latency_breach", "storage_full"];
  const ACK = "POST /api/v1/alerts/{alert_id}:ack";
  const RESOLVE = "POST /api/v1/alerts/{alert_id}:resolve";
  const st = { filters: { state: "", rule: "", subject: "" }, offset: 0, page: null, error: null, note: "", detail: null };
  let root = null;

  async function load() {
    try {
      st.page = await HH.api("/api/v1/alerts" + HH.query({ ...st.filters, limit: LIMIT, offset: st.offset }));
      st.error = null;
    } catch (err) {
      st.error = err;
    }
    render();
  }
  async function act(alert, what) {
    const path = what === "ack" ? `/api/v1/alerts/${alert.id}:ack` : `/api/v1/alerts/${alert.id}:resolve`;
    try {
      await HH.api(path, { method: "POST" });
      st.note = t(`alerts.done.${what}`, { id: alert.id });
      st.error = null;
    } catch (err) {
      st.error = err;
      st.note = "";
    }
    await load();
    if (st.detail && st.detail.id === alert.id) await loadDetail(alert.id);
  }
  async function loadDetail(id) {
    try {
      st.detail = await HH.api(`/api/v1/alerts/${encodeURIComponent(id)}`);
    } catch (err) {
      st.detail = null;
      st.error = err;
    }
    render();
  }
  function detail() {
    const a = st.detail;
    if (!a) return null;
    const kv = [["alerts.col.rule", HH.label("alert.rule", a.rule)], ["alerts.col.subject", a.subject], ["alerts.d.center", a.center || "–"],
      ["alerts.d.message", a.message], ["alerts.col.state", HH.label("alerts.state", a.state)], ["alerts.col.opened", HH.time(a.opened_at)],
      ["alerts.d.acknowledged", HH.time(a.acknowledged_at)], ["alerts.d.resolved", HH.time(a.resolved_at)]];
    return el("section", { className: "panel section", id: "alerts-detail", dataset: { id: a.id, state: a.state } },
      el("div", { className: "section-head" }, el("h3", {}, t("alerts.detail", { id: a.id })), buttons(a),
        el("a", { href: "#alerts", className: "button-link" }, t("alerts.close"))),
      el("dl", { className: "kv" }, kv.map(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v)])));
  }

  function filters() {
    const select = (name, values, prefix) => {
      const s = el("select", { name }, new Option(t("alerts.any"), ""), values.map((v) => new Option(HH.label(prefix, v), v)));
      s.value = st.filters[name];
      return el("label", { className: "inline" }, el("span", {}, t(`alerts.f.${name}`)), s);
    };
    const form = el("form", { className: "filters", id: "alerts-filters" },
      select("state", STATES, "alerts.state"), select("rule", RULES, "alert.rule"),
      el("label", { className: "inline" }, el("span", {}, t("alerts.f.subject")),
        el("input", { name: "subject", value: st.filters.subject, autocomplete: "off" })),
      el("button", { type: "submit", className: "small" }, t("alerts.search")));
    const apply = () => {
      st.filters = { state: form.elements.state.value, rule: form.elements.rule.value, subject: form.elements.subject.value.trim() };
      st.offset = 0;
      load();
    };
    form.addEventListener("submit", (ev) => { ev.preventDefault(); apply(); });
    form.querySelectorAll("select").forEach((s) => s.addEventListener("change", apply));
    return form;
  }
  function buttons(a) {
    const out = [];
    if (a.state === "open" && HH.can(ACK)) {
      const b = el("button", { type: "button", className: "small", dataset: { act: "ack", id: a.id } }, t("alerts.ack"));
      b.addEventListener("click", () => act(a, "ack"));
      out.push(b);
    }
    if (a.state !== "resolved" && HH.can(RESOLVE)) {
      const b = el("button", { type: "button", className: "small", dataset: { act: "resolve", id: a.id } }, t("alerts.resolve"));
      b.addEventListener("click", () => act(a, "resolve"));
      out.push(b);
    }
    return el("span", { className: "actions" }, out.length ? out : "–");
  }
  function render() {
    if (!root) return;
    const labels = ["alerts.col.id", "alerts.col.rule", "alerts.col.subject", "alerts.col.severity", "alerts.col.value",
      "alerts.col.state", "alerts.col.opened", "alerts.col.updated", "alerts.col.actions"].map((k) => t(k));
    const rows = (st.page ? st.page.items : []).map((a) => [
      el("a", { href: `#alerts/${a.id}` }, String(a.id)), [HH.label("alert.rule", a.rule), el("div", { className: "code" }, a.message)],
      { text: a.subject, className: "mono" }, HH.label("alerts.severity", a.severity),
      { text: `${HH.sig(a.value, 3)} / ${HH.sig(a.threshold, 3)}`, className: "num" },
      [el("span", { className: `state alert-${a.state}`, dataset: { state: a.state } }, HH.label("alerts.state", a.state)),
        a.resolved_by === "auto" ? " " + t("alerts.by.auto") : ""],
      HH.time(a.opened_at), HH.time(a.updated_at), buttons(a),
    ]);
    const table = HH.table(labels, rows, t("alerts.empty"));
    table.id = "alerts-table";
    const body = table.tBodies[0];
    (st.page ? st.page.items : []).forEach((a, i) => { if (body.rows[i]) body.rows[i].dataset.id = a.id; });
    const operator = HH.whoami && HH.whoami.role === "operator";
    root.replaceChildren(el("section", { className: "panel section" },
      el("div", { className: "section-head" }, el("h2", {}, t("alerts.title")), el("span", { className: "hint" }, t("alerts.hint"))),
      operator ? el("p", { className: "hint-line" }, t("alerts.scope.operator")) : null,
      filters(),
      el("p", { className: "ok-line", role: "status", id: "alerts-note" }, st.note),
      st.error ? HH.errorBox(st.error) : null,
      scrollWrap("table-wrap", table),
      st.page ? HH.pager(st.page, (o) => { st.offset = o; load(); }) : null), detail());
  }

  HH.registerPage({
    name: "alerts",
    nav: "alerts.nav",
    needs: ["GET /api/v1/alerts"],
    calls: ["GET /api/v1/alerts", "GET /api/v1/alerts/{alert_id}", ACK, RESOLVE],
    async show(params, elRoot) {
      root = elRoot;
      st.note = "";
      st.detail = null;
      render();
      await load();
      if (params[0]) await loadDetail(params[0]);
    },
  });
  HH.onLang(() => { if (HH.view === "alerts") render(); });
})();
