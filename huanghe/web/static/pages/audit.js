/* Audit (#audit): the audit trail (GET /api/v1/audit, newest first, paged) searched by actor, action, subject and
   time range on the server; verify the hash chain (GET /audit/verify: OK with the number of records checked, or
   the first broken record and why); export the whole chain as CSV or JSON (GET /audit/export, via HH.download).
   Regulator and admin (the policy). */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "audit.nav": "审计",
      "audit.title": "审计日志",
      "audit.hint": "所有变更操作都记入哈希链，任何篡改、删除或重排都会被验证发现",
      "audit.verify": "验证哈希链",
      "audit.verifying": "正在验证…",
      "audit.verify.ok": "哈希链完整：已校验 {n} 条记录",
      "audit.verify.bad": "哈希链在第 {seq} 条记录处断开：{reason}（此前已校验 {n} 条）",
      "audit.verify.bad_end": "哈希链不完整：{reason}（已校验 {n} 条）",
      "audit.export": "导出",
      "audit.export.format": "导出格式",
      "audit.export.done": "已导出 {file}",
      "audit.search.title": "检索",
      "audit.f.actor": "操作者包含",
      "audit.f.action": "操作（精确）",
      "audit.f.subject": "对象包含",
      "audit.f.since": "起始时间",
      "audit.f.until": "截止时间",
      "audit.search": "检索",
      "audit.reset": "清除条件",
      "audit.col.seq": "序号",
      "audit.col.at": "时间",
      "audit.col.actor": "操作者",
      "audit.col.action": "操作",
      "audit.col.subject": "对象",
      "audit.col.payload": "内容",
      "audit.col.hash": "哈希（前 12 位）",
      "audit.empty": "没有符合条件的记录",
      "audit.bad_time": "时间格式无效",
    },
    en: {
      "audit.nav": "Audit",
      "audit.title": "Audit trail",
      "audit.hint": "Every change is recorded in a hash chain; any edit, deletion or reordering is found by the check",
      "audit.verify": "Verify the chain",
      "audit.verifying": "Verifying…",
      "audit.verify.ok": "The chain is intact: {n} records checked",
      "audit.verify.bad": "The chain breaks at record {seq}: {reason} ({n} records checked before it)",
      "audit.verify.bad_end": "The chain is incomplete: {reason} ({n} records checked)",
      "audit.export": "Export",
      "audit.export.format": "Export format",
      "audit.export.done": "Exported {file}",
      "audit.search.title": "Search",
      "audit.f.actor": "Actor contains",
      "audit.f.action": "Action (exact)",
      "audit.f.subject": "Subject contains",
      "audit.f.since": "From",
      "audit.f.until": "Until",
      "audit.search": "Search",
      "audit.reset": "Clear",
      "audit.col.seq": "Seq",
      "audit.col.at": "Time",
      "audit.col.actor": "Actor",
      "audit.col.action": "Action",
      "audit.col.subject": "Subject",
      "audit.col.payload": "Payload",
      "audit.col.hash": "Hash (first 12)",
      "audit.empty": "No record matches",
      "audit.bad_time": "invalid time",
    },
  });

  const { t, el } = HH;
  const scrollWrap = HH.scrollWrap;
  const LIMIT = 50;
  const FIELDS = ["actor", "action", "subject", "since", "until"];
  const st = { filters: {}, offset: 0, page: null, error: null, verify: null, verifying: false, note: "", format: "csv" };
  let root = null;

  /** A datetime-local value (the browser's local time) as ISO 8601 UTC, "" when empty. */
  function isoOf(value) {
    if (!value) return "";
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) throw new Error(t("audit.bad_time"));
    return d.toISOString();
  }
  const fresh = HH.latest();
  /** Read the records of the search; only the latest of overlapping searches (a search, a reset, a pager click
      while an earlier one still waits) stores and draws its answer. */
  async function load() {
    const mine = fresh();
    let page = null;
    let error = null;
    try {
      const q = { actor: st.filters.actor, action: st.filters.action, subject: st.filters.subject,
        since: isoOf(st.filters.since), until: isoOf(st.filters.until), order: "desc", limit: LIMIT, offset: st.offset };
      page = await HH.api("/api/v1/audit" + HH.query(q));
    } catch (err) {
      error = err;
    }
    if (!mine()) return;  // overtaken: the later search draws
    Object.assign(st, error ? { error } : { page, error: null });
    render();
  }
  async function verify() {
    st.verifying = true;
    render();
    try {
      st.verify = await HH.api("/api/v1/audit/verify");
      st.error = null;
    } catch (err) {
      st.error = err;
    }
    st.verifying = false;
    render();
  }
  async function exportChain() {
    const file = `huanghe-audit.${st.format}`;
    try {
      await HH.download("/api/v1/audit/export" + HH.query({ format: st.format }), file);
      st.note = t("audit.export.done", { file });
      st.error = null;
    } catch (err) {
      st.error = err;
    }
    render();
  }

  function verifyLine() {
    const v = st.verify;
    if (st.verifying) return el("p", { className: "hint-line", id: "audit-verify-result" }, t("audit.verifying"));
    if (!v) return el("p", { id: "audit-verify-result", hidden: true });
    if (v.ok) {
      return el("p", { className: "ok-line", id: "audit-verify-result", dataset: { state: "ok" } }, "✓ ", t("audit.verify.ok", { n: HH.fmt(v.checked) }));
    }
    const text = v.first_bad != null
      ? t("audit.verify.bad", { seq: v.first_bad, reason: v.reason, n: HH.fmt(v.checked) })
      : t("audit.verify.bad_end", { reason: v.reason, n: HH.fmt(v.checked) });
    return el("div", { className: "alert", id: "audit-verify-result", role: "alert", dataset: { state: "broken", firstBad: v.first_bad } }, text);
  }
  function toolbar() {
    const verifyBtn = el("button", { type: "button", className: "primary", id: "audit-verify", disabled: st.verifying }, t("audit.verify"));
    verifyBtn.addEventListener("click", verify);
    const format = el("select", { id: "audit-export-format" }, ["csv", "json"].map((f) => new Option(f.toUpperCase(), f)));
    format.value = st.format;
    format.addEventListener("change", () => { st.format = format.value; });
    const exportBtn = el("button", { type: "button", className: "small", id: "audit-export" }, t("audit.export"));
    exportBtn.addEventListener("click", exportChain);
    return el("div", { className: "audit-tools" }, verifyBtn,
      el("label", { className: "inline" }, el("span", {}, t("audit.export.format")), format), exportBtn,
      el("span", { className: "form-status", id: "audit-note", role: "status" }, st.note));
  }
  function searchForm() {
    const input = (name) => {
      const type = name === "since" || name === "until" ? "datetime-local" : "text";
      return el("label", { className: "field" }, el("span", {}, t(`audit.f.${name}`)),
        el("input", { name, type, value: st.filters[name] || "", autocomplete: "off" }));
    };
    const form = el("form", { className: "audit-search", id: "audit-search" }, FIELDS.map(input),
      el("div", { className: "form-actions" },
        el("button", { type: "submit", className: "primary" }, t("audit.search")),
        el("button", { type: "reset", className: "small" }, t("audit.reset"))));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      st.filters = Object.fromEntries(FIELDS.map((f) => [f, form.elements[f].value.trim()]));
      HH.keepInputs.forget(form);  // searched: the fields show the search run
      st.offset = 0;
      load();
    });
    form.addEventListener("reset", (ev) => {
      ev.preventDefault();
      st.filters = {};
      HH.keepInputs.forget(form);  // reset: every field empty again
      st.offset = 0;
      load();
    });
    return form;
  }
  function payloadText(p) {
    if (p == null) return "";
    const text = typeof p === "string" ? p : JSON.stringify(p);
    return text.length > 160 ? text.slice(0, 157) + "…" : text;
  }
  /** Draw the page; a search typed and not run yet stays across a pager click's reload (HH.keepInputs). */
  function render() {
    if (root) HH.keepInputs(root, draw);
  }
  function draw() {
    const labels = ["audit.col.seq", "audit.col.at", "audit.col.actor", "audit.col.action", "audit.col.subject",
      "audit.col.payload", "audit.col.hash"].map((k) => t(k));
    const rows = (st.page ? st.page.items : []).map((r) => [
      { text: String(r.seq), className: "num" }, HH.time(r.at), { text: r.actor, className: "mono" },
      { text: r.action, className: "mono" }, { text: r.subject, className: "mono wrap" },
      { text: payloadText(r.payload), className: "mono wrap" }, { text: r.hash.slice(0, 12), className: "mono" },
    ]);
    const table = HH.table(labels, rows, t("audit.empty"));
    table.id = "audit-table";
    root.replaceChildren(
      el("section", { className: "panel section" },
        el("div", { className: "section-head" }, el("h2", {}, t("audit.title")), el("span", { className: "hint" }, t("audit.hint"))),
        toolbar(), verifyLine(),
        st.error ? HH.errorBox(st.error) : null,
        el("h3", {}, t("audit.search.title")), searchForm(),
        scrollWrap("table-wrap short", table),
        st.page ? HH.pager(st.page, (offset) => { st.offset = offset; load(); }) : null));
  }

  HH.registerPage({
    name: "audit",
    nav: "audit.nav",
    needs: ["GET /api/v1/audit"],
    calls: ["GET /api/v1/audit", "GET /api/v1/audit/verify", "GET /api/v1/audit/export"],
    show(params, elRoot) {
      root = elRoot;
      st.note = "";
      render();
      return load();
    },
  });
  HH.onLang(() => { if (HH.view === "audit") render(); });
})();
