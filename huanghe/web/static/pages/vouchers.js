/* Vouchers (#vouchers): the compute vouchers (算力券) of the caller's tenant — amount, balance, what was redeemed on
   its bills, the share of a bill it may pay, validity, eligibility, state — with totals; platform admin and
   regulator: every tenant's (tenant filter), issue a voucher (a form) and revoke one (confirmed in the row).
   Programme-level statistics per sector and city are the programmes page's.
   Sectors: a voucher's eligible sectors are ticked from the `算力+` industries (GET /api/v1/industries, names in
   both languages; none ticked = any) and listed by name; a sector of an older voucher that is not in that list
   (free text from before) is shown as written, marked "not in the list". A refused revoke stays shown after the
   reload that follows it, until the next action or leaving the page. A reload (filter, pager, revoke) keeps what
   was typed into the issue form and not sent; a successful issue resets the form. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "vouchers.nav": "算力券",
      "vouchers.title": "算力券",
      "vouchers.list.title": "券列表",
      "vouchers.hint": "出账时算力券先于自付金额抵扣，每张券最多抵扣账单可用部分的一定比例",
      "vouchers.f.tenant": "按租户筛选",
      "vouchers.all_tenants": "全部租户",
      "vouchers.sum.balance": "可用余额",
      "vouchers.sum.redeemed": "已抵扣",
      "vouchers.sum.amount": "发放总额",
      "vouchers.sum.active": "有效券",
      "vouchers.col.id": "编号",
      "vouchers.col.tenant": "租户",
      "vouchers.col.amount": "面额",
      "vouchers.col.balance": "余额",
      "vouchers.col.redeemed": "已抵扣",
      "vouchers.col.share": "可抵扣比例",
      "vouchers.col.valid": "有效期",
      "vouchers.col.scope": "适用范围",
      "vouchers.col.state": "状态",
      "vouchers.col.actions": "操作",
      "vouchers.any": "不限",
      "vouchers.scope.sectors": "行业",
      "vouchers.scope.centers": "中心",
      "vouchers.scope.pools": "资源池",
      "vouchers.state.active": "有效",
      "vouchers.state.expired": "已过期",
      "vouchers.state.revoked": "已撤销",
      "vouchers.state.used": "已用完",
      "vouchers.state.pending": "未生效",
      "vouchers.empty": "没有算力券",
      "vouchers.revoke": "撤销",
      "vouchers.revoke.confirm": "确认撤销",
      "vouchers.revoke.cancel": "取消",
      "vouchers.revoke.question": "余额将退回补贴资金，确定吗？",
      "vouchers.revoked_ok": "算力券 {id} 已撤销",
      "vouchers.issue.title": "发放算力券",
      "vouchers.issue.tenant": "租户",
      "vouchers.issue.amount": "面额 元",
      "vouchers.issue.share": "可抵扣比例 %",
      "vouchers.issue.until": "有效期至（含当日）",
      "vouchers.issue.sectors": "限定行业（不勾选 = 不限）",
      "vouchers.sectors.unlisted": "不在行业目录中",
      "vouchers.sectors.unlisted_hint": "创建于行业目录之前的自由文本，按原文与企业登记的行业比对",
      "vouchers.issue.centers": "限定中心 ID（逗号分隔，空 = 不限）",
      "vouchers.issue.pools": "限定资源池 ID（逗号分隔，空 = 不限）",
      "vouchers.issue.note": "备注",
      "vouchers.issue.submit": "发放",
      "vouchers.issued": "已发放算力券 {id}",
      "vouchers.note": "备注",
      "vouchers.detail.title": "算力券 {id}",
      "vouchers.detail.issuer": "发放方",
      "vouchers.detail.close": "关闭详情",
    },
    en: {
      "vouchers.nav": "Vouchers",
      "vouchers.title": "Compute vouchers",
      "vouchers.list.title": "All vouchers",
      "vouchers.hint": "Vouchers pay a bill before the tenant's own money, each up to its share of the eligible part",
      "vouchers.f.tenant": "Filter by tenant",
      "vouchers.all_tenants": "All tenants",
      "vouchers.sum.balance": "Balance available",
      "vouchers.sum.redeemed": "Redeemed",
      "vouchers.sum.amount": "Issued in total",
      "vouchers.sum.active": "Active vouchers",
      "vouchers.col.id": "ID",
      "vouchers.col.tenant": "Tenant",
      "vouchers.col.amount": "Amount",
      "vouchers.col.balance": "Balance",
      "vouchers.col.redeemed": "Redeemed",
      "vouchers.col.share": "Share of a bill",
      "vouchers.col.valid": "Valid",
      "vouchers.col.scope": "Eligible for",
      "vouchers.col.state": "State",
      "vouchers.col.actions": "Actions",
      "vouchers.any": "Any",
      "vouchers.scope.sectors": "Sectors",
      "vouchers.scope.centers": "Centers",
      "vouchers.scope.pools": "Pools",
      "vouchers.state.active": "Active",
      "vouchers.state.expired": "Expired",
      "vouchers.state.revoked": "Revoked",
      "vouchers.state.used": "Used up",
      "vouchers.state.pending": "Not yet valid",
      "vouchers.empty": "No vouchers",
      "vouchers.revoke": "Revoke",
      "vouchers.revoke.confirm": "Confirm revoke",
      "vouchers.revoke.cancel": "Cancel",
      "vouchers.revoke.question": "Its balance returns to the subsidy fund. Sure?",
      "vouchers.revoked_ok": "Voucher {id} revoked",
      "vouchers.issue.title": "Issue a voucher",
      "vouchers.issue.tenant": "Tenant",
      "vouchers.issue.amount": "Amount, CNY",
      "vouchers.issue.share": "Share of a bill, %",
      "vouchers.issue.until": "Valid until (inclusive)",
      "vouchers.issue.sectors": "Only sectors (none ticked = any)",
      "vouchers.sectors.unlisted": "not in the list",
      "vouchers.sectors.unlisted_hint": "free text from before the industry list, compared as written with the enterprise's registered sector",
      "vouchers.issue.centers": "Only center IDs (comma-separated, empty = any)",
      "vouchers.issue.pools": "Only pool IDs (comma-separated, empty = any)",
      "vouchers.issue.note": "Note",
      "vouchers.issue.submit": "Issue",
      "vouchers.issued": "Voucher {id} issued",
      "vouchers.note": "Note",
      "vouchers.detail.title": "Voucher {id}",
      "vouchers.detail.issuer": "Issued by",
      "vouchers.detail.close": "Close the detail",
    },
  });

  const { t, el } = HH;
  const LIST = "GET /api/v1/vouchers";
  const GET = "GET /api/v1/vouchers/{voucher_id}";
  const ISSUE = "POST /api/v1/vouchers";
  const REVOKE = "POST /api/v1/vouchers/{voucher_id}/revoke";
  const TENANTS = "GET /api/v1/tenants";
  const SUMMARY = "GET /api/v1/vouchers:summary";
  const INDUSTRIES = "GET /api/v1/industries";
  const LIMIT = 100;
  // error: the last load's failure (the next successful load clears it); failed: the last action's refusal (kept
  // until the next action or leaving the page: the reload after the action does not clear it)
  const st = { offset: 0, tenant: "", page: null, error: null, failed: null, tenants: [], industries: [], confirm: null, note: "", detail: null };
  let root = null;
  let reloads = 0;

  function failure(err) {
    if (err instanceof HH.ApiError && !err.authNeeded) {
      const text = err.detail.map((d) => (d.path ? `${String(d.path).replace(/^body\./, "")}: ${d.message}` : d.message)).join("; ");
      return el("div", { className: "alert" }, t("error.request", { detail: text }));
    }
    return HH.errorBox(err);
  }
  function stateOf(v) {
    if (v.revoked) return "revoked";
    if (v.expired) return "expired";
    if (new Date(v.valid_from).getTime() > Date.now()) return "pending";
    return Number(v.balance_cny) > 0 ? "active" : "used";
  }
  const date = (iso) => new Date(iso).toLocaleDateString(HH.lang);
  const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

  const fresh = HH.latest();
  /** Read the voucher shown and the list, then draw: only the latest of overlapping loads (a filter or pager
      change, an issue's or revoke's reload) stores its answers, so an older answer never replaces a newer one. */
  async function load(id) {
    const mine = fresh();
    const got = { detail: null, tenants: st.tenants, industries: st.industries, page: st.page, summary: st.summary };
    let error = null;
    try {
      if (id) got.detail = await HH.api(`/api/v1/vouchers/${encodeURIComponent(id)}`);
      if (HH.can(TENANTS) && !got.tenants.length) got.tenants = (await HH.api("/api/v1/tenants?limit=1000")).items;
      if (!got.industries.length) got.industries = await HH.api("/api/v1/industries");
      got.page = await HH.api("/api/v1/vouchers" + HH.query({ tenant: st.tenant, limit: LIMIT, offset: st.offset }));
      got.summary = await HH.api("/api/v1/vouchers:summary" + HH.query({ tenant: st.tenant }));
    } catch (err) {
      error = err;
    }
    if (!mine()) return;  // overtaken: the later load draws
    Object.assign(st, error ? { error, detail: got.detail } : { ...got, error: null });  // a failed load keeps the list shown
    render();
  }
  /** The reload after an action, then counted in the page's `data-reloads` once drawn (or overtaken by a later load,
      which draws instead): what a test waits on to read the page as the action left it. */
  async function reload() {
    await load(HH.params[0]);
    if (root) root.dataset.reloads = String(++reloads);
  }

  /** Totals of every voucher of the filter (GET /vouchers:summary), not of the page shown. */
  function summary(s) {
    if (!s) return null;
    const card = (key, value) => el("div", { className: "card", dataset: { sum: key } },
      el("div", { className: "card-label" }, t(`vouchers.sum.${key}`)), el("div", { className: "card-value" }, value));
    return el("div", { className: "cards", id: "vouchers-summary" },
      card("balance", HH.money(Number(s.balance_cny))), card("redeemed", HH.money(Number(s.redeemed_cny))),
      card("amount", HH.money(Number(s.amount_cny))), card("active", HH.fmt(s.active)));
  }
  const named = (x) => (HH.lang === "en" ? x.name_en : x.name_zh);
  /** A voucher's sectors: the industries' names; a value not in the list (older free text) as written, marked. */
  function sectorsOf(sectors) {
    return HH.sectorNames(sectors, st.industries, "voucher-sectors", t("vouchers.sectors.unlisted"), t("vouchers.sectors.unlisted_hint"));
  }
  function scopeOf(v) {
    const parts = [["sectors", v.sectors], ["centers", v.centers], ["pools", v.pools]].filter(([, ids]) => ids.length)
      .map(([k, ids], i) => [i ? "; " : "", `${t(`vouchers.scope.${k}`)}: `, k === "sectors" ? sectorsOf(ids) : ids.join(", ")]);
    return parts.length ? el("span", { className: "voucher-scope" }, parts) : t("vouchers.any");
  }
  function actions(v) {
    if (!HH.can(REVOKE) || v.revoked) return "";
    if (st.confirm === v.id) {
      const yes = el("button", { type: "button", className: "small danger-text", dataset: { act: "confirm" } }, t("vouchers.revoke.confirm"));
      const no = el("button", { type: "button", className: "small", dataset: { act: "cancel" } }, t("vouchers.revoke.cancel"));
      yes.addEventListener("click", async () => {
        st.failed = null;
        st.note = "";
        try {
          await HH.api(`/api/v1/vouchers/${encodeURIComponent(v.id)}/revoke`, { method: "POST" });
          st.note = t("vouchers.revoked_ok", { id: v.id });
        } catch (err) {
          st.failed = err;  // stays shown after the reload below
        }
        st.confirm = null;
        await reload();
      });
      no.addEventListener("click", () => { st.confirm = null; render(); });
      return el("span", { className: "actions" }, el("span", { className: "confirm-q" }, t("vouchers.revoke.question")), yes, no);
    }
    const b = el("button", { type: "button", className: "small", dataset: { act: "revoke" } }, t("vouchers.revoke"));
    b.addEventListener("click", () => { st.confirm = v.id; render(); });
    return b;
  }
  function listSection() {
    const items = st.page ? st.page.items : [];
    const showTenant = HH.can(TENANTS);
    const cols = [t("vouchers.col.id"), ...(showTenant ? [t("vouchers.col.tenant")] : []),
      ...["amount", "balance", "redeemed", "share"].map((k) => ({ text: t(`vouchers.col.${k}`), num: true })),
      t("vouchers.col.valid"), t("vouchers.col.scope"), t("vouchers.col.state"), t("vouchers.note"),
      ...(HH.can(REVOKE) ? [t("vouchers.col.actions")] : [])];
    const rows = items.map((v) => {
      const state = stateOf(v);
      return [
        el("a", { href: `#vouchers/${encodeURIComponent(v.id)}`, className: "mono" }, v.id), ...(showTenant ? [v.tenant] : []),
        { text: HH.money(Number(v.amount_cny)), className: "num" }, { text: HH.money(Number(v.balance_cny)), className: "num" },
        { text: HH.money(Number(v.redeemed_cny)), className: "num" }, { text: HH.pct(Number(v.max_share), 0), className: "num" },
        `${date(v.valid_from)} – ${date(v.valid_until)}`, { text: scopeOf(v), className: "wrap" },
        el("span", { className: `voucher-state v-${state}` }, t(`vouchers.state.${state}`)), { text: v.note || "–", className: "wrap" },
        ...(HH.can(REVOKE) ? [actions(v)] : []),
      ];
    });
    const table = HH.table(cols, rows, t("vouchers.empty"));
    table.id = "vouchers-table";
    items.forEach((v, i) => { table.tBodies[0].rows[i].dataset.id = v.id; });
    const head = [el("h3", {}, t("vouchers.list.title"))];
    if (showTenant) {
      const sel = el("select", { id: "vouchers-tenant-filter", dataset: { keep: "off" } }, new Option(t("vouchers.all_tenants"), ""),
        st.tenants.map((x) => new Option(`${x.name} (${x.id})`, x.id)));
      sel.value = st.tenant;
      sel.addEventListener("change", () => { st.tenant = sel.value; st.offset = 0; load(HH.params[0]); });
      head.push(el("label", { className: "inline" }, el("span", {}, t("vouchers.f.tenant")), sel));
    }
    return el("section", { className: "panel section" }, el("div", { className: "section-head" }, head),
      summary(st.summary), el("div", { className: "table-wrap" }, table),
      st.page ? HH.pager(st.page, (off) => { st.offset = off; load(HH.params[0]); }) : null);
  }

  /** One voucher (#vouchers/<id>): every field, the issuer included. */
  function detailSection() {
    const v = st.detail;
    if (!v) return null;
    const row = (key, value) => [el("dt", {}, t(key)), el("dd", {}, value)];
    return el("section", { className: "panel section", id: "voucher-detail", dataset: { id: v.id } },
      el("div", { className: "section-head" }, el("h3", {}, t("vouchers.detail.title", { id: v.id })),
        el("a", { href: "#vouchers", className: "button-link" }, t("vouchers.detail.close"))),
      el("dl", { className: "kv" },
        row("vouchers.col.tenant", v.tenant), row("vouchers.detail.issuer", v.issuer),
        row("vouchers.col.amount", HH.money(Number(v.amount_cny))), row("vouchers.col.balance", HH.money(Number(v.balance_cny))),
        row("vouchers.col.redeemed", HH.money(Number(v.redeemed_cny))), row("vouchers.col.share", HH.pct(Number(v.max_share), 0)),
        row("vouchers.col.valid", `${HH.time(v.valid_from)} – ${HH.time(v.valid_until)}`), row("vouchers.col.scope", scopeOf(v)),
        row("vouchers.col.state", t(`vouchers.state.${stateOf(v)}`)), row("vouchers.note", v.note || "–")));
  }

  function issueForm() {
    if (!HH.can(ISSUE)) return null;
    const f = (key, input) => el("label", { className: "field" }, el("span", {}, t(`vouchers.issue.${key}`)), input);
    const tenant = el("select", { name: "tenant" }, st.tenants.map((x) => new Option(`${x.name} (${x.id})`, x.id)));
    if (st.tenant) tenant.value = st.tenant;
    const amount = el("input", { name: "amount_cny", type: "number", min: "0.01", step: "0.01" });
    const share = el("input", { name: "max_share", type: "number", min: "1", max: "100", step: "any", value: "50" });
    const until = el("input", { name: "valid_until", type: "date" });
    const inYear = new Date(Date.now() + 365 * 86400e3);
    until.value = inYear.toISOString().slice(0, 10);
    const sectors = el("fieldset", { className: "centers-pick wide", id: "vouchers-sectors" }, el("legend", {}, t("vouchers.issue.sectors")),
      st.industries.map((x) => el("label", { className: "inline" }, el("input", { type: "checkbox", name: "sectors", value: x.key }), named(x))));
    const centers = el("input", { name: "centers", type: "text" });
    const pools = el("input", { name: "pools", type: "text" });
    const note = el("input", { name: "note", type: "text", maxLength: 2000 });
    const errors = el("div", { className: "wide", id: "vouchers-form-error" });
    const form = el("form", { className: "adm-form", id: "vouchers-form", noValidate: true },
      f("tenant", tenant), f("amount", amount), f("share", share), f("until", until), sectors, f("centers", centers),
      f("pools", pools), f("note", note),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("vouchers.issue.submit"))), errors);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      errors.replaceChildren();
      st.failed = null;
      const body = {
        tenant: tenant.value, amount_cny: amount.value.trim(),
        max_share: share.value.trim() === "" ? "1" : String(Number(share.value) / 100),
        valid_until: until.value ? `${until.value}T23:59:59Z` : "", sectors: [...sectors.querySelectorAll("input:checked")].map((b) => b.value),
        centers: list(centers.value),
        pools: list(pools.value), note: note.value,
      };
      try {
        const v = await HH.api("/api/v1/vouchers", { method: "POST", body });
        st.note = t("vouchers.issued", { id: v.id });
        HH.keepInputs.forget(form);  // issued: the reload draws the form afresh
        await reload();
      } catch (err) {
        errors.replaceChildren(failure(err));
      }
    });
    return el("section", { className: "panel section" }, el("h3", {}, t("vouchers.issue.title")), form);
  }

  /** Draw the page; what the user typed into the issue form and not sent stays (HH.keepInputs). */
  function render() {
    if (root) HH.keepInputs(root, draw);
  }
  function draw() {
    root.replaceChildren(
      el("div", { className: "section-head" }, el("h2", {}, t("vouchers.title")), el("span", { className: "hint" }, t("vouchers.hint"))),
      st.error ? failure(st.error) : "", st.failed ? el("div", { id: "vouchers-action-error" }, failure(st.failed)) : "", st.note ? el("div", { className: "ok-line", role: "status" }, st.note) : "",
      detailSection() || "", issueForm() || "", listSection());
  }

  HH.registerPage({
    name: "vouchers",
    nav: "vouchers.nav",
    needs: [LIST],
    calls: [LIST, GET, ISSUE, REVOKE, TENANTS, SUMMARY, INDUSTRIES],
    show(params, elem) {
      root = elem;
      st.note = "";
      st.failed = null;
      st.confirm = null;
      if (root.firstChild) render();  // opened again: the last action's note and refusal go now, not after the reload
      return load(params[0]);
    },
  });
  HH.onLang(() => { if (HH.view === "vouchers") render(); });
})();
