/* Parts of the Storage page (pages/storage.js keeps the state and makes every API call): its DOM drawn from its
   state: the endpoint and policy forms, the endpoints' and policies' tables, one endpoint's details. Registered
   as HH.storageView(st, host, on): `st` the page's state, `host()` its element, `on` its actions {save,
   savePolicy, cancelEdit(), show(id), edit(endpoint), remove(id), removePolicy(id), closeDetail()}; answers
   {nodes() (the page's sections, built once), applyTexts(), render(), renderDetail(), renderPolicies()}.
   Capacities are bytes in the API, GiB here; idle times and ages seconds in the API, days here. */
(function () {
  "use strict";

  const { t, el } = HH;
  const GIB = 1024 ** 3;  // bytes
  const DAY = 86400;  // seconds
  const bytes = (n) => (n == null ? "–" : `${HH.fmt(n / GIB, 1)} GiB`);

  HH.storageView = function (st, host, on) {
    const q = (sel) => host().querySelector(sel);
    function field(name, labelKey, input) {
      input.name = name;
      const check = input.type === "checkbox";
      return el("label", { className: check ? "field check" : "field" },
        el("span", { dataset: { t: labelKey } }), input, el("small", { className: "field-error", dataset: { errorFor: name } }));
    }
    function select(values, prefix) {
      return el("select", {}, ...values.map((v) => el("option", { value: v, dataset: { t: prefix + v } })));
    }
    /** The page's sections, with empty tables (render() fills them). */
    function nodes() {
      const form = el("form", { className: "storage-form", noValidate: true, autocomplete: "off" },
        field("id", "storage.f.id", el("input", { type: "text", maxLength: 64 })),
        field("center", "storage.f.center", el("input", { type: "text", maxLength: 64 })),
        field("temperature", "storage.f.temperature", select(["hot", "warm", "cold"], "storage.t.")),
        field("medium", "storage.f.medium", select(["flash", "hdd", "tape", "optical"], "storage.m.")),
        field("url", "storage.f.url", el("input", { type: "text", maxLength: 500 })),
        field("bucket", "storage.f.bucket", el("input", { type: "text", maxLength: 63 })),
        field("access_key_secret", "storage.f.access", el("input", { type: "text", maxLength: 64 })),
        field("secret_key_secret", "storage.f.secret", el("input", { type: "text", maxLength: 64 })),
        field("capacity_bytes", "storage.f.capacity", el("input", { type: "number", min: 0, step: "any" })),
        field("drained", "storage.f.drained", el("input", { type: "checkbox" })),
        field("reason", "storage.f.reason", el("input", { type: "text", maxLength: 500 })),
        el("div", { className: "form-actions" },
          el("button", { type: "submit", className: "primary", id: "storage-save" }),
          el("button", { type: "button", className: "small", id: "storage-cancel", hidden: true }),
          el("span", { className: "form-status", id: "storage-form-status", role: "status" })),
        el("div", { id: "storage-form-error" }));
      form.addEventListener("submit", on.save);
      form.querySelector("#storage-cancel").addEventListener("click", () => on.cancelEdit());
      const pform = el("form", { className: "policy-form", noValidate: true, autocomplete: "off" },
        field("id", "storage.p.f.id", el("input", { type: "text", maxLength: 64 })),
        field("tenant", "storage.p.f.tenant", el("input", { type: "text", maxLength: 64 })),
        field("from_temperature", "storage.p.f.from", select(["hot", "warm"], "storage.t.")),
        field("to_temperature", "storage.p.f.to", select(["warm", "cold"], "storage.t.")),
        field("idle_s", "storage.p.col.idle", el("input", { type: "number", min: 0, step: "any", value: "30" })),
        field("min_age_s", "storage.p.col.age", el("input", { type: "number", min: 0, step: "any", value: "0" })),
        field("enabled", "storage.p.col.enabled", el("input", { type: "checkbox", checked: true })),
        el("div", { className: "form-actions" },
          el("button", { type: "submit", className: "primary", id: "policy-save", dataset: { t: "storage.p.save" } }),
          el("span", { className: "form-status", id: "policy-form-status", role: "status" })),
        el("div", { id: "policy-form-error" }));
      pform.addEventListener("submit", on.savePolicy);
      return [
        el("section", { className: "panel section" },
          el("div", { className: "section-head" }, el("h2", { dataset: { t: "storage.title" } }),
            el("span", { className: "count", id: "storage-count" })),
          el("div", { id: "storage-error", role: "alert" }),
          el("div", { id: "storage-action-error", role: "alert" }),
          el("p", { className: "ok-line", id: "storage-status", role: "status" }),
          el("div", { className: "table-wrap", id: "storage-table", tabIndex: 0, role: "region" }),
          el("div", { id: "storage-detail" })),
        el("section", { className: "panel section" }, el("h3", { id: "storage-form-title" }), form),
        el("section", { className: "panel section" },
          el("div", { className: "section-head" }, el("h3", { dataset: { t: "storage.p.title" } }),
            el("span", { className: "count", id: "policies-count" })),
          el("div", { id: "policies-error", role: "alert" }),
          el("p", { className: "ok-line", id: "policies-status", role: "status" }),
          el("div", { className: "table-wrap", id: "policies-table", tabIndex: 0, role: "region" }),
          el("h3", { dataset: { t: "storage.p.form" } }), pform)];
    }
    function applyTexts() {
      host().querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
      q("#storage-form-title").textContent = st.editing ? t("storage.form.edit", { id: st.editing }) : t("storage.form.new");
      q("#storage-save").textContent = t(st.editing ? "storage.save.edit" : "storage.save.new");
      q("#storage-cancel").textContent = t("storage.cancel");
      q("#storage-table").setAttribute("aria-label", t("storage.title"));
      q("#policies-table").setAttribute("aria-label", t("storage.p.title"));
    }
    function button(act, key, id, onClick, cls) {
      const b = el("button", { type: "button", className: cls || "small", dataset: { act } }, t(key));
      b.setAttribute("aria-label", `${t(key)} ${id}`);
      b.addEventListener("click", onClick);
      return b;
    }
    function actions(ep) {
      if (st.confirming === ep.id) {
        return el("span", { className: "actions confirm" }, el("span", {}, t("storage.delete.confirm", { id: ep.id })),
          button("confirm-delete", "storage.delete.yes", ep.id, () => on.remove(ep.id), "small danger-text"),
          button("cancel-delete", "storage.delete.no", ep.id, () => { st.confirming = null; render(); }));
      }
      return el("span", { className: "actions" },
        button("show", "storage.show", ep.id, () => on.show(ep.id)),
        button("edit", "storage.edit", ep.id, () => on.edit(ep)),
        button("delete", "storage.delete", ep.id, () => { st.confirming = ep.id; st.status = ""; st.actionError = null; render(); }));
    }
    function render() {
      applyTexts();
      HH.showError(q("#storage-error"), st.error, "storage.list.failed");
      HH.showError(q("#storage-action-error"), st.actionError, "storage.action.failed");
      q("#storage-status").textContent = st.status;
      const page = st.page || { items: [], total: 0 };
      q("#storage-count").textContent = t("storage.count", { total: HH.fmt(page.total) });
      const num = (v) => ({ text: bytes(v), className: "num" });
      const labels = ["storage.col.id", "storage.col.center", "storage.col.tier", "storage.col.medium",
        { key: "storage.col.capacity", num: true }, { key: "storage.col.used", num: true }, { key: "storage.col.free", num: true },
        "storage.col.state", "storage.col.drained", "storage.col.actions"]
        .map((c) => (typeof c === "string" ? t(c) : { text: t(c.key), num: c.num }));
      const rows = page.items.map((x) => [
        { text: x.id, className: "mono" }, x.center, t("storage.t." + x.temperature), t("storage.m." + x.medium),
        num(x.capacity_bytes), num(x.used_bytes), num(x.free_bytes),
        `${t(x.available ? "storage.available" : "storage.unavailable")} · ${t(x.healthy ? "storage.healthy" : "storage.unhealthy")}`,
        { text: x.drained ? `${t("storage.yes")}${x.reason ? " (" + x.reason + ")" : ""}` : t("storage.no"), className: "wrap" },
        actions(x)]);
      const table = HH.table(labels, rows, t("storage.empty"));
      table.id = "storage-grid";
      page.items.forEach((x, i) => { table.tBodies[0].rows[i].dataset.id = x.id; });
      q("#storage-table").replaceChildren(table);
      renderDetail();
      renderPolicies();
    }
    function renderDetail() {
      const d = st.detail;
      if (!d) { q("#storage-detail").replaceChildren(); return; }
      const c = d.connection || {};
      const pairs = [["storage.col.center", d.center], ["storage.d.city", d.city], ["storage.col.tier", t("storage.t." + d.temperature)],
        ["storage.col.medium", t("storage.m." + d.medium)], ["storage.d.security", String(d.security_level)],
        ["storage.col.capacity", bytes(d.capacity_bytes)], ["storage.col.used", bytes(d.used_bytes)], ["storage.col.free", bytes(d.free_bytes)],
        ["storage.col.state", `${t(d.available ? "storage.available" : "storage.unavailable")} · ${t(d.healthy ? "storage.healthy" : "storage.unhealthy")}`],
        ["storage.col.drained", t(d.drained ? "storage.yes" : "storage.no")], ["storage.d.reason", d.reason || "–"],
        ["storage.d.checked", d.checked_s == null ? "–" : HH.time(d.checked_s)], ["storage.d.url", c.url || "–"],
        ["storage.d.bucket", c.bucket || "–"], ["storage.d.access", c.access_key_secret || "–"],
        ["storage.d.secret", c.secret_key_secret || "–"]];
      const close = Object.assign(button("close", "storage.detail.close", d.id, () => on.closeDetail()), { id: "storage-detail-close" });
      q("#storage-detail").replaceChildren(el("div", { className: "storage-detail" },
        el("h3", { id: "storage-detail-title" }, t("storage.detail.title", { id: d.id })),
        el("dl", {}, ...pairs.flatMap(([k, v]) => [el("dt", {}, t(k)), el("dd", { dataset: { k } }, v)])), close));
    }
    function renderPolicies() {
      HH.showError(q("#policies-error"), st.pError, "storage.p.list.failed");
      q("#policies-status").textContent = st.pStatus || "";
      const page = st.policies || { items: [], total: 0 };
      q("#policies-count").textContent = t("storage.p.count", { total: HH.fmt(page.total) });
      const labels = ["storage.col.id", "storage.p.col.tenant", "storage.p.col.move",
        { key: "storage.p.col.idle", num: true }, { key: "storage.p.col.age", num: true }, "storage.p.col.enabled", "storage.col.actions"]
        .map((c) => (typeof c === "string" ? t(c) : { text: t(c.key), num: c.num }));
      const rows = page.items.map((p) => [{ text: p.id, className: "mono" }, p.tenant || t("storage.p.province"),
        `${t("storage.t." + p.from_temperature)} → ${t("storage.t." + p.to_temperature)}`,
        { text: HH.fmt(p.idle_s / DAY, 1), className: "num" }, { text: HH.fmt(p.min_age_s / DAY, 1), className: "num" },
        t(p.enabled ? "storage.yes" : "storage.no"),
        el("span", { className: "actions" }, button("delete-policy", "storage.delete", p.id, () => on.removePolicy(p.id)))]);
      const table = HH.table(labels, rows, t("storage.p.empty"));
      table.id = "policies-grid";
      page.items.forEach((p, i) => { table.tBodies[0].rows[i].dataset.id = p.id; });
      q("#policies-table").replaceChildren(table);
    }

    return { nodes, applyTexts, render, renderDetail, renderPolicies };
  };
})();
