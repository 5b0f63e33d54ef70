/* Budgets (#budgets): a tenant's monthly GPU-hour quota and budget (CNY) with what it used this month (UTC),
   its data quotas (bytes per storage endpoint) and this month's metered jobs. Platform admin and regulator: every
   tenant's quota in a table, one tenant opened at a time; the platform admin sets a tenant's limits. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "budgets.nav": "配额与预算",
      "budgets.title": "配额与预算",
      "budgets.hint": "每月（UTC）的加速卡小时配额和费用预算，超出时拒绝提交作业",
      "budgets.tenant": "租户",
      "budgets.month": "本月 {month}",
      "budgets.gpu": "加速卡小时",
      "budgets.budget": "费用预算",
      "budgets.used_of": "已用 {used} / 上限 {limit}",
      "budgets.unlimited": "不限",
      "budgets.used_only": "已用 {used}（不限额）",
      "budgets.data.title": "数据存储配额",
      "budgets.data.endpoint": "存储端点",
      "budgets.data.all": "全部端点合计",
      "budgets.data.limit": "上限",
      "budgets.data.used": "已用",
      "budgets.data.left": "剩余",
      "budgets.data.empty": "没有数据配额",
      "budgets.data.actions": "操作",
      "budgets.data.delete": "删除",
      "budgets.data.confirm": "确认删除",
      "budgets.data.cancel": "取消",
      "budgets.data.deleted": "已删除 {endpoint} 的数据配额",
      "budgets.data.limit_gib": "上限 GiB",
      "budgets.data.save": "设置数据配额",
      "budgets.data.saved": "已设置 {endpoint} 的数据配额",
      "budgets.usage.title": "本月已计量的作业",
      "budgets.usage.job": "作业",
      "budgets.usage.pool": "资源池",
      "budgets.usage.gpu_hours": "加速卡小时",
      "budgets.usage.node_hours": "节点小时",
      "budgets.usage.cost": "费用",
      "budgets.usage.carbon": "碳排放 kg",
      "budgets.usage.empty": "本月还没有计量的作业",
      "budgets.all.title": "各租户本月用量",
      "budgets.all.open": "查看",
      "budgets.set.title": "设置 {tenant} 的限额（平台管理员）",
      "budgets.set.gpu": "每月加速卡小时（空 = 不限）",
      "budgets.set.budget": "每月预算 元（空 = 不限）",
      "budgets.set.save": "保存限额",
      "budgets.set.saved": "已保存 {tenant} 的限额",
      "budgets.pick": "选择租户",
    },
    en: {
      "budgets.nav": "Budgets",
      "budgets.title": "Quotas and budgets",
      "budgets.hint": "Monthly (UTC) GPU-hour quota and spending budget; jobs beyond them are refused",
      "budgets.tenant": "Tenant",
      "budgets.month": "This month {month}",
      "budgets.gpu": "GPU-hours",
      "budgets.budget": "Budget",
      "budgets.used_of": "{used} used of {limit}",
      "budgets.unlimited": "Unlimited",
      "budgets.used_only": "{used} used (no limit)",
      "budgets.data.title": "Data storage quotas",
      "budgets.data.endpoint": "Storage endpoint",
      "budgets.data.all": "All endpoints together",
      "budgets.data.limit": "Limit",
      "budgets.data.used": "Used",
      "budgets.data.left": "Left",
      "budgets.data.empty": "No data quotas",
      "budgets.data.actions": "Actions",
      "budgets.data.delete": "Delete",
      "budgets.data.confirm": "Confirm delete",
      "budgets.data.cancel": "Cancel",
      "budgets.data.deleted": "Data quota on {endpoint} deleted",
      "budgets.data.limit_gib": "Limit, GiB",
      "budgets.data.save": "Set the data quota",
      "budgets.data.saved": "Data quota on {endpoint} set",
      "budgets.usage.title": "Jobs metered this month",
      "budgets.usage.job": "Job",
      "budgets.usage.pool": "Pool",
      "budgets.usage.gpu_hours": "GPU-hours",
      "budgets.usage.node_hours": "Node-hours",
      "budgets.usage.cost": "Cost",
      "budgets.usage.carbon": "Carbon kg",
      "budgets.usage.empty": "No job metered this month yet",
      "budgets.all.title": "Every tenant this month",
      "budgets.all.open": "Open",
      "budgets.set.title": "Set the limits of {tenant} (platform admin)",
      "budgets.set.gpu": "GPU-hours per month (empty = unlimited)",
      "budgets.set.budget": "Budget per month, CNY (empty = unlimited)",
      "budgets.set.save": "Save limits",
      "budgets.set.saved": "Limits of {tenant} saved",
      "budgets.pick": "Choose a tenant",
    },
  });

  const { t, el } = HH;
  const QUOTA = "GET /api/v1/quotas/{tenant_id}";
  const SET = "PUT /api/v1/quotas/{tenant_id}";
  const DATA = "GET /api/v1/data-quotas";
  const DATA_SET = "PUT /api/v1/data-quotas/{tenant_id}/{endpoint_id}";
  const DATA_DELETE = "DELETE /api/v1/data-quotas/{tenant_id}/{endpoint_id}";
  const ENDPOINTS = "GET /api/v1/storage-endpoints";
  const TENANT = "GET /api/v1/tenants/{item_id}";
  const USAGE = "GET /api/v1/usage";
  const TENANTS = "GET /api/v1/tenants";
  const st = { tenant: "", quota: null, data: null, usage: null, all: [], tenants: [], endpoints: [], error: null, note: "",
    usageOffset: 0, dataConfirm: null, allOffset: 0 };
  const ALL_LIMIT = 20;  // tenants whose quota is read at a time (one request each)
  const GIB = 1024 ** 3;
  let root = null;

  function failure(err) {
    if (err instanceof HH.ApiError && !err.authNeeded) {
      const text = err.detail.map((d) => (d.path ? `${String(d.path).replace(/^body\./, "")}: ${d.message}` : d.message)).join("; ");
      return el("div", { className: "alert" }, t("error.request", { detail: text }));
    }
    return HH.errorBox(err);
  }
  const bytes = (n) => {
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let v = Number(n);
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
    return `${HH.sig(v, 3)} ${units[i]}`;
  };

  const fresh = HH.latest();
  /** Read what the page shows, then draw it: only the latest of overlapping loads (a refresh, a save's reload)
      stores its answers and draws, so an older answer never replaces a newer one. */
  async function load() {
    const mine = fresh();
    const got = { tenant: st.tenant, tenants: st.tenants, endpoints: st.endpoints, all: st.all, quota: null, data: null, usage: null };
    let error = null;
    try {
      const me = HH.whoami;
      if (me && me.tenant) {
        got.tenant = me.tenant;
        if (!got.tenants.length && HH.can(TENANT)) got.tenants = [await HH.api(`/api/v1/tenants/${encodeURIComponent(me.tenant)}`)];
      }
      if (HH.can(DATA_SET) && HH.can(ENDPOINTS) && !got.endpoints.length) {
        got.endpoints = (await HH.api("/api/v1/storage-endpoints?limit=1000")).items;
      }
      if (HH.can(TENANTS)) {
        if (!got.tenants.length) got.tenants = (await HH.api("/api/v1/tenants?limit=1000")).items;
        const shown = got.tenants.slice(st.allOffset, st.allOffset + ALL_LIMIT);
        got.all = await Promise.all(shown.map((x) => HH.api(`/api/v1/quotas/${encodeURIComponent(x.id)}`)));
        if (!got.tenant && got.tenants.length) got.tenant = got.tenants[0].id;
      }
      got.quota = got.tenant ? await HH.api(`/api/v1/quotas/${encodeURIComponent(got.tenant)}`) : null;
      got.data = HH.can(DATA) && got.tenant ? await HH.api("/api/v1/data-quotas" + HH.query({ tenant: got.tenant, limit: 100 })) : null;
      got.usage = HH.can(USAGE) && got.quota
        ? await HH.api("/api/v1/usage" + HH.query({ tenant: got.tenant, month: got.quota.month, limit: 20, offset: st.usageOffset })) : null;
    } catch (err) {
      error = err;
    }
    if (!mine()) return;  // overtaken: the later load draws
    Object.assign(st, error ? { error } : { ...got, error: null });  // a failed load keeps what was shown
    render();
  }

  /** One limit: the used amount, the limit (or "unlimited") and a bar of the share used. */
  function meter(kind, used, limit, show) {
    const share = limit == null ? null : limit > 0 ? used / limit : used > 0 ? 1 : 0;
    const text = limit == null ? t("budgets.used_only", { used: show(used) }) : t("budgets.used_of", { used: show(used), limit: show(limit) });
    const bar = el("div", { className: "bar", role: "progressbar", ariaLabel: t(`budgets.${kind}`),
      ariaValueMin: "0", ariaValueMax: "100", ariaValueNow: share == null ? "0" : String(Math.round(Math.min(share, 1) * 100)) },
    el("div", { className: "fill" + (share != null && share > 0.9 ? " over" : " met"), style: `width:${share == null ? 0 : Math.min(share, 1) * 100}%` }));
    return el("div", { className: "card budget-card", dataset: { kind } },
      el("div", { className: "card-label" }, t(`budgets.${kind}`)),
      el("div", { className: "card-value" }, share == null ? t("budgets.unlimited") : HH.pct(share)),
      el("div", { className: "card-sub" }, text), share == null ? null : bar);
  }
  function quotaSection() {
    const q = st.quota;
    if (!q) return null;
    const name = (st.tenants.find((x) => x.id === q.tenant) || {}).name;
    return el("section", { className: "panel section", id: "budgets-quota", dataset: { tenant: q.tenant } },
      el("div", { className: "section-head" }, el("h3", {}, `${t("budgets.tenant")}: ${name ? `${name} (${q.tenant})` : q.tenant}`),
        el("span", { className: "hint" }, t("budgets.month", { month: q.month }))),
      el("div", { className: "cards budget-cards" },
        meter("gpu", q.used_gpu_hours, q.gpu_hours_per_month, (v) => HH.sig(v, 4)),
        meter("budget", Number(q.used_cny), q.budget_cny_per_month == null ? null : Number(q.budget_cny_per_month), HH.money)),
      setForm(q));
  }
  function setForm(q) {
    if (!HH.can(SET)) return null;
    const gpu = el("input", { name: "gpu_hours_per_month", type: "number", min: "0", step: "any", value: q.gpu_hours_per_month == null ? "" : q.gpu_hours_per_month });
    const budget = el("input", { name: "budget_cny_per_month", type: "number", min: "0", step: "0.01", value: q.budget_cny_per_month == null ? "" : q.budget_cny_per_month });
    const errors = el("div", { className: "wide" });
    const form = el("form", { className: "adm-form", id: "budgets-set", noValidate: true, dataset: { keep: `budgets-set/${q.tenant}` } },
      el("label", { className: "field" }, el("span", {}, t("budgets.set.gpu")), gpu),
      el("label", { className: "field" }, el("span", {}, t("budgets.set.budget")), budget),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("budgets.set.save"))), errors);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = {
        gpu_hours_per_month: gpu.value.trim() === "" ? null : Number(gpu.value),
        budget_cny_per_month: budget.value.trim() === "" ? null : budget.value.trim(),
      };
      try {
        await HH.api(`/api/v1/quotas/${encodeURIComponent(q.tenant)}`, { method: "PUT", body });
        st.note = t("budgets.set.saved", { tenant: q.tenant });
        HH.keepInputs.forget(form);  // saved: the reload shows the limits the server holds
        await load();
      } catch (err) {
        errors.replaceChildren(failure(err));
      }
    });
    return el("div", {}, el("h3", {}, t("budgets.set.title", { tenant: q.tenant })), form);
  }
  const dataPath = (d) => `/api/v1/data-quotas/${encodeURIComponent(d.tenant)}/${encodeURIComponent(d.endpoint)}`;
  async function dataAct(fn, noteKey, endpoint) {
    try {
      await fn();
      st.note = t(noteKey, { endpoint });
    } catch (err) {
      st.error = err;
    }
    st.dataConfirm = null;
    await load();
  }
  /** Remove a data quota (platform admin), confirmed in its row. */
  function dataActions(d) {
    if (!HH.can(DATA_DELETE)) return null;
    if (st.dataConfirm === d.endpoint) {
      const yes = el("button", { type: "button", className: "small danger-text", dataset: { act: "confirm" } }, t("budgets.data.confirm"));
      const no = el("button", { type: "button", className: "small", dataset: { act: "cancel" } }, t("budgets.data.cancel"));
      yes.addEventListener("click", () => dataAct(() => HH.api(dataPath(d), { method: "DELETE" }), "budgets.data.deleted", d.endpoint));
      no.addEventListener("click", () => { st.dataConfirm = null; render(); });
      return el("span", { className: "actions" }, yes, no);
    }
    const b = el("button", { type: "button", className: "small", dataset: { act: "delete", endpoint: d.endpoint } }, t("budgets.data.delete"));
    b.addEventListener("click", () => { st.dataConfirm = d.endpoint; render(); });
    return b;
  }
  /** Set a data quota of the open tenant (platform admin): one endpoint or all together (*), GiB. */
  function dataForm() {
    if (!HH.can(DATA_SET) || !st.tenant) return null;
    const endpoint = el("select", { name: "endpoint" }, new Option(t("budgets.data.all"), "*"),
      st.endpoints.map((e) => new Option(e.id, e.id)));
    const limit = el("input", { name: "limit_gib", type: "number", min: "0", step: "any" });
    const errors = el("div", { className: "wide" });
    const form = el("form", { className: "adm-form", id: "budgets-data-set", noValidate: true, dataset: { keep: `budgets-data/${st.tenant}` } },
      el("label", { className: "field" }, el("span", {}, t("budgets.data.endpoint")), endpoint),
      el("label", { className: "field" }, el("span", {}, t("budgets.data.limit_gib")), limit),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("budgets.data.save"))), errors);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { limit_bytes: limit.value.trim() === "" ? -1 : Math.round(Number(limit.value) * GIB) };
      try {
        await HH.api(dataPath({ tenant: st.tenant, endpoint: endpoint.value }), { method: "PUT", body });
        st.note = t("budgets.data.saved", { endpoint: endpoint.value });
        HH.keepInputs.forget(form);  // saved: the reload draws the form afresh
        await load();
      } catch (err) {
        errors.replaceChildren(failure(err));
      }
    });
    return form;
  }
  function dataSection() {
    if (!st.data) return null;
    const admin = HH.can(DATA_DELETE);
    const rows = st.data.items.map((d) => [
      d.endpoint === "*" ? t("budgets.data.all") : { text: d.endpoint, className: "mono" },
      { text: bytes(d.limit_bytes), className: "num" }, { text: bytes(d.used_bytes), className: "num" }, { text: bytes(d.left_bytes), className: "num" },
      ...(admin ? [dataActions(d)] : []),
    ]);
    const cols = [t("budgets.data.endpoint"), { text: t("budgets.data.limit"), num: true },
      { text: t("budgets.data.used"), num: true }, { text: t("budgets.data.left"), num: true }, ...(admin ? [t("budgets.data.actions")] : [])];
    const table = HH.table(cols, rows, t("budgets.data.empty"));
    table.id = "budgets-data";
    st.data.items.forEach((d, i) => { table.tBodies[0].rows[i].dataset.endpoint = d.endpoint; });
    return el("section", { className: "panel section" }, el("h3", {}, t("budgets.data.title")),
      el("div", { className: "table-wrap" }, table), dataForm());
  }
  function usageSection() {
    if (!st.usage) return null;
    const rows = st.usage.items.map((u) => [
      { text: u.job_id, className: "mono" }, { text: u.pool, className: "mono" }, { text: HH.sig(u.gpu_hours, 4), className: "num" },
      { text: HH.sig(u.node_hours, 4), className: "num" }, { text: HH.money(Number(u.cost_cny)), className: "num" }, { text: HH.sig(u.carbon_kg, 3), className: "num" },
    ]);
    const cols = [t("budgets.usage.job"), t("budgets.usage.pool"), ...["gpu_hours", "node_hours", "cost", "carbon"].map((k) => ({ text: t(`budgets.usage.${k}`), num: true }))];
    return el("section", { className: "panel section" }, el("h3", {}, t("budgets.usage.title")),
      el("div", { className: "table-wrap" }, HH.table(cols, rows, t("budgets.usage.empty"))),
      HH.pager(st.usage, (off) => { st.usageOffset = off; load(); }));
  }
  function allSection() {
    if (!HH.can(TENANTS) || !st.all.length) return null;
    const rows = st.all.map((q) => {
      const open = el("button", { type: "button", className: "small", dataset: { tenant: q.tenant } }, t("budgets.all.open"));
      open.addEventListener("click", () => { st.tenant = q.tenant; st.usageOffset = 0; st.note = ""; load(); });
      return [{ text: q.tenant, className: "mono" },
        { text: `${HH.sig(q.used_gpu_hours, 4)} / ${q.gpu_hours_per_month == null ? t("budgets.unlimited") : HH.sig(q.gpu_hours_per_month, 4)}`, className: "num" },
        { text: `${HH.money(Number(q.used_cny))} / ${q.budget_cny_per_month == null ? t("budgets.unlimited") : HH.money(Number(q.budget_cny_per_month))}`, className: "num" },
        open];
    });
    const table = HH.table([t("budgets.tenant"), { text: t("budgets.gpu"), num: true }, { text: t("budgets.budget"), num: true }, t("budgets.all.open")], rows);
    table.id = "budgets-all";
    const page = { items: st.all, total: st.tenants.length, limit: ALL_LIMIT, offset: st.allOffset };
    return el("section", { className: "panel section" }, el("h3", {}, t("budgets.all.title")), el("div", { className: "table-wrap" }, table),
      st.tenants.length > ALL_LIMIT ? HH.pager(page, (off) => { st.allOffset = off; load(); }) : null);
  }

  /** Draw the page; what was typed into a form of the open tenant and not saved stays (HH.keepInputs: a pager,
      a delete or a refresh redraws it; another tenant's forms start afresh). */
  function render() {
    if (root) HH.keepInputs(root, draw);
  }
  function draw() {
    root.replaceChildren(
      el("div", { className: "section-head" }, el("h2", {}, t("budgets.title")), el("span", { className: "hint" }, t("budgets.hint"))),
      st.error ? failure(st.error) : "", st.note ? el("div", { className: "ok-line", role: "status" }, st.note) : "",
      allSection() || "", quotaSection() || "", dataSection() || "", usageSection() || "");
  }

  HH.registerPage({
    name: "budgets",
    nav: "budgets.nav",
    needs: [QUOTA],
    calls: [QUOTA, SET, DATA, DATA_SET, DATA_DELETE, ENDPOINTS, USAGE, TENANTS, TENANT],
    show(params, elem) {
      root = elem;
      st.note = "";
      st.dataConfirm = null;
      return load();
    },
  });
  HH.onLang(() => { if (HH.view === "budgets") render(); });
})();
