/* Applications (#applications, #applications/<id>): an enterprise applies for compute vouchers (算力券) from an open
   programme (docs/voucher-programmes.md). The open programmes with their share, fund left and caps
   (GET /api/v1/programmes, one opened with GET /programmes/{id}); the tenant admin applies (POST
   /programme-applications: the spending it is based on, the amount asked, the provider, the city) and withdraws
   an application still waiting; everyone of the tenant follows its applications (granted amount, the voucher).
   The regulator reviews them on the programmes page; here regulator and admin see every tenant's. A programme's
   eligible sectors are shown by the names of the `算力+` industries (GET /api/v1/industries, read once) in the
   current language; a value not in that list (older free text) as written, marked. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "applications.nav": "算力券申请",
      "applications.title": "算力券申请",
      "applications.hint": "向开放中的算力券计划申请补贴；审核由监管方在“补贴计划”页完成",
      "applications.programmes": "开放中的计划",
      "applications.p.name": "计划",
      "applications.p.share": "补贴比例",
      "applications.p.remaining": "剩余资金",
      "applications.p.cap": "每家企业上限",
      "applications.p.closes": "截止",
      "applications.p.none": "目前没有开放的计划",
      "applications.p.basis": "依据",
      "applications.p.sectors": "可申请的行业",
      "applications.p.any_sector": "不限",
      "applications.p.unlisted": "不在行业目录中",
      "applications.p.unlisted_hint": "创建于行业目录之前的自由文本，按原文与企业登记的行业比对",
      "applications.form.title": "提交申请",
      "applications.f.programme": "计划",
      "applications.f.tenant": "租户",
      "applications.f.basis": "算力支出 元（申请依据）",
      "applications.f.requested": "申请金额 元（空 = 按比例计算）",
      "applications.f.provider": "算力服务商",
      "applications.f.city": "企业所在城市",
      "applications.f.no_city": "未填写",
      "applications.f.note": "说明",
      "applications.f.submit": "提交申请",
      "applications.submitted": "已提交申请 {id}",
      "applications.mine": "申请记录",
      "applications.col.id": "编号",
      "applications.col.tenant": "租户",
      "applications.col.status": "状态",
      "applications.col.basis": "依据金额",
      "applications.col.requested": "申请金额",
      "applications.col.granted": "批准金额",
      "applications.col.voucher": "算力券",
      "applications.col.submitted": "提交时间",
      "applications.empty": "还没有申请",
      "applications.status.submitted": "待审核",
      "applications.status.granted": "已批准",
      "applications.status.rejected": "未通过",
      "applications.status.withdrawn": "已撤回",
      "applications.withdraw": "撤回",
      "applications.withdrawn": "已撤回申请 {id}",
      "applications.detail.title": "申请 {id}",
      "applications.detail.back": "返回申请列表",
    },
    en: {
      "applications.nav": "Applications",
      "applications.title": "Voucher applications",
      "applications.hint": "Apply to an open voucher programme for a subsidy; the regulator reviews on the Programmes page",
      "applications.programmes": "Open programmes",
      "applications.p.name": "Programme",
      "applications.p.share": "Share",
      "applications.p.remaining": "Fund left",
      "applications.p.cap": "Cap per enterprise",
      "applications.p.closes": "Closes",
      "applications.p.none": "No programme is open now",
      "applications.p.basis": "Basis",
      "applications.p.sectors": "Eligible sectors",
      "applications.p.any_sector": "any",
      "applications.p.unlisted": "not in the list",
      "applications.p.unlisted_hint": "free text from before the industry list, compared as written with the enterprise's registered sector",
      "applications.form.title": "Apply",
      "applications.f.programme": "Programme",
      "applications.f.tenant": "Tenant",
      "applications.f.basis": "Compute spending, CNY (the basis)",
      "applications.f.requested": "Amount asked, CNY (empty = by the share)",
      "applications.f.provider": "Compute provider",
      "applications.f.city": "The enterprise's city",
      "applications.f.no_city": "Not given",
      "applications.f.note": "Note",
      "applications.f.submit": "Submit",
      "applications.submitted": "Application {id} submitted",
      "applications.mine": "Applications",
      "applications.col.id": "Id",
      "applications.col.tenant": "Tenant",
      "applications.col.status": "Status",
      "applications.col.basis": "Basis",
      "applications.col.requested": "Asked",
      "applications.col.granted": "Granted",
      "applications.col.voucher": "Voucher",
      "applications.col.submitted": "Submitted",
      "applications.empty": "No application yet",
      "applications.status.submitted": "Waiting for review",
      "applications.status.granted": "Granted",
      "applications.status.rejected": "Rejected",
      "applications.status.withdrawn": "Withdrawn",
      "applications.withdraw": "Withdraw",
      "applications.withdrawn": "Application {id} withdrawn",
      "applications.detail.title": "Application {id}",
      "applications.detail.back": "Back to the applications",
    },
  });

  const { t, el, fmt } = HH;
  const LIST = "GET /api/v1/programme-applications";
  const APPLY = "POST /api/v1/programme-applications";
  const WITHDRAW = "POST /api/v1/programme-applications/{application_id}/withdraw";
  const INDUSTRIES = "GET /api/v1/industries";
  const st = { msg: "", offset: 0, industries: [] };
  const enc = encodeURIComponent;
  const named = (o) => (HH.lang === "en" ? o.name_en : o.name_zh);
  const money = (v) => (v == null ? "–" : HH.money(Number(v)));

  function field(labelKey, input, wide) {
    return el("label", { className: "field" + (wide ? " wide" : "") }, el("span", {}, t(labelKey)), input);
  }
  function statusBadge(s) {
    return el("span", { className: `state application-${s}`, dataset: { status: s } }, HH.label("applications.status", s));
  }
  /** The industries ({key, name_zh, name_en}), read once (the list is fixed while the server runs). */
  const industriesRead = async () => (st.industries.length ? st.industries : HH.api("/api/v1/industries"));
  /** A programme's sectors by the industries' names; none = any sector. */
  function sectorsCell(sectors) {
    if (!sectors.length) return t("applications.p.any_sector");
    return HH.sectorNames(sectors, st.industries, "programme-sectors", t("applications.p.unlisted"), t("applications.p.unlisted_hint"));
  }
  function programmesTable(items) {
    const rows = items.map((p) => [el("a", { href: `#applications/p/${enc(p.id)}` }, named(p)), { text: HH.pct(Number(p.share), 0), className: "num" },
      { text: money(p.remaining_cny), className: "num" }, { text: money(p.cap_enterprise_cny), className: "num" }, HH.time(p.closes),
      { text: sectorsCell(p.sectors), className: "wrap" }]);
    const table = HH.table([t("applications.p.name"), { text: t("applications.p.share"), num: true }, { text: t("applications.p.remaining"), num: true },
      { text: t("applications.p.cap"), num: true }, t("applications.p.closes"), t("applications.p.sectors")], rows, t("applications.p.none"));
    table.id = "applications-programmes";
    return el("div", { className: "table-wrap" }, table);
  }
  function applyForm(programmes, topo, slot, el0) {
    const tenantInput = HH.whoami && HH.whoami.tenant ? null : el("input", { name: "tenant", type: "text", required: true });
    const form = el("form", { className: "job-form", id: "application-form", noValidate: true },
      field("applications.f.programme", el("select", { name: "programme" }, ...programmes.map((p) => new Option(named(p), p.id)))),
      tenantInput ? field("applications.f.tenant", tenantInput) : null,
      field("applications.f.basis", el("input", { name: "basis_cny", type: "number", step: "0.01", min: 0, required: true })),
      field("applications.f.requested", el("input", { name: "requested_cny", type: "number", step: "0.01", min: 0 })),
      field("applications.f.provider", el("input", { name: "provider", type: "text" })),
      field("applications.f.city", el("select", { name: "city" }, new Option(t("applications.f.no_city"), ""),
        ...(topo ? topo.cities : []).map((c) => new Option(HH.named(c), c.id)))),
      field("applications.f.note", el("textarea", { name: "note", rows: 2 }), true),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("applications.f.submit"))));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = form.elements;
      const body = { programme: f.programme.value, tenant: tenantInput ? tenantInput.value.trim() : HH.whoami.tenant,
        basis_cny: f.basis_cny.value, provider: f.provider.value.trim(), city: f.city.value, note: f.note.value };
      if (f.requested_cny.value) body.requested_cny = f.requested_cny.value;
      try {
        const a = await HH.api("/api/v1/programme-applications", { method: "POST", body });
        st.msg = t("applications.submitted", { id: a.id });
        HH.keepInputs.forget(form);  // submitted: the reload draws the form afresh
        await showList(el0);
      } catch (err) {
        HH.showError(slot, err);
      }
    });
    return el("section", { className: "panel section" }, el("h3", {}, t("applications.form.title")), form);
  }
  function withdrawButton(a, slot, after) {
    if (a.status !== "submitted" || !HH.can(WITHDRAW)) return null;
    const b = el("button", { type: "button", className: "small", dataset: { act: "withdraw", application: a.id } }, t("applications.withdraw"));
    b.addEventListener("click", async () => {
      try {
        await HH.api(`/api/v1/programme-applications/${enc(a.id)}/withdraw`, { method: "POST" });
        st.msg = t("applications.withdrawn", { id: a.id });
        await after();
      } catch (err) {
        HH.showError(slot, err);
      }
    });
    return b;
  }
  // The list's, an application's and a programme's reads share one guard (each draws the whole page): only the
  // latest of overlapping reads (a pager click, a submit's or withdraw's reload, another one opened) draws.
  const fresh = HH.latest();
  async function showList(el0) {
    const mine = fresh();
    const [topo, progs, apps, industries] = await Promise.all([HH.topology, HH.api("/api/v1/programmes?status=open&limit=100"),
      HH.api(`/api/v1/programme-applications${HH.query({ limit: 50, offset: st.offset })}`), industriesRead()]);
    if (!mine()) return;  // overtaken: the later read draws
    st.industries = industries;
    const slot = el("div", {});
    const rows = apps.items.map((a) => [el("a", { href: `#applications/${enc(a.id)}`, className: "mono" }, a.id), a.tenant, statusBadge(a.status),
      { text: money(a.basis_cny), className: "num" }, { text: money(a.requested_cny), className: "num" }, { text: money(a.granted_cny), className: "num" },
      a.voucher || "–", HH.time(a.submitted), withdrawButton(a, slot, () => showList(el0))]);
    const table = HH.table([t("applications.col.id"), t("applications.col.tenant"), t("applications.col.status"), { text: t("applications.col.basis"), num: true },
      { text: t("applications.col.requested"), num: true }, { text: t("applications.col.granted"), num: true }, t("applications.col.voucher"),
      t("applications.col.submitted"), ""], rows, t("applications.empty"));
    table.id = "applications-table";
    // a pager click or a withdraw redraws the form too: what was typed and not submitted stays (HH.keepInputs)
    HH.keepInputs(el0, () => el0.replaceChildren(
      el("section", { className: "panel section" },
        el("div", { className: "section-head" }, el("h2", {}, t("applications.title")), el("span", { className: "hint" }, t("applications.hint"))),
        st.msg ? el("p", { className: "ok-line", id: "applications-msg" }, st.msg) : null, slot,
        el("h3", {}, t("applications.programmes")), programmesTable(progs.items),
        el("h3", {}, t("applications.mine")), el("div", { className: "table-wrap" }, table),
        HH.pager(apps, (offset) => { st.offset = offset; showList(el0); })),
      HH.can(APPLY) && progs.items.length ? applyForm(progs.items, topo, slot, el0) : null));
    st.msg = "";
  }
  function kv(pairs) {
    return el("dl", { className: "kv" }, pairs.map(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v == null || v === "" ? "–" : v)]));
  }
  async function showProgramme(id, el0) {
    const mine = fresh();
    const [p, industries] = await Promise.all([HH.api(`/api/v1/programmes/${enc(id)}`), industriesRead()]);
    if (!mine()) return;
    st.industries = industries;
    el0.replaceChildren(el("section", { className: "panel section" },
      el("div", { className: "section-head" }, el("h2", {}, named(p))),
      kv([["applications.p.share", HH.pct(Number(p.share), 0)], ["applications.p.remaining", money(p.remaining_cny)],
        ["applications.p.cap", money(p.cap_enterprise_cny)], ["applications.p.closes", HH.time(p.closes)], ["applications.p.basis", p.basis],
        ["applications.p.sectors", sectorsCell(p.sectors)]]),
      el("p", {}, el("a", { href: "#applications" }, t("applications.detail.back")))));
  }
  async function showOne(id, el0) {
    const mine = fresh();
    const a = await HH.api(`/api/v1/programme-applications/${enc(id)}`);
    if (!mine()) return;
    const slot = el("div", {});
    el0.replaceChildren(el("section", { className: "panel section" },
      el("div", { className: "section-head" }, el("h2", {}, t("applications.detail.title", { id: a.id })), statusBadge(a.status),
        withdrawButton(a, slot, () => showOne(id, el0))),
      st.msg ? el("p", { className: "ok-line" }, st.msg) : null, slot,
      kv([["applications.f.programme", a.programme], ["applications.col.tenant", a.tenant], ["applications.col.basis", money(a.basis_cny)],
        ["applications.col.requested", money(a.requested_cny)], ["applications.col.granted", money(a.granted_cny)],
        ["applications.f.provider", a.provider], ["applications.f.city", a.city], ["applications.col.voucher", a.voucher],
        ["applications.col.submitted", HH.time(a.submitted)]]),
      el("p", {}, el("a", { href: "#applications" }, t("applications.detail.back")))));
    st.msg = "";
  }
  function show(params, el0) {
    if (params[0] === "p" && params[1]) return showProgramme(params[1], el0);
    return params[0] ? showOne(params[0], el0) : showList(el0);
  }

  HH.registerPage({
    name: "applications",
    nav: "applications.nav",
    needs: [LIST],
    calls: [LIST, "GET /api/v1/programme-applications/{application_id}", APPLY, WITHDRAW,
      "GET /api/v1/programmes", "GET /api/v1/programmes/{programme_id}", INDUSTRIES],
    show,
    relang: true,  // a language switch draws it anew (what was typed stays: common.js)
  });
})();
