/* Tenants (#tenants), platform admins: the list (paged, filtered by sector) with each tenant's number of users
   and jobs, create (id, name, sector, SME), edit (name, sector, SME; the id stays), delete after a confirmation
   in the row (the API refuses a tenant that still has users, datasets or jobs: its answer is shown). */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "tenants.nav": "租户",
      "tenants.title": "租户",
      "tenants.count": "共 {total} 个租户",
      "tenants.filter.sector": "按行业筛选",
      "tenants.filter.sector.ph": "行业，例如 manufacturing",
      "tenants.col.id": "编号",
      "tenants.col.name": "名称",
      "tenants.col.sector": "行业",
      "tenants.col.sme": "中小企业",
      "tenants.col.users": "用户数",
      "tenants.col.jobs": "作业数",
      "tenants.col.actions": "操作",
      "tenants.empty": "还没有租户",
      "tenants.yes": "是",
      "tenants.no": "否",
      "tenants.edit": "编辑",
      "tenants.delete": "删除",
      "tenants.delete.confirm": "确定删除租户 {id}？",
      "tenants.delete.yes": "确认删除",
      "tenants.delete.no": "取消",
      "tenants.deleted": "已删除租户 {id}",
      "tenants.delete.failed": "无法删除租户：{detail}",
      "tenants.list.failed": "无法读取租户列表：{detail}",
      "tenants.form.new": "新建租户",
      "tenants.form.edit": "编辑租户 {id}",
      "tenants.f.id": "编号（小写字母、数字、连字符）",
      "tenants.f.name": "名称",
      "tenants.f.sector": "行业",
      "tenants.f.sme": "中小企业（可领取算力券）",
      "tenants.save.new": "创建",
      "tenants.save.edit": "保存",
      "tenants.cancel": "取消编辑",
      "tenants.created": "已创建租户 {id}",
      "tenants.saved": "已保存租户 {id}",
      "tenants.save.failed": "无法保存租户：{detail}",
    },
    en: {
      "tenants.nav": "Tenants",
      "tenants.title": "Tenants",
      "tenants.count": "{total} tenants",
      "tenants.filter.sector": "Filter by sector",
      "tenants.filter.sector.ph": "sector, e.g. manufacturing",
      "tenants.col.id": "ID",
      "tenants.col.name": "Name",
      "tenants.col.sector": "Sector",
      "tenants.col.sme": "SME",
      "tenants.col.users": "Users",
      "tenants.col.jobs": "Jobs",
      "tenants.col.actions": "Actions",
      "tenants.empty": "No tenants yet",
      "tenants.yes": "Yes",
      "tenants.no": "No",
      "tenants.edit": "Edit",
      "tenants.delete": "Delete",
      "tenants.delete.confirm": "Delete tenant {id}?",
      "tenants.delete.yes": "Yes, delete",
      "tenants.delete.no": "Cancel",
      "tenants.deleted": "Deleted tenant {id}",
      "tenants.delete.failed": "Could not delete the tenant: {detail}",
      "tenants.list.failed": "Could not read the tenants: {detail}",
      "tenants.form.new": "New tenant",
      "tenants.form.edit": "Edit tenant {id}",
      "tenants.f.id": "ID (lower-case letters, digits, hyphens)",
      "tenants.f.name": "Name",
      "tenants.f.sector": "Sector",
      "tenants.f.sme": "SME (may receive compute vouchers)",
      "tenants.save.new": "Create",
      "tenants.save.edit": "Save",
      "tenants.cancel": "Cancel editing",
      "tenants.created": "Created tenant {id}",
      "tenants.saved": "Saved tenant {id}",
      "tenants.save.failed": "Could not save the tenant: {detail}",
    },
  });

  const { t, el } = HH;
  const LIMIT = 20;
  const FIELDS = ["id", "name", "sector", "is_sme"];
  const st = {
    offset: 0, sector: "", page: null, counts: {}, editing: null, confirming: null, status: "", error: null, actionError: null, built: false,
  };
  let root = null;
  const q = (sel) => root.querySelector(sel);

  // ---- layout (built once; texts refreshed on a language switch) -------------------------------------------
  function field(name, labelKey, input) {
    input.name = name;
    return el("label", { className: name === "is_sme" ? "field check" : "field" },
      el("span", { dataset: { t: labelKey } }), input, el("small", { className: "field-error", dataset: { errorFor: name } }));
  }
  function build() {
    const form = el("form", { className: "tenant-form", noValidate: true, autocomplete: "off" },
      field("id", "tenants.f.id", el("input", { type: "text", maxLength: 64, required: true })),
      field("name", "tenants.f.name", el("input", { type: "text", maxLength: 200, required: true })),
      field("sector", "tenants.f.sector", el("input", { type: "text", maxLength: 64 })),
      field("is_sme", "tenants.f.sme", el("input", { type: "checkbox", checked: true })),
      el("div", { className: "form-actions" },
        el("button", { type: "submit", className: "primary", id: "tenant-save" }),
        el("button", { type: "button", className: "small", id: "tenant-cancel", hidden: true }),
        el("span", { className: "form-status", id: "tenant-form-status", role: "status" })),
      el("div", { id: "tenant-form-error" }));
    form.addEventListener("submit", save);
    form.querySelector("#tenant-cancel").addEventListener("click", () => { startEdit(null); });
    const sector = el("input", { type: "search", id: "tenant-sector-filter", autocomplete: "off" });
    sector.addEventListener("change", () => { st.sector = sector.value.trim(); st.offset = 0; load(); });
    root.replaceChildren(
      el("section", { className: "panel section" },
        el("div", { className: "section-head" }, el("h2", { dataset: { t: "tenants.title" } }),
          el("span", { className: "count", id: "tenants-count" })),
        el("div", { className: "filters" }, sector),
        el("div", { id: "tenants-error", role: "alert" }),
        el("div", { id: "tenants-action-error", role: "alert" }),
        el("p", { className: "ok-line", id: "tenants-status", role: "status" }),
        el("div", { className: "table-wrap", id: "tenants-table", tabIndex: 0 }),  // scrolls: reachable by keyboard
        el("div", { id: "tenants-pager" })),
      el("section", { className: "panel section" }, el("h3", { id: "tenant-form-title" }), form));
    st.built = true;
  }
  function applyTexts() {
    root.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
    const sector = q("#tenant-sector-filter");
    sector.placeholder = t("tenants.filter.sector.ph");
    sector.setAttribute("aria-label", t("tenants.filter.sector"));
    q("#tenant-form-title").textContent = st.editing ? t("tenants.form.edit", { id: st.editing }) : t("tenants.form.new");
    q("#tenant-save").textContent = t(st.editing ? "tenants.save.edit" : "tenants.save.new");
    q("#tenant-cancel").textContent = t("tenants.cancel");
    q("#tenants-table").setAttribute("role", "region");
    q("#tenants-table").setAttribute("aria-label", t("tenants.title"));
  }

  // ---- list -----------------------------------------------------------------------------------------------
  const fresh = HH.latest();
  /** Read the list, then draw: only the latest of overlapping loads (a filter or pager change, a save's or
      delete's reload) stores its answer, so an older answer never replaces a newer one. */
  async function load() {
    const mine = fresh();
    let page = null;
    let error = null;
    try {
      page = await HH.api("/api/v1/tenants" + HH.query({ sector: st.sector, limit: LIMIT, offset: st.offset }));
    } catch (err) {
      error = err;
    }
    if (!mine()) return;  // overtaken: the later load draws
    Object.assign(st, { page, error });
    render();
    if (st.page) await loadCounts(st.page.items.map((x) => x.id));
  }
  /** Users and jobs of each tenant shown: the `total` of a one-row page (two small requests a tenant). */
  async function loadCounts(ids) {
    const total = (path) => HH.api(path).then((p) => p.total, () => null);
    await Promise.all(ids.map(async (id) => {
      const [users, jobs] = await Promise.all([
        HH.can("GET /api/v1/users") ? total("/api/v1/users" + HH.query({ tenant: id, limit: 1 })) : null,
        HH.can("GET /api/v1/jobs") ? total("/api/v1/jobs" + HH.query({ tenant: id, limit: 1 })) : null,
      ]);
      st.counts[id] = { users, jobs };
    }));
    render();
  }
  function actions(tenant) {
    if (st.confirming === tenant.id) {
      const yes = el("button", { type: "button", className: "small danger-text", dataset: { act: "confirm-delete" } }, t("tenants.delete.yes"));
      const no = el("button", { type: "button", className: "small", dataset: { act: "cancel-delete" } }, t("tenants.delete.no"));
      yes.addEventListener("click", () => remove(tenant.id));
      no.addEventListener("click", () => { st.confirming = null; render(); });
      return el("span", { className: "actions confirm" }, el("span", {}, t("tenants.delete.confirm", { id: tenant.id })), yes, no);
    }
    const edit = el("button", { type: "button", className: "small", dataset: { act: "edit" } }, t("tenants.edit"));
    const del = el("button", { type: "button", className: "small", dataset: { act: "delete" } }, t("tenants.delete"));
    edit.setAttribute("aria-label", `${t("tenants.edit")} ${tenant.id}`);
    del.setAttribute("aria-label", `${t("tenants.delete")} ${tenant.id}`);
    edit.addEventListener("click", () => startEdit(tenant));
    del.addEventListener("click", () => { st.confirming = tenant.id; st.actionError = null; st.status = ""; render(); });
    return el("span", { className: "actions" }, edit, del);
  }
  function render() {
    applyTexts();
    HH.showError(q("#tenants-error"), st.error, "tenants.list.failed");
    HH.showError(q("#tenants-action-error"), st.actionError, "tenants.delete.failed");
    q("#tenants-status").textContent = st.status;
    const page = st.page || { items: [], total: 0, limit: LIMIT, offset: st.offset };
    q("#tenants-count").textContent = t("tenants.count", { total: HH.fmt(page.total) });
    const num = (v) => ({ text: v == null ? "–" : HH.fmt(v), className: "num" });
    const labels = ["tenants.col.id", "tenants.col.name", "tenants.col.sector", "tenants.col.sme",
      { key: "tenants.col.users", num: true }, { key: "tenants.col.jobs", num: true }, "tenants.col.actions"]
      .map((c) => (typeof c === "string" ? t(c) : { text: t(c.key), num: c.num }));
    const rows = page.items.map((x) => {
      const n = st.counts[x.id] || {};
      return [{ text: x.id, className: "mono" }, { text: x.name, className: "wrap" }, x.sector || "–",
        t(x.is_sme ? "tenants.yes" : "tenants.no"), num(n.users), num(n.jobs), actions(x)];
    });
    const table = HH.table(labels, rows, t("tenants.empty"));
    table.id = "tenants-grid";
    page.items.forEach((x, i) => { table.tBodies[0].rows[i].dataset.id = x.id; });
    q("#tenants-table").replaceChildren(table);
    q("#tenants-pager").replaceChildren(HH.pager(page, (offset) => { st.offset = offset; load(); }));
  }

  // ---- create / edit / delete ------------------------------------------------------------------------------
  function form() { return q("form.tenant-form"); }
  function clearErrors() {
    root.querySelectorAll(".tenant-form .field-error").forEach((n) => { n.textContent = ""; });
    root.querySelectorAll(".tenant-form .invalid").forEach((n) => n.classList.remove("invalid"));
    q("#tenant-form-error").replaceChildren();
  }
  function startEdit(tenant) {
    st.editing = tenant ? tenant.id : null;
    clearErrors();
    const f = form();
    f.elements.id.value = tenant ? tenant.id : "";
    f.elements.id.readOnly = !!tenant;
    f.elements.name.value = tenant ? tenant.name : "";
    f.elements.sector.value = tenant ? tenant.sector : "";
    f.elements.is_sme.checked = tenant ? tenant.is_sme : true;
    q("#tenant-cancel").hidden = !tenant;
    q("#tenant-form-status").textContent = "";
    applyTexts();
    if (tenant) f.elements.name.focus();
  }
  /** Each {path, message} of a 4xx next to its field (`body.name` → name); the rest under the form. */
  function showErrors(err) {
    const general = [];
    for (const item of err.detail || []) {
      const name = String(item.path || "").replace(/^body\.?/, "").split(/[.[]/)[0];
      const slot = FIELDS.includes(name) && q(`.tenant-form [data-error-for="${name}"]`);
      if (slot) {
        slot.textContent = item.message;
        form().elements[name].classList.add("invalid");
      } else {
        general.push(item.message);
      }
    }
    if (general.length || !(err.detail || []).length || err.authNeeded) {
      HH.showError(q("#tenant-form-error"), err.authNeeded ? err : new Error(general.join("; ") || err.message), "tenants.save.failed");
    }
  }
  async function save(ev) {
    ev.preventDefault();
    clearErrors();
    const f = form();
    const body = { name: f.elements.name.value.trim(), sector: f.elements.sector.value.trim(), is_sme: f.elements.is_sme.checked };
    const id = st.editing || f.elements.id.value.trim();
    try {
      if (st.editing) {
        await HH.api(`/api/v1/tenants/${encodeURIComponent(id)}`, { method: "PATCH", body });
      } else {
        await HH.api("/api/v1/tenants", { method: "POST", body: Object.assign({ id }, body) });
      }
      const doneKey = st.editing ? "tenants.saved" : "tenants.created";
      startEdit(null);
      q("#tenant-form-status").textContent = t(doneKey, { id });
      st.status = "";
      await load();
    } catch (err) {
      showErrors(err);
    }
  }
  /** DELETE after the confirmation; a refusal (409: users, datasets or jobs left) is shown with the API's words. */
  async function remove(id) {
    st.confirming = null;
    st.status = "";
    st.actionError = null;
    try {
      await HH.api(`/api/v1/tenants/${encodeURIComponent(id)}`, { method: "DELETE" });
      st.status = t("tenants.deleted", { id });
      if (st.editing === id) startEdit(null);
      await load();
    } catch (err) {
      st.actionError = err;
      render();
    }
  }

  HH.registerPage({
    name: "tenants",
    nav: "tenants.nav",
    needs: ["GET /api/v1/tenants", "POST /api/v1/tenants"],
    calls: [
      "GET /api/v1/tenants", "POST /api/v1/tenants", "PATCH /api/v1/tenants/{item_id}",
      "DELETE /api/v1/tenants/{item_id}", "GET /api/v1/users", "GET /api/v1/jobs",
    ],
    show(params, el_) {
      root = el_;
      if (!st.built) {
        build();
        startEdit(null);
        HH.onLang(() => { if (st.page || st.error) render(); else applyTexts(); });
      }
      st.status = "";
      st.actionError = null;
      return load();
    },
  });
})();
