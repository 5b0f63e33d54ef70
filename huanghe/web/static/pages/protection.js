/* Protection (#protection): the protection catalog of important and core data (重要数据保护目录, docs/security.md):
   per dataset its class, owner, home (location), the centers where it may be copied or used and the purpose
   (GET /api/v1/protection, paged); the regulator and the platform admin add an entry (POST /api/v1/protection):
   the residency rules of every copy then follow it (core data: nowhere but home unless a center is listed). */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "protection.nav": "数据保护",
      "protection.title": "重要数据保护目录",
      "protection.hint": "重要数据、核心数据的登记：每个副本只能存放在允许的中心",
      "protection.col.dataset": "数据集",
      "protection.col.class": "级别",
      "protection.col.owner": "责任方",
      "protection.col.location": "所在中心",
      "protection.col.allowed": "允许的中心",
      "protection.col.purpose": "用途",
      "protection.empty": "目录为空",
      "protection.only_home": "仅所在中心",
      "protection.class.general": "一般数据",
      "protection.class.important": "重要数据",
      "protection.class.core": "核心数据",
      "protection.form.title": "登记数据集",
      "protection.f.dataset": "数据集 ID",
      "protection.f.owner": "责任方",
      "protection.f.allowed": "允许的中心（可多选，不选 = 仅所在中心）",
      "protection.f.purpose": "用途",
      "protection.f.submit": "登记",
      "protection.added": "已登记 {id}",
    },
    en: {
      "protection.nav": "Protection",
      "protection.title": "Protection catalog of important data",
      "protection.hint": "Important and core datasets: every copy only at an allowed center",
      "protection.col.dataset": "Dataset",
      "protection.col.class": "Class",
      "protection.col.owner": "Owner",
      "protection.col.location": "Home center",
      "protection.col.allowed": "Allowed centers",
      "protection.col.purpose": "Purpose",
      "protection.empty": "The catalog is empty",
      "protection.only_home": "home center only",
      "protection.class.general": "General",
      "protection.class.important": "Important",
      "protection.class.core": "Core",
      "protection.form.title": "Register a dataset",
      "protection.f.dataset": "Dataset id",
      "protection.f.owner": "Owner",
      "protection.f.allowed": "Allowed centers (several; none = home center only)",
      "protection.f.purpose": "Purpose",
      "protection.f.submit": "Register",
      "protection.added": "{id} registered",
    },
  });

  const { t, el } = HH;
  const LIST = "GET /api/v1/protection";
  const ADD = "POST /api/v1/protection";
  const st = { offset: 0, msg: "" };

  function centerName(topo, id) {
    const c = topo && topo.centers.find((x) => x.id === id);
    return c ? HH.named(c) : id;
  }
  function form(topo, slot, el0) {
    const label = (key, input) => el("label", { className: "field" }, el("span", {}, t(key)), input);
    const allowed = el("select", { name: "allowed_centers", multiple: true, size: 6 },
      ...(topo ? topo.centers : []).map((c) => new Option(`${HH.named(c)} (${c.id})`, c.id)));
    const f = el("form", { className: "job-form", id: "protection-form", noValidate: true },
      label("protection.f.dataset", el("input", { name: "dataset", type: "text", required: true })),
      label("protection.f.owner", el("input", { name: "owner", type: "text", required: true })),
      label("protection.f.allowed", allowed),
      label("protection.f.purpose", el("textarea", { name: "purpose", rows: 3, required: true })),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("protection.f.submit"))));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { dataset: f.elements.dataset.value.trim(), owner: f.elements.owner.value.trim(),
        allowed_centers: [...allowed.selectedOptions].map((o) => o.value), purpose: f.elements.purpose.value.trim() };
      try {
        const entry = await HH.api("/api/v1/protection", { method: "POST", body });
        st.msg = t("protection.added", { id: entry.dataset });
        HH.keepInputs.forget(f);  // added: the reload draws the form afresh
        await show([], el0);
      } catch (err) {
        HH.showError(slot, err);
      }
    });
    return el("section", { className: "panel section" }, el("h3", {}, t("protection.form.title")), f);
  }
  const fresh = HH.latest();  // overlapping reads (a pager click, an addition's reload): only the latest draws
  async function show(params, el0) {
    const mine = fresh();
    const [topo, page] = await Promise.all([HH.topology, HH.api(`/api/v1/protection${HH.query({ limit: 50, offset: st.offset })}`)]);
    if (!mine()) return;  // overtaken: the later read draws
    const slot = el("div", {});
    const rows = page.items.map((p) => [{ text: p.dataset, className: "mono" }, HH.label("protection.class", p.data_class), { text: p.owner, className: "wrap" },
      centerName(topo, p.location), { text: p.allowed_centers.length ? p.allowed_centers.map((c) => centerName(topo, c)).join("、") : t("protection.only_home"), className: "wrap" },
      { text: p.purpose, className: "wrap" }]);
    const table = HH.table([t("protection.col.dataset"), t("protection.col.class"), t("protection.col.owner"), t("protection.col.location"),
      t("protection.col.allowed"), t("protection.col.purpose")], rows, t("protection.empty"));
    table.id = "protection-table";
    // a pager click redraws the form too: what was typed and not sent stays (HH.keepInputs)
    HH.keepInputs(el0, () => el0.replaceChildren(
      el("section", { className: "panel section" },
        el("div", { className: "section-head" }, el("h2", {}, t("protection.title")), el("span", { className: "hint" }, t("protection.hint"))),
        st.msg ? el("p", { className: "ok-line", id: "protection-msg" }, st.msg) : null, slot,
        el("div", { className: "table-wrap" }, table),
        HH.pager(page, (offset) => { st.offset = offset; show(params, el0); })),
      HH.can(ADD) ? form(topo, slot, el0) : null));
    st.msg = "";
  }

  HH.registerPage({ name: "protection", nav: "protection.nav", needs: [LIST], calls: [LIST, ADD], show, relang: true });
})();
