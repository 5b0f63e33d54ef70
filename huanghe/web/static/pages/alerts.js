/* Alerts (#alerts): the telemetry alerts with their life cycle, open → acknowledged → resolved (GET /api/v1/alerts,
   newest first, paged; filtered on the server by state, rule and the text of the subject). Acknowledge and
   resolve buttons where the policy allows them. Regulator and admin see every alert; an operator sees (and
   handles) only the alerts of its own centers: the server narrows the list. An action's refusal (e.g. 409: the
   alert was resolved meanwhile by someone else) stays shown after the reload that follows it, until the next
   action or leaving the page; so does a refused step of a risk alert. */
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
      "alerts.risk.title": "安全风险预警",
      "alerts.risk.hint": "由安全事件产生：认证失败、越权请求、数据出境拒绝、异常流量、审计链断裂",
      "alerts.risk.kind.auth_failures": "认证失败",
      "alerts.risk.kind.refused_requests": "越权请求",
      "alerts.risk.kind.residency_refusal": "重要数据出域拒绝",
      "alerts.risk.kind.data_class_lowered": "数据级别被降低",
      "alerts.risk.kind.egress_anomaly": "异常流量",
      "alerts.risk.kind.audit_chain_break": "审计链断裂",
      "alerts.risk.col.kind": "类型",
      "alerts.risk.col.events": "事件数",
      "alerts.risk.col.owner": "负责人",
      "alerts.risk.col.last": "最近事件",
      "alerts.risk.open": "处置",
      "alerts.risk.empty": "没有安全风险预警",
      "alerts.risk.detail": "风险预警 {id}",
      "alerts.risk.take": "认领",
      "alerts.risk.owner": "指派给",
      "alerts.risk.assign": "指派",
      "alerts.risk.note": "处置说明（必填）",
      "alerts.risk.resolve": "处置完毕",
      "alerts.risk.done": "风险预警 {id}：{state}",
      "alerts.risk.trace": "溯源：相关审计记录",
      "alerts.risk.note_done": "处置说明",
      "alerts.risk.t.seq": "审计序号",
      "alerts.risk.t.at": "时间",
      "alerts.risk.t.actor": "操作者",
      "alerts.risk.t.action": "操作",
      "alerts.risk.t.empty": "没有相关审计记录",
      "alerts.severity.low": "低",
      "alerts.severity.medium": "中",
      "alerts.severity.high": "高",
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
      "alerts.risk.title": "Security risk alerts",
      "alerts.risk.hint": "Raised from security events: failed log-ins, refused requests, residency refusals, unusual egress, a broken audit chain",
      "alerts.risk.kind.auth_failures": "Failed authentication",
      "alerts.risk.kind.refused_requests": "Refused requests",
      "alerts.risk.kind.residency_refusal": "Residency refusal",
      "alerts.risk.kind.data_class_lowered": "Data class lowered",
      "alerts.risk.kind.egress_anomaly": "Unusual egress",
      "alerts.risk.kind.audit_chain_break": "Audit chain broken",
      "alerts.risk.col.kind": "Kind",
      "alerts.risk.col.events": "Events",
      "alerts.risk.col.owner": "Owner",
      "alerts.risk.col.last": "Last event",
      "alerts.risk.open": "Handle",
      "alerts.risk.empty": "No security risk alert",
      "alerts.risk.detail": "Risk alert {id}",
      "alerts.risk.take": "Take it",
      "alerts.risk.owner": "Assign to",
      "alerts.risk.assign": "Assign",
      "alerts.risk.note": "What was found and done (required)",
      "alerts.risk.resolve": "Resolve",
      "alerts.risk.done": "Risk alert {id}: {state}",
      "alerts.risk.trace": "Trace: the audit records behind it",
      "alerts.risk.note_done": "Handling note",
      "alerts.risk.t.seq": "Audit seq",
      "alerts.risk.t.at": "Time",
      "alerts.risk.t.actor": "Actor",
      "alerts.risk.t.action": "Action",
      "alerts.risk.t.empty": "No audit record behind it",
      "alerts.severity.low": "low",
      "alerts.severity.medium": "medium",
      "alerts.severity.high": "high",
    },
  });

  const { t, el } = HH;
  const scrollWrap = HH.scrollWrap;
  const LIMIT = 50;
  const STATES = ["open", "acknowledged", "resolved"];
  const RULES = ["pue_jump", "utilisation_high", "latency_breach", "storage_full"];
  const ACK = "POST /api/v1/alerts/{alert_id}:ack";
  const RESOLVE = "POST /api/v1/alerts/{alert_id}:resolve";
  // error: the last read's failure (the next successful read clears it); failed: the last action's refusal (kept
  // until the next action or leaving the page: the reload after the action does not clear it)
  const st = { filters: { state: "", rule: "", subject: "" }, offset: 0, page: null, error: null, failed: null, note: "", detail: null };
  const RISK = { list: "GET /api/v1/risk/alerts", ack: "POST /api/v1/risk/alerts/{alert_id}:ack",
    assign: "POST /api/v1/risk/alerts/{alert_id}:assign", resolve: "POST /api/v1/risk/alerts/{alert_id}:resolve" };
  const risk = { state: "", page: null, error: null, failed: null, detail: null, trace: null };
  let root = null;

  // Only the latest of overlapping reads draws (a filter or pager change, an action's reload; the risk list's
  // filter, a step's reload; another alert opened): an older answer never replaces a newer one.
  const [fresh, freshDetail, freshRisk, freshRiskDetail] = [HH.latest(), HH.latest(), HH.latest(), HH.latest()];
  async function load() {
    const mine = fresh();
    let page = null;
    let error = null;
    try {
      page = await HH.api("/api/v1/alerts" + HH.query({ ...st.filters, limit: LIMIT, offset: st.offset }));
    } catch (err) {
      error = err;
    }
    if (!mine()) return;  // overtaken: the later load draws
    Object.assign(st, error ? { error } : { page, error: null });
    render();
  }
  async function act(alert, what) {
    const path = what === "ack" ? `/api/v1/alerts/${alert.id}:ack` : `/api/v1/alerts/${alert.id}:resolve`;
    st.failed = null;
    try {
      await HH.api(path, { method: "POST" });
      st.note = t(`alerts.done.${what}`, { id: alert.id });
    } catch (err) {
      st.failed = err;  // stays shown after the reloads below
      st.note = "";
    }
    await load();
    if (st.detail && st.detail.id === alert.id) await loadDetail(alert.id);
  }
  async function loadDetail(id) {
    const mine = freshDetail();
    let detail = null;
    let error = null;
    try {
      detail = await HH.api(`/api/v1/alerts/${encodeURIComponent(id)}`);
    } catch (err) {
      error = err;
    }
    if (!mine()) return;
    Object.assign(st, error ? { detail: null, error } : { detail });
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

  // ---- security risk alerts (regulator, admin) -----------------------------------------------------------------
  /** Read the risk list; true when it was the latest read (the caller draws), false when overtaken. */
  async function loadRisk() {
    if (!HH.can(RISK.list)) return true;
    const mine = freshRisk();
    let page = null;
    let error = null;
    try {
      page = await HH.api("/api/v1/risk/alerts" + HH.query({ state: risk.state, limit: LIMIT }));
    } catch (err) {
      error = err;
    }
    if (!mine()) return false;
    Object.assign(risk, error ? { error } : { page, error: null });
    return true;
  }
  async function openRisk(id) {
    const mine = freshRiskDetail();
    try {
      const [detail, trace] = await Promise.all([HH.api(`/api/v1/risk/alerts/${id}`), HH.api(`/api/v1/risk/alerts/${id}/trace`)]);
      if (!mine()) return;
      Object.assign(risk, { detail, trace, error: null });
    } catch (err) {
      if (!mine()) return;
      risk.error = err;
    }
    render();
  }
  async function riskStep(id, step, body) {
    const path = { ack: `/api/v1/risk/alerts/${id}:ack`, assign: `/api/v1/risk/alerts/${id}:assign`,
      resolve: `/api/v1/risk/alerts/${id}:resolve` }[step];
    risk.failed = null;
    try {
      const a = await HH.api(path, { method: "POST", body });
      st.note = t("alerts.risk.done", { id, state: HH.label("alerts.state", a.state) });
      const box = root && root.querySelector("#risk-detail");
      if (box) HH.keepInputs.forget(box);  // done: the reload shows the alert's owner, an empty note
    } catch (err) {
      risk.failed = err;  // stays shown after the reloads below
      st.note = "";
    }
    await loadRisk();
    await openRisk(id);
  }
  function riskDetail() {
    const a = risk.detail;
    if (!a) return null;
    const owner = el("input", { name: "owner", value: a.owner || "", autocomplete: "off" });
    const note = el("textarea", { name: "note", rows: 2, maxLength: 5000 });
    const btn = (key, step, body) => {
      const b = el("button", { type: "button", className: "small", dataset: { risk: step } }, t(key));
      b.addEventListener("click", () => riskStep(a.id, step, body && body()));
      return b;
    };
    const live = a.state !== "resolved";
    const trace = HH.table(["alerts.risk.t.seq", "alerts.risk.t.at", "alerts.risk.t.actor", "alerts.risk.t.action", "alerts.col.subject"].map((k) => t(k)),
      (risk.trace ? risk.trace.audit : []).map((r) => [String(r.seq), HH.time(r.at), { text: r.actor, className: "mono" },
        { text: r.action, className: "mono" }, { text: r.subject, className: "mono wrap" }]), t("alerts.risk.t.empty"));
    return el("div", { id: "risk-detail", className: "risk-detail", dataset: { id: a.id, state: a.state } },
      el("h3", {}, t("alerts.risk.detail", { id: a.id })),
      el("p", {}, a.message, a.note ? [el("br"), t("alerts.risk.note_done"), ": ", a.note] : null),
      live ? el("div", { className: "filters" },
        a.state === "open" && HH.can(RISK.ack) ? btn("alerts.risk.take", "ack") : null,
        HH.can(RISK.assign) ? [el("label", { className: "inline" }, el("span", {}, t("alerts.risk.owner")), owner),
          btn("alerts.risk.assign", "assign", () => ({ owner: owner.value.trim() }))] : null) : null,
      live && HH.can(RISK.resolve) ? el("div", { className: "filters" },
        el("label", { className: "field wide" }, el("span", {}, t("alerts.risk.note")), note),
        btn("alerts.risk.resolve", "resolve", () => ({ note: note.value.trim() }))) : null,
      el("h3", {}, t("alerts.risk.trace")), scrollWrap("table-wrap short", trace));
  }
  function riskSection() {
    if (!HH.can(RISK.list)) return null;
    const state = el("select", { name: "risk-state" }, new Option(t("alerts.any"), ""), STATES.map((v) => new Option(HH.label("alerts.state", v), v)));
    state.value = risk.state;
    state.addEventListener("change", async () => { risk.state = state.value; if (await loadRisk()) render(); });
    const rows = (risk.page ? risk.page.items : []).map((a) => {
      const open = el("button", { type: "button", className: "small", dataset: { riskOpen: a.id } }, t("alerts.risk.open"));
      open.addEventListener("click", () => openRisk(a.id));
      return [{ text: String(a.id), className: "num" }, HH.label("alerts.risk.kind", a.kind), { text: a.subject, className: "mono wrap" },
        HH.label("alerts.severity", a.severity), { text: HH.fmt(a.events), className: "num" },
        el("span", { className: `state alert-${a.state}`, dataset: { state: a.state } }, HH.label("alerts.state", a.state)),
        a.owner || "–", HH.time(a.last_event_s), open];
    });
    const table = HH.table(["alerts.col.id", "alerts.risk.col.kind", "alerts.col.subject", "alerts.col.severity", "alerts.risk.col.events",
      "alerts.col.state", "alerts.risk.col.owner", "alerts.risk.col.last", "alerts.col.actions"].map((k) => t(k)), rows, t("alerts.risk.empty"));
    table.id = "risk-table";
    return el("section", { className: "panel section", id: "risk-alerts" },
      el("div", { className: "section-head" }, el("h2", {}, t("alerts.risk.title")),
        el("label", { className: "inline" }, el("span", {}, t("alerts.f.state")), state),
        el("span", { className: "hint" }, t("alerts.risk.hint"))),
      risk.error ? HH.errorBox(risk.error) : null,
      risk.failed ? el("div", { id: "risk-action-error" }, HH.errorBox(risk.failed)) : null,
      scrollWrap("table-wrap short", table), riskDetail());
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
  /** Draw the page; what was typed and not sent (a search not run yet, a risk alert's owner or note) stays
      across the reloads of an ack, a pager click or a risk step (HH.keepInputs; another risk alert: its own). */
  function render() {
    if (root) HH.keepInputs(root, draw);
  }
  function draw() {
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
      st.failed ? el("div", { id: "alerts-action-error" }, HH.errorBox(st.failed)) : null,
      scrollWrap("table-wrap", table),
      st.page ? HH.pager(st.page, (o) => { st.offset = o; load(); }) : null), detail(), riskSection());
  }

  HH.registerPage({
    name: "alerts",
    nav: "alerts.nav",
    needs: ["GET /api/v1/alerts"],
    calls: ["GET /api/v1/alerts", "GET /api/v1/alerts/{alert_id}", ACK, RESOLVE, "GET /api/v1/risk/alerts",
      "GET /api/v1/risk/alerts/{alert_id}", "GET /api/v1/risk/alerts/{alert_id}/trace", "POST /api/v1/risk/alerts/{alert_id}:ack",
      "POST /api/v1/risk/alerts/{alert_id}:assign", "POST /api/v1/risk/alerts/{alert_id}:resolve"],
    async show(params, elRoot) {
      root = elRoot;
      st.note = "";
      st.failed = null;
      risk.failed = null;
      st.detail = null;
      risk.detail = null;
      render();
      await loadRisk();
      await load();
      if (params[0]) await loadDetail(params[0]);
    },
  });
  HH.onLang(() => { if (HH.view === "alerts") render(); });
})();
