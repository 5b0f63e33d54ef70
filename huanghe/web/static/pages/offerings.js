/* Offerings (#offerings, #offerings/<id>): the compute product catalogue (算力产品目录, docs/offerings.md). Everyone
   browses it (tenants: the published offerings, cheapest first; operators: also their own drafts and withdrawn
   ones; filters by state, kind and city on the server) and opens one. Operators (their own centers' pools) and
   the platform admin create an offering, change its price, availability and terms (PATCH), publish and
   withdraw it: each button only when the policy lets the caller's role; the server decides the rest. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "offerings.nav": "算力产品",
      "offerings.title": "算力产品目录",
      "offerings.hint": "各运营方发布的算力产品：资源池、价格（元/节点·小时）、可用性、响应时间、安全等级",
      "offerings.f.state": "按状态筛选",
      "offerings.f.kind": "按类型筛选",
      "offerings.f.city": "按城市筛选",
      "offerings.all_states": "全部状态",
      "offerings.all_kinds": "全部类型",
      "offerings.all_cities": "全部城市",
      "offerings.state.draft": "草稿",
      "offerings.state.published": "已发布",
      "offerings.state.withdrawn": "已下架",
      "offerings.col.name": "产品",
      "offerings.col.center": "中心 · 城市",
      "offerings.col.accelerator": "加速卡",
      "offerings.col.nodes": "节点",
      "offerings.col.price": "价格 元/节点·小时",
      "offerings.col.availability": "可用性",
      "offerings.col.response": "响应 分钟",
      "offerings.col.security": "安全等级",
      "offerings.col.state": "状态",
      "offerings.empty": "没有符合条件的算力产品",
      "offerings.open": "查看",
      "offerings.publish": "发布",
      "offerings.withdraw": "下架",
      "offerings.done": "{id}：{state}",
      "offerings.create.title": "新建算力产品",
      "offerings.c.id": "产品 ID（小写字母、数字、-）",
      "offerings.c.pool": "资源池",
      "offerings.c.name_zh": "中文名称",
      "offerings.c.name_en": "英文名称",
      "offerings.c.description": "说明",
      "offerings.c.price": "价格 元/节点·小时",
      "offerings.c.availability": "可用性 %",
      "offerings.c.response": "响应时间 分钟",
      "offerings.c.security": "安全等级（1–5）",
      "offerings.c.submit": "创建草稿",
      "offerings.created": "已创建草稿 {id}",
      "offerings.detail.title": "算力产品 {id}",
      "offerings.detail.operator": "运营方",
      "offerings.detail.description": "说明",
      "offerings.detail.created": "创建",
      "offerings.detail.published": "发布于",
      "offerings.detail.back": "返回目录",
      "offerings.edit.title": "修改价格与服务条款",
      "offerings.edit.submit": "保存",
      "offerings.saved": "已保存",
    },
    en: {
      "offerings.nav": "Offerings",
      "offerings.title": "Compute offerings",
      "offerings.hint": "The operators' compute products: pool, price (CNY per node-hour), availability, response time, security level",
      "offerings.f.state": "Filter by state",
      "offerings.f.kind": "Filter by kind",
      "offerings.f.city": "Filter by city",
      "offerings.all_states": "All states",
      "offerings.all_kinds": "All kinds",
      "offerings.all_cities": "All cities",
      "offerings.state.draft": "Draft",
      "offerings.state.published": "Published",
      "offerings.state.withdrawn": "Withdrawn",
      "offerings.col.name": "Offering",
      "offerings.col.center": "Center · city",
      "offerings.col.accelerator": "Accelerator",
      "offerings.col.nodes": "Nodes",
      "offerings.col.price": "CNY per node-hour",
      "offerings.col.availability": "Availability",
      "offerings.col.response": "Response, min",
      "offerings.col.security": "Security level",
      "offerings.col.state": "State",
      "offerings.empty": "No offering matches",
      "offerings.open": "Open",
      "offerings.publish": "Publish",
      "offerings.withdraw": "Withdraw",
      "offerings.done": "{id}: {state}",
      "offerings.create.title": "New offering",
      "offerings.c.id": "Offering id (lower-case letters, digits, -)",
      "offerings.c.pool": "Pool",
      "offerings.c.name_zh": "Name in Chinese",
      "offerings.c.name_en": "Name in English",
      "offerings.c.description": "Description",
      "offerings.c.price": "CNY per node-hour",
      "offerings.c.availability": "Availability %",
      "offerings.c.response": "Response time, minutes",
      "offerings.c.security": "Security level (1–5)",
      "offerings.c.submit": "Create draft",
      "offerings.created": "Draft {id} created",
      "offerings.detail.title": "Offering {id}",
      "offerings.detail.operator": "Operator",
      "offerings.detail.description": "Description",
      "offerings.detail.created": "Created",
      "offerings.detail.published": "Published",
      "offerings.detail.back": "Back to the catalogue",
      "offerings.edit.title": "Price and terms",
      "offerings.edit.submit": "Save",
      "offerings.saved": "Saved",
    },
  });

  const { t, el, fmt } = HH;
  const LIST = "GET /api/v1/offerings";
  const CREATE = "POST /api/v1/offerings";
  const PATCH = "PATCH /api/v1/offerings/{offering_id}";
  const PUBLISH = "POST /api/v1/offerings/{offering_id}:publish";
  const WITHDRAW = "POST /api/v1/offerings/{offering_id}:withdraw";
  const STATES = ["draft", "published", "withdrawn"];
  const KINDS = ["general", "intelligent", "supercomputing"];
  const st = { filters: { state: "", kind: "", city: "" }, offset: 0, msg: "" };
  const enc = encodeURIComponent;

  function select(key, labelKey, allKey, options) {
    const s = el("select", { name: key, dataset: { keep: "off" } }, new Option(t(allKey), ""), ...options.map(([v, text]) => new Option(text, v)));
    s.setAttribute("aria-label", t(labelKey));
    s.value = st.filters[key];
    s.addEventListener("change", () => { st.filters[key] = s.value; st.offset = 0; showList(s.closest("[data-view]")); });
    return s;
  }
  function field(labelKey, input) {
    return el("label", { className: "field" }, el("span", {}, t(labelKey)), input);
  }
  function stateBadge(state) {
    return el("span", { className: `state offering-${state}`, dataset: { state } }, HH.label("offerings.state", state));
  }
  async function act(o, path, slot, el0) {
    try {
      const done = await HH.api(path, { method: "POST" });
      st.msg = t("offerings.done", { id: done.id, state: HH.label("offerings.state", done.state) });
    } catch (err) {
      HH.showError(slot, err);
      return;
    }
    await show(HH.params || [], el0);
  }
  function actions(o, slot, el0) {
    const out = [];
    if (o.state !== "published" && HH.can(PUBLISH)) {
      const b = el("button", { type: "button", className: "small", dataset: { act: "publish", offering: o.id } }, t("offerings.publish"));
      b.addEventListener("click", () => act(o, `/api/v1/offerings/${enc(o.id)}:publish`, slot, el0));
      out.push(b);
    }
    if (o.state === "published" && HH.can(WITHDRAW)) {
      const b = el("button", { type: "button", className: "small", dataset: { act: "withdraw", offering: o.id } }, t("offerings.withdraw"));
      b.addEventListener("click", () => act(o, `/api/v1/offerings/${enc(o.id)}:withdraw`, slot, el0));
      out.push(b);
    }
    return el("span", { className: "actions" }, out);
  }
  function createForm(topo, slot, el0) {
    const mine = HH.whoami && HH.whoami.role === "operator" ? new Set(HH.whoami.centers || []) : null;
    const pools = (topo ? topo.centers : []).filter((c) => !mine || mine.has(c.id)).flatMap((c) => c.pools.map((p) => [p.id, `${p.id} (${HH.named(c)})`]));
    const input = (name, type, extra) => el("input", Object.assign({ name, type, required: true }, extra || {}));
    const form = el("form", { className: "job-form", id: "offering-form", noValidate: true },
      field("offerings.c.id", input("id", "text")),
      field("offerings.c.pool", el("select", { name: "pool" }, ...pools.map(([v, text]) => new Option(text, v)))),
      field("offerings.c.name_zh", input("name_zh", "text")), field("offerings.c.name_en", input("name_en", "text")),
      field("offerings.c.price", input("price_cny_per_node_hour", "number", { step: "any", min: 0 })),
      field("offerings.c.availability", input("availability_pct", "number", { step: "any", value: "99.5" })),
      field("offerings.c.response", input("response_minutes", "number", { step: 1, value: "30" })),
      field("offerings.c.security", input("security_level", "number", { step: 1, min: 1, max: 5, value: "3" })),
      el("label", { className: "field wide" }, el("span", {}, t("offerings.c.description")), el("textarea", { name: "description", rows: 2 })),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("offerings.c.submit"))));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = form.elements;
      const body = { id: f.id.value.trim(), pool: f.pool.value, name_zh: f.name_zh.value.trim(), name_en: f.name_en.value.trim(),
        description: f.description.value, price_cny_per_node_hour: f.price_cny_per_node_hour.value,
        availability_pct: f.availability_pct.value, response_minutes: Number(f.response_minutes.value), security_level: Number(f.security_level.value) };
      try {
        const o = await HH.api("/api/v1/offerings", { method: "POST", body });
        st.msg = t("offerings.created", { id: o.id });
        HH.keepInputs.forget(form);  // created: the reload draws the form afresh
        await show([], el0);
      } catch (err) {
        HH.showError(slot, err);
      }
    });
    return el("section", { className: "panel section" }, el("h3", {}, t("offerings.create.title")), form);
  }
  // The list's and an offering's reads share one guard (each draws the whole page): only the latest of overlapping
  // reads (a filter or pager change, a create's, publish's, withdraw's or save's reload, another one opened) draws.
  const fresh = HH.latest();
  async function showList(el0) {
    const mine = fresh();
    const [topo, page] = await Promise.all([HH.topology,
      HH.api(`/api/v1/offerings${HH.query(Object.assign({ limit: 50, offset: st.offset }, st.filters))}`)]);
    if (!mine()) return;  // overtaken: the later read draws
    const slot = el("div", {});
    const cities = topo ? topo.cities.map((c) => [c.id, HH.named(c)]) : [];
    const rows = page.items.map((o) => [
      el("a", { href: `#offerings/${enc(o.id)}` }, HH.lang === "en" ? o.name_en : o.name_zh),
      { text: `${HH.lang === "en" ? o.center_name_en : o.center_name_zh} · ${HH.lang === "en" ? o.city_name_en : o.city_name_zh}`, className: "wrap" },
      o.accelerator || o.accelerator_class, { text: fmt(o.nodes), className: "num" },
      { text: HH.money(Number(o.price_cny_per_node_hour)), className: "num" }, { text: `${fmt(Number(o.availability_pct), 2)} %`, className: "num" },
      { text: fmt(o.response_minutes), className: "num" }, { text: fmt(o.security_level), className: "num" }, stateBadge(o.state), actions(o, slot, el0)]);
    const table = HH.table([t("offerings.col.name"), t("offerings.col.center"), t("offerings.col.accelerator"), { text: t("offerings.col.nodes"), num: true },
      { text: t("offerings.col.price"), num: true }, { text: t("offerings.col.availability"), num: true }, { text: t("offerings.col.response"), num: true },
      { text: t("offerings.col.security"), num: true }, t("offerings.col.state"), ""], rows, t("offerings.empty"));
    table.id = "offerings-table";
    // a filter, pager, publish or withdraw reload redraws the create form too: what was typed and not sent stays
    HH.keepInputs(el0, () => el0.replaceChildren(
      el("section", { className: "panel section" },
        el("div", { className: "section-head" }, el("h2", {}, t("offerings.title")), el("span", { className: "hint" }, t("offerings.hint"))),
        el("div", { className: "filters" },
          select("state", "offerings.f.state", "offerings.all_states", STATES.map((s) => [s, HH.label("offerings.state", s)])),
          select("kind", "offerings.f.kind", "offerings.all_kinds", KINDS.map((k) => [k, t("kind." + k)])),
          select("city", "offerings.f.city", "offerings.all_cities", cities)),
        st.msg ? el("p", { className: "ok-line", id: "offerings-msg" }, st.msg) : null, slot,
        el("div", { className: "table-wrap" }, table),
        HH.pager(page, (offset) => { st.offset = offset; showList(el0); })),
      HH.can(CREATE) ? createForm(topo, slot, el0) : null));
    st.msg = "";
  }
  async function showOne(id, el0) {
    const mine = fresh();
    const o = await HH.api(`/api/v1/offerings/${enc(id)}`);
    if (!mine()) return;
    const slot = el("div", {});
    const kv = (pairs) => el("dl", { className: "kv" }, pairs.map(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v == null || v === "" ? "–" : v)]));
    const parts = [el("div", { className: "section-head" }, el("h2", {}, t("offerings.detail.title", { id: o.id })), stateBadge(o.state), actions(o, slot, el0)),
      st.msg ? el("p", { className: "ok-line" }, st.msg) : null, slot,
      kv([["offerings.col.name", `${o.name_zh} · ${o.name_en}`], ["offerings.col.center", `${HH.lang === "en" ? o.center_name_en : o.center_name_zh} (${o.pool})`],
        ["offerings.detail.operator", o.operator], ["offerings.col.accelerator", `${o.accelerator || o.accelerator_class} × ${fmt(o.gpus_per_node)}, ${fmt(o.cpus_per_node)} CPU, ${fmt(o.mem_gb_per_node)} GB`],
        ["offerings.col.nodes", fmt(o.nodes)], ["offerings.col.price", HH.money(Number(o.price_cny_per_node_hour))],
        ["offerings.col.availability", `${fmt(Number(o.availability_pct), 2)} %`], ["offerings.col.response", fmt(o.response_minutes)],
        ["offerings.col.security", fmt(o.security_level)], ["offerings.detail.description", o.description],
        ["offerings.detail.created", HH.time(o.created_s)], ["offerings.detail.published", HH.time(o.published_s)]])];
    if (HH.can(PATCH)) {
      const num = (name, value, labelKey) => field(labelKey, el("input", { name, type: "number", step: "any", value: String(value) }));
      const form = el("form", { className: "job-form", id: "offering-edit", noValidate: true, dataset: { keep: `offering-edit/${o.id}` } },
        num("price_cny_per_node_hour", o.price_cny_per_node_hour, "offerings.c.price"), num("availability_pct", o.availability_pct, "offerings.c.availability"),
        num("response_minutes", o.response_minutes, "offerings.c.response"), num("security_level", o.security_level, "offerings.c.security"),
        el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("offerings.edit.submit"))));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const f = form.elements;
        try {
          await HH.api(`/api/v1/offerings/${enc(o.id)}`, { method: "PATCH", body: { price_cny_per_node_hour: f.price_cny_per_node_hour.value,
            availability_pct: f.availability_pct.value, response_minutes: Number(f.response_minutes.value), security_level: Number(f.security_level.value) } });
          st.msg = t("offerings.saved");
          HH.keepInputs.forget(form);  // saved: the reload shows the offering's values
          await showOne(id, el0);
        } catch (err) {
          HH.showError(slot, err);
        }
      });
      parts.push(el("h3", {}, t("offerings.edit.title")), form);
    }
    parts.push(el("p", {}, el("a", { href: "#offerings" }, t("offerings.detail.back"))));
    // a publish's or withdraw's reload keeps this offering's typed, unsaved values (another offering: its own)
    HH.keepInputs(el0, () => el0.replaceChildren(el("section", { className: "panel section" }, parts)));
    st.msg = "";
  }
  function show(params, el0) {
    return params[0] ? showOne(params[0], el0) : showList(el0);
  }

  HH.registerPage({
    name: "offerings",
    nav: "offerings.nav",
    needs: [LIST],
    calls: [LIST, "GET /api/v1/offerings/{offering_id}", CREATE, PATCH, PUBLISH, WITHDRAW],
    show,
    relang: true,  // a language switch draws it anew (what was typed stays: common.js)
  });
})();
