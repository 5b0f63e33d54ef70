/* Invoices (#invoices, #invoices/<id>): the caller's tenant's monthly bills (platform admin and regulator: every
   tenant, with a tenant filter), a month filter, each bill's lines per pool and its download as PDF or CSV
   (GET /invoices/{id}/export, in the page's language). The platform admin also meters finished jobs and bills a
   tenant's month. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "invoices.nav": "账单",
      "invoices.title": "账单",
      "invoices.list.title": "账单列表",
      "invoices.hint": "每月账单：算力券先抵扣，其余自付；可下载 PDF 和 CSV",
      "invoices.f.tenant": "按租户筛选",
      "invoices.f.month": "账期（年-月）",
      "invoices.all_tenants": "全部租户",
      "invoices.col.id": "编号",
      "invoices.col.tenant": "租户",
      "invoices.col.month": "账期",
      "invoices.col.total": "合计",
      "invoices.col.voucher": "算力券抵扣",
      "invoices.col.cash": "自付",
      "invoices.col.jobs": "作业数",
      "invoices.col.download": "下载",
      "invoices.col.operator": "运营方",
      "invoices.col.center": "算力中心",
      "invoices.col.pool": "资源池",
      "invoices.col.amount": "金额",
      "invoices.open": "查看",
      "invoices.pdf": "PDF",
      "invoices.csv": "CSV",
      "invoices.download_pdf": "下载账单 {id} 的 PDF",
      "invoices.download_csv": "下载账单 {id} 的 CSV",
      "invoices.empty": "没有账单",
      "invoices.detail.title": "账单 {id}：{tenant} {month}",
      "invoices.detail.lines": "按资源池汇总",
      "invoices.detail.close": "关闭详情",
      "invoices.admin.title": "出账（平台管理员）",
      "invoices.admin.meter": "计量已结束的作业",
      "invoices.admin.metered": "新计量 {n} 个作业",
      "invoices.admin.tenant": "租户",
      "invoices.admin.month": "账期 YYYY-MM",
      "invoices.admin.create": "生成账单",
      "invoices.admin.created": "已生成账单 {id}",
      "invoices.ledger.title": "复式记账核对",
      "invoices.ledger.balanced": "借贷平衡",
      "invoices.ledger.unbalanced": "借贷不平衡",
      "invoices.ledger.totals": "借方合计 {debit}，贷方合计 {credit}；{accounts} 个账户，{bad} 笔不平衡的记账",
    },
    en: {
      "invoices.nav": "Invoices",
      "invoices.title": "Invoices",
      "invoices.list.title": "All invoices",
      "invoices.hint": "Monthly bills: vouchers pay first, own money the rest; download as PDF or CSV",
      "invoices.f.tenant": "Filter by tenant",
      "invoices.f.month": "Month (year-month)",
      "invoices.all_tenants": "All tenants",
      "invoices.col.id": "ID",
      "invoices.col.tenant": "Tenant",
      "invoices.col.month": "Month",
      "invoices.col.total": "Total",
      "invoices.col.voucher": "Paid by vouchers",
      "invoices.col.cash": "Own money",
      "invoices.col.jobs": "Jobs",
      "invoices.col.download": "Download",
      "invoices.col.operator": "Operator",
      "invoices.col.center": "Center",
      "invoices.col.pool": "Pool",
      "invoices.col.amount": "Amount",
      "invoices.open": "Open",
      "invoices.pdf": "PDF",
      "invoices.csv": "CSV",
      "invoices.download_pdf": "Download invoice {id} as PDF",
      "invoices.download_csv": "Download invoice {id} as CSV",
      "invoices.empty": "No invoices",
      "invoices.detail.title": "Invoice {id}: {tenant} {month}",
      "invoices.detail.lines": "Per pool",
      "invoices.detail.close": "Close the detail",
      "invoices.admin.title": "Billing (platform admin)",
      "invoices.admin.meter": "Meter finished jobs",
      "invoices.admin.metered": "{n} jobs newly metered",
      "invoices.admin.tenant": "Tenant",
      "invoices.admin.month": "Month YYYY-MM",
      "invoices.admin.create": "Bill the month",
      "invoices.admin.created": "Invoice {id} created",
      "invoices.ledger.title": "Double-entry ledger check",
      "invoices.ledger.balanced": "Balanced",
      "invoices.ledger.unbalanced": "Not balanced",
      "invoices.ledger.totals": "Debits {debit}, credits {credit}; {accounts} accounts, {bad} unbalanced postings",
    },
  });

  const { t, el } = HH;
  const LIST = "GET /api/v1/invoices";
  const GET = "GET /api/v1/invoices/{invoice_id}";
  const EXPORT = "GET /api/v1/invoices/{invoice_id}/export";
  const CREATE = "POST /api/v1/invoices";
  const METER = "POST /api/v1/billing/meter";
  const TENANTS = "GET /api/v1/tenants";
  const LEDGER = "GET /api/v1/ledger/balances";
  const LIMIT = 50;
  const st = { offset: 0, tenant: "", month: "", page: null, error: null, tenants: [], detail: null, detailError: null, note: "", ledger: null };
  let root = null;

  const lang = () => (HH.lang === "en" ? "en" : "zh");
  function failure(err) {
    if (err instanceof HH.ApiError && !err.authNeeded) {
      const text = err.detail.map((d) => (d.path ? `${String(d.path).replace(/^body\./, "")}: ${d.message}` : d.message)).join("; ");
      return el("div", { className: "alert" }, t("error.request", { detail: text }));
    }
    return HH.errorBox(err);
  }
  const fresh = HH.latest();
  /** Read the list (and the invoice `id`), then draw: only the latest of overlapping loads (a filter or pager
      change, a new invoice opened) stores its answers, so an older answer never replaces a newer one. */
  async function load(id) {
    const mine = fresh();
    const got = { tenants: st.tenants, page: st.page, ledger: st.ledger };
    let error = null;
    try {
      if (HH.can(TENANTS) && !got.tenants.length) got.tenants = (await HH.api("/api/v1/tenants?limit=1000")).items;
      got.page = await HH.api("/api/v1/invoices" + HH.query({ tenant: st.tenant, month: st.month, limit: LIMIT, offset: st.offset }));
      if (HH.can(LEDGER)) got.ledger = await HH.api("/api/v1/ledger/balances");
    } catch (err) {
      error = err;
    }
    const one = { detail: null, detailError: null };
    if (id) {
      try {
        one.detail = await HH.api(`/api/v1/invoices/${encodeURIComponent(id)}`);
      } catch (err) {
        one.detailError = err;
      }
    }
    if (!mine()) return;  // overtaken: the later load draws
    Object.assign(st, error ? { error } : { ...got, error: null }, one);  // a failed list keeps what was shown
    render();
  }
  async function download(inv, fmt, status) {
    try {
      await HH.download(`/api/v1/invoices/${inv.id}/export${HH.query({ format: fmt, lang: lang() })}`, `invoice-${inv.id}-${inv.month}.${fmt}`);
      status.replaceChildren();
    } catch (err) {
      status.replaceChildren(HH.errorBox(err));
    }
  }
  function downloads(inv, status) {
    return el("span", { className: "actions" }, ["pdf", "csv"].map((fmt) => {
      const b = el("button", { type: "button", className: "small", dataset: { fmt, id: inv.id },
        ariaLabel: t(`invoices.download_${fmt}`, { id: inv.id }) }, t(`invoices.${fmt}`));
      b.addEventListener("click", () => download(inv, fmt, status));
      return b;
    }));
  }

  function adminSection() {
    if (!HH.can(CREATE) && !HH.can(METER)) return null;
    const note = el("span", { className: "form-status", id: "invoices-admin-status", role: "status" });
    const errors = el("div", { className: "wide" });
    const meter = el("button", { type: "button", className: "small", id: "invoices-meter" }, t("invoices.admin.meter"));
    meter.addEventListener("click", async () => {
      try {
        const r = await HH.api("/api/v1/billing/meter", { method: "POST" });
        note.textContent = t("invoices.admin.metered", { n: HH.fmt(r.metered) });
      } catch (err) {
        errors.replaceChildren(failure(err));
      }
    });
    const tenant = el("select", { name: "tenant" }, st.tenants.map((x) => new Option(`${x.name} (${x.id})`, x.id)));
    const month = el("input", { name: "month", type: "text", placeholder: "2026-01", pattern: "\\d{4}-\\d{2}", maxLength: 7 });
    const form = el("form", { className: "adm-form", id: "invoices-create", noValidate: true },
      el("label", { className: "field" }, el("span", {}, t("invoices.admin.tenant")), tenant),
      el("label", { className: "field" }, el("span", {}, t("invoices.admin.month")), month),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("invoices.admin.create")), meter, note),
      errors);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      errors.replaceChildren();
      try {
        const inv = await HH.api("/api/v1/invoices", { method: "POST", body: { tenant: tenant.value, month: month.value.trim() } });
        st.note = t("invoices.admin.created", { id: inv.id });
        HH.keepInputs.forget(form);  // created: the next draw shows the form afresh
        location.hash = `#invoices/${inv.id}`;
      } catch (err) {
        errors.replaceChildren(failure(err));
      }
    });
    return el("section", { className: "panel section" }, el("h3", {}, t("invoices.admin.title")), form);
  }

  function detailSection() {
    if (st.detailError) return failure(st.detailError);
    const inv = st.detail;
    if (!inv) return null;
    const status = el("div");
    const lines = HH.table(
      [t("invoices.col.operator"), t("invoices.col.center"), t("invoices.col.pool"), { text: t("invoices.col.amount"), num: true }],
      inv.lines.map((ln) => [ln.operator, ln.center, { text: ln.pool, className: "mono" }, { text: HH.money(Number(ln.amount_cny)), className: "num" }]),
    );
    const close = el("a", { href: "#invoices", className: "button-link" }, t("invoices.detail.close"));
    return el("section", { className: "panel section", id: "invoice-detail" },
      el("div", { className: "section-head" },
        el("h3", {}, t("invoices.detail.title", { id: inv.id, tenant: inv.tenant, month: inv.month })), downloads(inv, status), close),
      el("dl", { className: "kv" },
        el("dt", {}, t("invoices.col.total")), el("dd", { className: "inv-total" }, HH.money(Number(inv.total_cny))),
        el("dt", {}, t("invoices.col.voucher")), el("dd", {}, HH.money(Number(inv.voucher_cny))),
        el("dt", {}, t("invoices.col.cash")), el("dd", {}, HH.money(Number(inv.cash_cny))),
        el("dt", {}, t("invoices.col.jobs")), el("dd", {}, HH.fmt(inv.jobs))),
      status,
      el("h3", {}, t("invoices.detail.lines")), el("div", { className: "table-wrap" }, lines));
  }

  /** The double-entry ledger's check (platform admin, regulator): debits equal credits, every posting balances. */
  function ledgerSection() {
    const l = st.ledger;
    if (!l) return null;
    const cny = (fen) => HH.money(fen / 100);
    return el("section", { className: "panel section", id: "invoices-ledger" },
      el("div", { className: "section-head" }, el("h3", {}, t("invoices.ledger.title")),
        el("span", { className: `met ${l.balanced ? "yes" : "no"}` }, t(l.balanced ? "invoices.ledger.balanced" : "invoices.ledger.unbalanced"))),
      el("p", { className: "hint-line" }, t("invoices.ledger.totals", {
        debit: cny(l.total_debit_fen), credit: cny(l.total_credit_fen), accounts: HH.fmt(l.accounts.length),
        bad: HH.fmt(l.unbalanced_postings.length) })));
  }

  function filters() {
    const out = [];
    if (HH.can(TENANTS)) {
      const sel = el("select", { id: "invoices-tenant-filter", dataset: { keep: "off" } }, new Option(t("invoices.all_tenants"), ""),
        st.tenants.map((x) => new Option(`${x.name} (${x.id})`, x.id)));
      sel.value = st.tenant;
      sel.addEventListener("change", () => { st.tenant = sel.value; st.offset = 0; load(); });
      out.push(el("label", { className: "inline" }, el("span", {}, t("invoices.f.tenant")), sel));
    }
    const month = el("input", { id: "invoices-month-filter", type: "month", value: st.month, dataset: { keep: "off" } });
    month.addEventListener("change", () => { st.month = month.value; st.offset = 0; load(); });
    out.push(el("label", { className: "inline" }, el("span", {}, t("invoices.f.month")), month));
    return out;
  }
  function listSection() {
    const items = st.page ? st.page.items : [];
    const status = el("div", { id: "invoices-download-error" });
    const cols = [t("invoices.col.id"), t("invoices.col.tenant"), t("invoices.col.month"), { text: t("invoices.col.total"), num: true },
      { text: t("invoices.col.voucher"), num: true }, { text: t("invoices.col.cash"), num: true }, { text: t("invoices.col.jobs"), num: true },
      t("invoices.col.download")];
    const rows = items.map((inv) => [
      el("a", { href: `#invoices/${inv.id}`, className: "mono", ariaLabel: `${t("invoices.open")} ${inv.id}` }, String(inv.id)),
      inv.tenant, inv.month,
      { text: HH.money(Number(inv.total_cny)), className: "num" }, { text: HH.money(Number(inv.voucher_cny)), className: "num" },
      { text: HH.money(Number(inv.cash_cny)), className: "num" }, { text: HH.fmt(inv.jobs), className: "num" },
      downloads(inv, status),
    ]);
    const table = HH.table(cols, rows, t("invoices.empty"));
    table.id = "invoices-table";
    items.forEach((inv, i) => { table.tBodies[0].rows[i].dataset.id = inv.id; });
    return el("section", { className: "panel section" },
      el("div", { className: "section-head" }, el("h3", {}, t("invoices.list.title")), filters()),
      status, el("div", { className: "table-wrap" }, table),
      st.page ? HH.pager(st.page, (off) => { st.offset = off; load(); }) : null);
  }

  /** Draw the page; what was typed into the create form and not sent stays (HH.keepInputs: a filter or pager
      change, an invoice opened redraws it); a created invoice resets it. */
  function render() {
    if (root) HH.keepInputs(root, draw);
  }
  function draw() {
    root.replaceChildren(
      el("div", { className: "section-head" }, el("h2", {}, t("invoices.title")), el("span", { className: "hint" }, t("invoices.hint"))),
      st.error ? failure(st.error) : "",
      st.note ? el("div", { className: "ok-line", role: "status" }, st.note) : "",
      detailSection() || "", adminSection() || "", listSection(), ledgerSection() || "");
  }

  HH.registerPage({
    name: "invoices",
    nav: "invoices.nav",
    needs: [LIST],
    calls: [LIST, GET, EXPORT, CREATE, METER, TENANTS, LEDGER],
    show(params, elem) {
      root = elem;
      if (!params[0]) st.note = "";
      return load(params[0]);
    },
  });
  HH.onLang(() => { if (HH.view === "invoices") render(); });
})();
