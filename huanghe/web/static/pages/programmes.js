/* Programmes (#programmes, #programmes/ID): compute-voucher programmes (算力券计划, docs/voucher-programmes.md).
   Statistics of the vouchers issued and redeemed per sector and per city (GET /api/v1/programme-stats, all
   programmes or one, a year or ever); the programmes with their fund (create one from a reported preset, close,
   settle with the providers); the applications waiting for review (approve with an optional amount, or reject,
   with a note); one programme's report of its fund's use and its settlements. Regulator and admin.
   Sectors: a programme's eligible sectors are ticked from the `算力+` industries (GET /api/v1/industries,
   names in both languages; none ticked = the reported programme's); a sector of an older programme that is not
   in that list (free text from before) is shown as written, marked "not in the list". */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "programmes.nav": "算力券计划",
      "programmes.title": "算力券计划",
      "programmes.stats.title": "算力券发放与使用统计",
      "programmes.stats.hint": "发放 = 从资金中发放的算力券（扣除退回）；使用 = 算力券在账单中抵扣的金额",
      "programmes.f.programme": "计划",
      "programmes.f.year": "年份",
      "programmes.all": "全部计划",
      "programmes.all_years": "全部年份",
      "programmes.k.issued": "已发放算力券",
      "programmes.k.issued_cny": "发放金额",
      "programmes.k.redeemed": "已使用算力券",
      "programmes.k.redeemed_cny": "使用金额",
      "programmes.k.enterprises": "受惠企业",
      "programmes.count": "{n} 张",
      "programmes.by_sector": "按行业",
      "programmes.by_city": "按企业所在城市",
      "programmes.by_provider_city": "按算力所在城市（使用）",
      "programmes.col.key": "名称",
      "programmes.col.vouchers_issued": "发放张数",
      "programmes.col.issued_cny": "发放金额",
      "programmes.col.vouchers_redeemed": "使用张数",
      "programmes.col.redeemed_cny": "使用金额",
      "programmes.col.enterprises": "企业数",
      "programmes.col.gpu_hours": "GPU 卡时",
      "programmes.none": "暂无数据",
      "programmes.list.title": "计划与资金",
      "programmes.col.id": "编号",
      "programmes.col.name": "名称",
      "programmes.col.fund": "资金总额",
      "programmes.col.granted": "已发放",
      "programmes.col.remaining": "资金余额",
      "programmes.col.status": "状态",
      "programmes.col.actions": "操作",
      "programmes.status.open": "进行中",
      "programmes.status.closed": "已关闭",
      "programmes.report": "报告",
      "programmes.close": "关闭",
      "programmes.settle": "结算",
      "programmes.closed_ok": "计划 {id} 已关闭",
      "programmes.settled_ok": "计划 {id} 已结算 {n} 笔",
      "programmes.create.title": "按已公布的计划创建",
      "programmes.f.id": "计划编号",
      "programmes.f.preset": "参照计划",
      "programmes.f.fund": "资金总额（元，可选）",
      "programmes.create": "创建",
      "programmes.created": "计划 {id} 已创建",
      "programmes.f.sectors": "可申请的行业（不勾选 = 按参照计划）",
      "programmes.col.sectors": "可申请的行业",
      "programmes.sectors.any": "不限",
      "programmes.sectors.unlisted": "不在行业目录中",
      "programmes.sectors.unlisted_hint": "创建于行业目录之前的自由文本，按原文与企业登记的行业比对",
      "programmes.apps.title": "待审核的申请",
      "programmes.col.app": "申请",
      "programmes.col.tenant": "企业",
      "programmes.col.city": "城市",
      "programmes.col.basis": "基数",
      "programmes.col.requested": "申请金额",
      "programmes.col.review": "审核",
      "programmes.f.amount": "批准金额（元，可选）",
      "programmes.f.note": "审核意见",
      "programmes.approve": "批准",
      "programmes.reject": "驳回",
      "programmes.reviewed_ok": "申请 {id}：{status}",
      "programmes.app.granted": "已批准",
      "programmes.app.rejected": "已驳回",
      "programmes.apps.none": "没有待审核的申请",
      "programmes.app.line": "申请 {id}：提交人 {by}，说明：{note}",
      "programmes.back": "返回",
      "programmes.r.fund": "资金",
      "programmes.r.granted": "已发放",
      "programmes.r.returned": "已退回",
      "programmes.r.remaining": "余额",
      "programmes.r.redeemed": "已使用",
      "programmes.r.settled": "已结算",
      "programmes.r.served": "受惠企业（中小企业）",
      "programmes.r.bought": "撬动算力消费",
      "programmes.settlements": "结算记录",
      "programmes.col.operator": "运营方",
      "programmes.col.amount": "金额",
      "programmes.col.redemptions": "笔数",
      "programmes.col.created": "时间",
    },
    en: {
      "programmes.nav": "Programmes",
      "programmes.title": "Voucher programmes",
      "programmes.stats.title": "Vouchers issued and redeemed",
      "programmes.stats.hint": "Issued = vouchers granted from the funds (net of returns); redeemed = what vouchers paid on bills",
      "programmes.f.programme": "Programme",
      "programmes.f.year": "Year",
      "programmes.all": "All programmes",
      "programmes.all_years": "All years",
      "programmes.k.issued": "Vouchers issued",
      "programmes.k.issued_cny": "Amount issued",
      "programmes.k.redeemed": "Vouchers redeemed",
      "programmes.k.redeemed_cny": "Amount redeemed",
      "programmes.k.enterprises": "Enterprises served",
      "programmes.count": "vouchers: {n}",
      "programmes.by_sector": "By sector",
      "programmes.by_city": "By the enterprise's city",
      "programmes.by_provider_city": "By the city where compute ran (redeemed)",
      "programmes.col.key": "Name",
      "programmes.col.vouchers_issued": "Issued",
      "programmes.col.issued_cny": "Amount issued",
      "programmes.col.vouchers_redeemed": "Redeemed",
      "programmes.col.redeemed_cny": "Amount redeemed",
      "programmes.col.enterprises": "Enterprises",
      "programmes.col.gpu_hours": "GPU-hours",
      "programmes.none": "No data yet",
      "programmes.list.title": "Programmes and funds",
      "programmes.col.id": "ID",
      "programmes.col.name": "Name",
      "programmes.col.fund": "Fund",
      "programmes.col.granted": "Granted",
      "programmes.col.remaining": "Remaining",
      "programmes.col.status": "Status",
      "programmes.col.actions": "Actions",
      "programmes.status.open": "open",
      "programmes.status.closed": "closed",
      "programmes.report": "Report",
      "programmes.close": "Close",
      "programmes.settle": "Settle",
      "programmes.closed_ok": "Programme {id} closed",
      "programmes.settled_ok": "Programme {id}: {n} settlements",
      "programmes.create.title": "Create from a reported programme",
      "programmes.f.id": "Programme ID",
      "programmes.f.preset": "Reported programme",
      "programmes.f.fund": "Fund (CNY, optional)",
      "programmes.create": "Create",
      "programmes.created": "Programme {id} created",
      "programmes.f.sectors": "Eligible sectors (none ticked = the reported programme's)",
      "programmes.col.sectors": "Eligible sectors",
      "programmes.sectors.any": "any",
      "programmes.sectors.unlisted": "not in the list",
      "programmes.sectors.unlisted_hint": "free text from before the industry list, compared as written with the enterprise's registered sector",
      "programmes.apps.title": "Applications to review",
      "programmes.col.app": "Application",
      "programmes.col.tenant": "Enterprise",
      "programmes.col.city": "City",
      "programmes.col.basis": "Basis",
      "programmes.col.requested": "Requested",
      "programmes.col.review": "Review",
      "programmes.f.amount": "Amount granted (CNY, optional)",
      "programmes.f.note": "Review note",
      "programmes.approve": "Approve",
      "programmes.reject": "Reject",
      "programmes.reviewed_ok": "Application {id}: {status}",
      "programmes.app.granted": "granted",
      "programmes.app.rejected": "rejected",
      "programmes.apps.none": "No application waits for review",
      "programmes.app.line": "Application {id}: submitted by {by}, note: {note}",
      "programmes.back": "Back",
      "programmes.r.fund": "Fund",
      "programmes.r.granted": "Granted",
      "programmes.r.returned": "Returned",
      "programmes.r.remaining": "Remaining",
      "programmes.r.redeemed": "Redeemed",
      "programmes.r.settled": "Settled",
      "programmes.r.served": "Enterprises served (SMEs)",
      "programmes.r.bought": "Compute bought",
      "programmes.settlements": "Settlements",
      "programmes.col.operator": "Operator",
      "programmes.col.amount": "Amount",
      "programmes.col.redemptions": "Redemptions",
      "programmes.col.created": "Time",
    },
  });

  const { t, el } = HH;
  const scrollWrap = HH.scrollWrap;
  const st = { programme: "", year: "", stats: null, list: [], presets: [], sectors: [], apps: [], error: null, note: "", id: null, report: null, settlements: [] };
  let root = null;
  const cny = (v) => HH.money(Number(v));
  const named = (x) => (HH.lang === "en" ? x.name_en : x.name_zh);
  const num = (text) => ({ text, className: "num" });

  async function guard(fn) {
    try {
      await fn();
      st.error = null;
    } catch (err) {
      st.error = err;
      st.note = "";
    }
  }
  // The overview's and a programme's reads share one guard (both draw the page): only the latest of overlapping reads
  // (a programme or year picked, an action's reload, another programme opened) stores its answers and draws.
  const fresh = HH.latest();
  /** Run `read` (it returns the answers to store), then store them and draw, unless a later read began meanwhile;
      a failed read keeps what was shown and shows the error. */
  async function latest(read) {
    const mine = fresh();
    let got = null;
    let error = null;
    try {
      got = await read();
    } catch (err) {
      error = err;
    }
    if (!mine()) return;  // overtaken: the later read draws
    Object.assign(st, error ? { error, note: "" } : { ...got, error: null });
    render();
  }
  const sectorsRead = async () => (st.sectors.length ? st.sectors : HH.api("/api/v1/industries"));
  async function loadAll() {
    await latest(async () => {
      const [stats, list, apps] = await Promise.all([
        HH.api("/api/v1/programme-stats" + HH.query({ programme: st.programme, year: st.year })),
        HH.api("/api/v1/programmes?limit=1000"),
        HH.api("/api/v1/programme-applications" + HH.query({ status: "submitted", limit: 200 })),
      ]);
      const presets = st.presets.length ? st.presets : await HH.api("/api/v1/programme-presets");
      return { stats, list: list.items, apps: apps.items, presets, sectors: await sectorsRead() };
    });
  }
  async function loadDetail() {
    await latest(async () => {
      const id = encodeURIComponent(st.id);
      const [programme, report, settlements] = await Promise.all([HH.api(`/api/v1/programmes/${id}`),
        HH.api(`/api/v1/programmes/${id}/report`), HH.api(`/api/v1/programmes/${id}/settlements`)]);
      return { report: { ...report, programme }, settlements, sectors: await sectorsRead() };
    });
  }
  async function post(path, body, noteOf) {
    await guard(async () => { st.note = noteOf(await HH.api(path, { method: "POST", body })); });
    if (st.error) return render();  // the refusal stays shown: a reload's success would clear it
    await (st.id ? loadDetail() : loadAll());
  }
  const close = (p) => post(`/api/v1/programmes/${encodeURIComponent(p.id)}/close`, undefined, () => t("programmes.closed_ok", { id: p.id }));
  const settle = (p) => post(`/api/v1/programmes/${encodeURIComponent(p.id)}/settle`, undefined,
    (done) => t("programmes.settled_ok", { id: p.id, n: done.length }));
  const review = (a, decision, amount, note) => post(`/api/v1/programme-applications/${encodeURIComponent(a.id)}/review`,
    { decision, ...(amount ? { amount_cny: amount } : {}), note },
    (r) => t("programmes.reviewed_ok", { id: r.id, status: HH.label("programmes.app", r.status) }));

  async function showApp(id) {
    await guard(async () => {
      const a = await HH.api(`/api/v1/programme-applications/${encodeURIComponent(id)}`);
      st.note = t("programmes.app.line", { id: a.id, by: a.submitted_by, note: a.note || "–" });
    });
    render();
  }
  function breakdown(titleKey, lines, id, sector) {
    const labels = ["programmes.col.key", "programmes.col.vouchers_issued", "programmes.col.issued_cny", "programmes.col.vouchers_redeemed",
      "programmes.col.redeemed_cny", "programmes.col.enterprises", "programmes.col.gpu_hours"].map((k, i) => ({ text: t(k), num: i > 0 }));
    const rows = lines.map((x) => [sector ? x.key : `${named(x)}`, num(HH.fmt(x.vouchers_issued)), num(cny(x.issued_cny)),
      num(HH.fmt(x.vouchers_redeemed)), num(cny(x.redeemed_cny)), num(HH.fmt(x.enterprises)), num(HH.sig(x.gpu_hours, 4))]);
    const table = HH.table(labels, rows, t("programmes.none"));
    table.id = id;
    return el("div", {}, el("h3", {}, t(titleKey)), scrollWrap("table-wrap", table));
  }
  function statsView() {
    const s = st.stats;
    const pick = el("select", { id: "programmes-pick", dataset: { keep: "off" } }, new Option(t("programmes.all"), ""), st.list.map((p) => new Option(`${named(p)} (${p.id})`, p.id)));
    pick.value = st.programme;
    const year = el("select", { id: "programmes-year", dataset: { keep: "off" } }, new Option(t("programmes.all_years"), ""));
    const now = new Date().getUTCFullYear();
    for (let y = now; y >= now - 5; y -= 1) year.append(new Option(String(y), String(y)));
    year.value = st.year;
    const apply = () => { st.programme = pick.value; st.year = year.value; loadAll(); };
    pick.addEventListener("change", apply);
    year.addEventListener("change", apply);
    const card = (key, value, sub) => el("div", { className: "card" }, el("div", { className: "card-label" }, t(key)),
      el("div", { className: "card-value" }, value), sub ? el("div", { className: "card-sub" }, sub) : null);
    return el("section", { className: "panel section", id: "programmes-stats" },
      el("div", { className: "section-head" }, el("h2", {}, t("programmes.stats.title")),
        el("label", { className: "inline" }, el("span", {}, t("programmes.f.programme")), pick),
        el("label", { className: "inline" }, el("span", {}, t("programmes.f.year")), year)),
      el("p", { className: "hint-line" }, t("programmes.stats.hint")),
      s ? [el("div", { className: "cards" },
        card("programmes.k.issued_cny", cny(s.issued_cny), t("programmes.count", { n: HH.fmt(s.vouchers_issued) })),
        card("programmes.k.redeemed_cny", cny(s.redeemed_cny), t("programmes.count", { n: HH.fmt(s.vouchers_redeemed) })),
        card("programmes.k.enterprises", HH.fmt(s.enterprises)),
        card("programmes.r.bought", cny(s.compute_bought_cny))),
      el("div", { className: "three-cols programme-breakdowns" },
        breakdown("programmes.by_sector", s.by_sector, "programmes-by-sector", true),
        breakdown("programmes.by_city", s.by_city, "programmes-by-city"),
        breakdown("programmes.by_provider_city", s.by_provider_city, "programmes-by-provider-city"))] : null);
  }
  function button(text, cls, onClick, data) {
    const b = el("button", { type: "button", className: cls, dataset: data || {} }, text);
    b.addEventListener("click", onClick);
    return b;
  }
  /** A programme's sectors: the industries' names; a value not in the list (older free text) as written, marked. */
  function sectorsCell(sectors) {
    if (!sectors.length) return t("programmes.sectors.any");
    return HH.sectorNames(sectors, st.sectors, "programme-sectors", t("programmes.sectors.unlisted"), t("programmes.sectors.unlisted_hint"));
  }
  function sectorsPick() {
    const boxes = st.sectors.map((x) => el("label", { className: "inline" },
      el("input", { type: "checkbox", name: "sectors", value: x.key }), named(x)));
    return el("fieldset", { className: "centers-pick", id: "programmes-sectors" }, el("legend", {}, t("programmes.f.sectors")), boxes);
  }
  function listView() {
    const labels = ["programmes.col.id", "programmes.col.name", "programmes.col.fund", "programmes.col.granted", "programmes.col.remaining",
      "programmes.col.sectors", "programmes.col.status", "programmes.col.actions"].map((k, i) => ({ text: t(k), num: i >= 2 && i <= 4 }));
    const rows = st.list.map((p) => [{ text: p.id, className: "mono" }, named(p), num(cny(p.fund_cny)), num(cny(p.granted_cny)),
      num(cny(p.remaining_cny)), sectorsCell(p.sectors), HH.label("programmes.status", p.status),
      el("span", { className: "actions" }, el("a", { href: `#programmes/${encodeURIComponent(p.id)}`, className: "button-link" }, t("programmes.report")),
        p.status === "open" ? button(t("programmes.close"), "small", () => close(p), { act: "close", id: p.id }) : null,
        button(t("programmes.settle"), "small", () => settle(p), { act: "settle", id: p.id }))]);
    const table = HH.table(labels, rows, t("programmes.none"));
    table.id = "programmes-table";
    const preset = el("select", { name: "preset" }, st.presets.map((p) => new Option(p.key, p.key)));
    const form = el("form", { className: "filters", id: "programmes-create" },
      el("label", { className: "inline" }, el("span", {}, t("programmes.f.id")), el("input", { name: "id", required: true, autocomplete: "off" })),
      el("label", { className: "inline" }, el("span", {}, t("programmes.f.preset")), preset),
      el("label", { className: "inline" }, el("span", {}, t("programmes.f.fund")), el("input", { name: "fund_cny", type: "number", min: "0", step: "0.01" })),
      sectorsPick(),
      el("button", { type: "submit", className: "primary" }, t("programmes.create")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const fund = form.elements.fund_cny.value.trim();
      const sectors = [...form.querySelectorAll("input[name='sectors']:checked")].map((b) => b.value);
      post("/api/v1/programmes", { id: form.elements.id.value.trim(), preset: preset.value, ...(fund ? { fund_cny: fund } : {}),
        ...(sectors.length ? { sectors } : {}) }, (p) => { HH.keepInputs.forget(form); return t("programmes.created", { id: p.id }); });
    });
    return el("section", { className: "panel section" }, el("div", { className: "section-head" }, el("h2", {}, t("programmes.list.title"))),
      scrollWrap("table-wrap short", table), el("h3", {}, t("programmes.create.title")), form);
  }
  function appsView() {
    const labels = ["programmes.col.app", "programmes.f.programme", "programmes.col.tenant", "programmes.col.city", "programmes.col.basis",
      "programmes.col.requested", "programmes.col.review"].map((k, i) => ({ text: t(k), num: i === 4 || i === 5 }));
    const rows = st.apps.map((a) => {
      const amount = el("input", { type: "number", min: "0", step: "0.01", className: "amount" });
      amount.setAttribute("aria-label", t("programmes.f.amount"));
      const note = el("input", { type: "text", className: "note" });
      note.setAttribute("aria-label", t("programmes.f.note"));
      return [button(a.id, "small mono", () => showApp(a.id), { act: "show" }), a.programme, a.tenant, a.city || "–", num(cny(a.basis_cny)),
        num(a.requested_cny == null ? "–" : cny(a.requested_cny)),
        el("span", { className: "actions", dataset: { app: a.id, keep: `programmes-review/${a.id}` } }, amount, note,
          button(t("programmes.approve"), "small", () => review(a, "approve", amount.value.trim(), note.value.trim()), { act: "approve" }),
          button(t("programmes.reject"), "small", () => review(a, "reject", "", note.value.trim()), { act: "reject" }))];
    });
    const table = HH.table(labels, rows, t("programmes.apps.none"));
    table.id = "programmes-apps";
    return el("section", { className: "panel section" }, el("div", { className: "section-head" }, el("h2", {}, t("programmes.apps.title"))),
      scrollWrap("table-wrap", table));
  }
  function detailView() {
    const r = st.report;
    const back = el("a", { href: "#programmes", className: "button-link" }, t("programmes.back"));
    if (!r) return [el("section", { className: "panel section" }, el("h2", {}, t("programmes.title")), back, st.error ? HH.errorBox(st.error) : null)];
    const kv = [["programmes.r.fund", cny(r.fund_cny)], ["programmes.r.granted", cny(r.granted_cny)], ["programmes.r.returned", cny(r.returned_cny)],
      ["programmes.r.remaining", cny(r.remaining_cny)], ["programmes.r.redeemed", cny(r.redeemed_cny)], ["programmes.r.settled", cny(r.settled_cny)],
      ["programmes.r.served", `${HH.fmt(r.enterprises_served)} (${HH.fmt(r.sme_served)})`], ["programmes.r.bought", cny(r.compute_bought_cny)],
      ["programmes.col.sectors", sectorsCell(r.programme.sectors)]];
    const settled = HH.table(["programmes.col.operator", "programmes.col.amount", "programmes.col.redemptions", "programmes.col.created"]
      .map((k, i) => ({ text: t(k), num: i === 1 || i === 2 })),
    st.settlements.map((x) => [x.operator, num(cny(x.amount_cny)), num(HH.fmt(x.redemptions)), HH.time(x.created)]), t("programmes.none"));
    return [el("section", { className: "panel section", id: "programmes-report", dataset: { id: r.programme.id } },
      el("div", { className: "section-head" }, el("h2", {}, HH.lang === "en" ? r.title_en : r.title_zh), back),
      el("p", { className: "ok-line", role: "status" }, st.note), st.error ? HH.errorBox(st.error) : null,
      el("dl", { className: "kv" }, kv.map(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v)])),
      el("h3", {}, t("programmes.settlements")), scrollWrap("table-wrap", settled))];
  }
  /** Draw the page; what was typed into the create form or a review and not sent stays (HH.keepInputs: a filter's
      reload, another programme's close, settle or review redraws them); a created programme resets the form. */
  function render() {
    if (root) HH.keepInputs(root, draw);
  }
  function draw() {
    if (st.id) return root.replaceChildren(...detailView());
    root.replaceChildren(statsView(), el("p", { className: "ok-line", role: "status", id: "programmes-note" }, st.note),
      st.error ? HH.errorBox(st.error) : "", listView(), appsView());
  }

  HH.registerPage({
    name: "programmes",
    nav: "programmes.nav",
    needs: ["GET /api/v1/programme-stats"],
    calls: ["GET /api/v1/programme-stats", "GET /api/v1/programmes", "GET /api/v1/programme-applications", "GET /api/v1/programme-presets",
      "GET /api/v1/industries",
      "GET /api/v1/programme-applications/{application_id}",
      "GET /api/v1/programmes/{programme_id}", "GET /api/v1/programmes/{programme_id}/report", "GET /api/v1/programmes/{programme_id}/settlements",
      "POST /api/v1/programmes", "POST /api/v1/programmes/{programme_id}/close", "POST /api/v1/programmes/{programme_id}/settle",
      "POST /api/v1/programme-applications/{application_id}/review"],
    show(params, elRoot) {
      root = elRoot;
      const id = params[0] || null;
      if (id !== st.id) { st.note = ""; st.error = null; }
      st.id = id;
      return id ? loadDetail() : loadAll();
    },
  });
  HH.onLang(() => { if (HH.view === "programmes") render(); });
})();
