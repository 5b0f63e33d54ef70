/* Users (#users): the users of the caller's tenant (platform admin and regulator: every tenant, with a tenant
   and a role filter); create, change name or role in the row, delete with a confirmation in the row — each only
   when the policy lets the caller's role (the regulator reads). A tenant admin grants tenant roles only. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "users.nav": "用户",
      "users.title": "用户",
      "users.list.title": "用户列表",
      "users.hint": "企业的用户及其角色",
      "users.create.title": "添加用户",
      "users.f.id": "用户 ID（小写字母、数字、. _ -）",
      "users.f.name": "姓名",
      "users.f.role": "角色",
      "users.f.tenant": "租户",
      "users.f.no_tenant": "无（平台方）",
      "users.f.filter_tenant": "按租户筛选",
      "users.f.filter_role": "按角色筛选",
      "users.all_tenants": "全部租户",
      "users.all_roles": "全部角色",
      "users.create": "添加",
      "users.created": "已添加用户 {id}",
      "users.saved": "已保存用户 {id}",
      "users.deleted": "已删除用户 {id}",
      "users.col.id": "用户 ID",
      "users.col.name": "姓名",
      "users.col.tenant": "租户",
      "users.col.role": "角色",
      "users.col.actions": "操作",
      "users.edit": "编辑",
      "users.save": "保存",
      "users.cancel": "取消",
      "users.delete": "删除",
      "users.delete.confirm": "确认删除",
      "users.delete.question": "删除用户 {id}？",
      "users.edit.name": "用户 {id} 的姓名",
      "users.edit.role": "用户 {id} 的角色",
      "users.empty": "没有用户",
      "users.read_only": "您的角色只能查看用户。",
    },
    en: {
      "users.nav": "Users",
      "users.title": "Users",
      "users.list.title": "All users",
      "users.hint": "The tenant's people and their roles",
      "users.create.title": "Add a user",
      "users.f.id": "User ID (lower-case letters, digits, . _ -)",
      "users.f.name": "Name",
      "users.f.role": "Role",
      "users.f.tenant": "Tenant",
      "users.f.no_tenant": "None (platform)",
      "users.f.filter_tenant": "Filter by tenant",
      "users.f.filter_role": "Filter by role",
      "users.all_tenants": "All tenants",
      "users.all_roles": "All roles",
      "users.create": "Add",
      "users.created": "User {id} added",
      "users.saved": "User {id} saved",
      "users.deleted": "User {id} deleted",
      "users.col.id": "User ID",
      "users.col.name": "Name",
      "users.col.tenant": "Tenant",
      "users.col.role": "Role",
      "users.col.actions": "Actions",
      "users.edit": "Edit",
      "users.save": "Save",
      "users.cancel": "Cancel",
      "users.delete": "Delete",
      "users.delete.confirm": "Confirm delete",
      "users.delete.question": "Delete user {id}?",
      "users.edit.name": "Name of user {id}",
      "users.edit.role": "Role of user {id}",
      "users.empty": "No users",
      "users.read_only": "Your role may only view users.",
    },
  });

  const { t, el } = HH;
  const LIST = "GET /api/v1/users";
  const CREATE = "POST /api/v1/users";
  const GET = "GET /api/v1/users/{item_id}";
  const PATCH = "PATCH /api/v1/users/{item_id}";
  const DELETE = "DELETE /api/v1/users/{item_id}";
  const TENANTS = "GET /api/v1/tenants";
  const ALL_ROLES = ["tenant_user", "tenant_admin", "operator", "regulator", "admin"];
  const LIMIT = 50;
  // error: the last load's failure (the next successful load clears it); failed: the last action's refusal (kept
  // until the next action or leaving the page: the reload after the action does not clear it)
  const st = { offset: 0, tenant: "", role: "", page: null, error: null, failed: null, tenants: [], edit: null, confirm: null, note: "" };
  let root = null;

  const isTenantAdmin = () => HH.whoami && HH.whoami.role === "tenant_admin";
  /** Roles the caller may give: a tenant admin its tenant's two roles, a platform admin any. */
  const grantable = () => (isTenantAdmin() ? ["tenant_user", "tenant_admin"] : ALL_ROLES);
  const field = (key, input) => el("label", { className: "field" }, el("span", {}, t(key)), input);
  const roleSelect = (value, attrs) => {
    const sel = el("select", attrs || {}, grantable().map((r) => new Option(t(`role.${r}`), r)));
    if (value) sel.value = value;
    return sel;
  };
  /** The API's 4xx as one line naming the fields ("id: ..."), else the generic box. */
  function failure(err) {
    if (err instanceof HH.ApiError && !err.authNeeded) {
      const text = err.detail.map((d) => (d.path ? `${String(d.path).replace(/^body\./, "")}: ${d.message}` : d.message)).join("; ");
      return el("div", { className: "alert" }, t("error.request", { detail: text }));
    }
    return HH.errorBox(err);
  }

  const fresh = HH.latest();
  /** Read the list, then draw: only the latest of overlapping loads (a filter or pager change,
      a create's, save's or delete's reload) stores its answers, so an older answer never replaces a newer one. */
  async function load() {
    const mine = fresh();
    const got = { tenants: st.tenants, page: st.page };
    let error = null;
    try {
      if (HH.can(TENANTS) && !got.tenants.length) got.tenants = (await HH.api("/api/v1/tenants?limit=1000")).items;
      got.page = await HH.api("/api/v1/users" + HH.query({ tenant: st.tenant, role: st.role, limit: LIMIT, offset: st.offset }));
    } catch (err) {
      error = err;
    }
    if (!mine()) return;  // overtaken: the later load draws
    Object.assign(st, error ? { error } : { ...got, error: null });  // a failed load keeps what was shown
    render();
  }

  function createForm() {
    const id = el("input", { name: "id", type: "text", required: true, maxLength: 64, autocomplete: "off" });
    const name = el("input", { name: "name", type: "text", required: true, maxLength: 200, autocomplete: "off" });
    const role = roleSelect("tenant_user", { name: "role" });
    const tenant = isTenantAdmin()
      ? el("input", { name: "tenant", type: "text", value: HH.whoami.tenant, readOnly: true })
      : el("select", { name: "tenant" }, new Option(t("users.f.no_tenant"), ""), st.tenants.map((x) => new Option(`${x.name} (${x.id})`, x.id)));
    if (!isTenantAdmin() && st.tenant) tenant.value = st.tenant;
    const errors = el("div", { id: "users-form-error", className: "wide" });
    const form = el("form", { id: "users-form", className: "adm-form", noValidate: true },
      field("users.f.id", id), field("users.f.name", name), field("users.f.role", role), field("users.f.tenant", tenant),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("users.create"))), errors);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { id: id.value.trim(), name: name.value.trim(), role: role.value };
      if (tenant.value) body.tenant = tenant.value;
      try {
        await HH.api("/api/v1/users", { method: "POST", body });
        st.note = t("users.created", { id: body.id });
        HH.keepInputs.forget(form);  // created: the reload draws the form afresh
        await load();
      } catch (err) {
        errors.replaceChildren(failure(err));
      }
    });
    return el("section", { className: "panel section" }, el("h3", {}, t("users.create.title")), form);
  }

  /** An edit's save or a delete, then the reload; a refusal (e.g. 404: another admin deleted the user
      meanwhile) stays shown after the reload, until the next action or leaving the page. */
  async function act(fn, noteKey, id) {
    st.failed = null;
    st.note = "";
    try {
      await fn();
      st.note = t(noteKey, { id });
      st.edit = null;
      st.confirm = null;
    } catch (err) {
      st.failed = err;
    }
    await load();
  }
  function actionsOf(u) {
    const parts = [];
    const path = `/api/v1/users/${encodeURIComponent(u.id)}`;
    if (st.edit === u.id) {
      const save = el("button", { type: "button", className: "small", dataset: { act: "save" } }, t("users.save"));
      const cancel = el("button", { type: "button", className: "small", dataset: { act: "cancel" } }, t("users.cancel"));
      save.addEventListener("click", () => {
        const row = root.querySelector(`tr[data-id="${CSS.escape(u.id)}"]`);
        const body = { name: row.querySelector("input[name='name']").value.trim(), role: row.querySelector("select[name='role']").value };
        act(() => HH.api(path, { method: "PATCH", body }), "users.saved", u.id);
      });
      cancel.addEventListener("click", () => { st.edit = null; render(); });
      return el("span", { className: "actions" }, save, cancel);
    }
    if (st.confirm === u.id) {
      const yes = el("button", { type: "button", className: "small danger-text", dataset: { act: "confirm" } }, t("users.delete.confirm"));
      const no = el("button", { type: "button", className: "small", dataset: { act: "cancel" } }, t("users.cancel"));
      yes.addEventListener("click", () => act(() => HH.api(path, { method: "DELETE" }), "users.deleted", u.id));
      no.addEventListener("click", () => { st.confirm = null; render(); });
      return el("span", { className: "actions" }, el("span", { className: "confirm-q" }, t("users.delete.question", { id: u.id })), yes, no);
    }
    const editable = HH.can(PATCH) && grantable().includes(u.role);
    if (editable) {
      const b = el("button", { type: "button", className: "small", dataset: { act: "edit" } }, t("users.edit"));
      b.addEventListener("click", async () => {  // edit what the server holds now, not the listed copy
        st.failed = null;
        try {
          const fresh = await HH.api(path);
          st.page.items = st.page.items.map((x) => (x.id === u.id ? fresh : x));
          st.edit = u.id;
          st.confirm = null;
        } catch (err) {
          st.failed = err;
        }
        render();
      });
      parts.push(b);
    }
    if (HH.can(DELETE) && grantable().includes(u.role)) {
      const b = el("button", { type: "button", className: "small", dataset: { act: "delete" } }, t("users.delete"));
      b.addEventListener("click", () => { st.confirm = u.id; st.edit = null; render(); });
      parts.push(b);
    }
    return el("span", { className: "actions" }, parts);
  }
  function filters() {
    const out = [];
    if (HH.can(TENANTS)) {
      const sel = el("select", { id: "users-tenant-filter", dataset: { keep: "off" } }, new Option(t("users.all_tenants"), ""),
        st.tenants.map((x) => new Option(`${x.name} (${x.id})`, x.id)));
      sel.value = st.tenant;
      sel.addEventListener("change", () => { st.tenant = sel.value; st.offset = 0; load(); });
      out.push(el("label", { className: "inline" }, el("span", {}, t("users.f.filter_tenant")), sel));
    }
    const role = el("select", { id: "users-role-filter", dataset: { keep: "off" } }, new Option(t("users.all_roles"), ""), ALL_ROLES.map((r) => new Option(t(`role.${r}`), r)));
    role.value = st.role;
    role.addEventListener("change", () => { st.role = role.value; st.offset = 0; load(); });
    out.push(el("label", { className: "inline" }, el("span", {}, t("users.f.filter_role")), role));
    return out;
  }
  function listSection() {
    const items = st.page ? st.page.items : [];
    const cols = ["id", "name", "tenant", "role", "actions"].map((k) => t(`users.col.${k}`));
    const rows = items.map((u) => {
      const editing = st.edit === u.id;
      return [
        { text: u.id, className: "mono" },
        editing ? el("input", { name: "name", type: "text", value: u.name, ariaLabel: t("users.edit.name", { id: u.id }) }) : u.name,
        u.tenant || "–",
        editing ? roleSelect(u.role, { name: "role", ariaLabel: t("users.edit.role", { id: u.id }) }) : t(`role.${u.role}`),
        actionsOf(u),
      ];
    });
    const table = HH.table(cols, rows, t("users.empty"));
    table.id = "users-table";
    items.forEach((u, i) => { table.tBodies[0].rows[i].dataset.id = u.id; });
    return el("section", { className: "panel section" },
      el("div", { className: "section-head" }, el("h3", {}, t("users.list.title")), filters()),
      st.note ? el("div", { className: "ok-line", role: "status" }, st.note) : null,
      el("div", { className: "table-wrap" }, table),
      st.page ? HH.pager(st.page, (off) => { st.offset = off; load(); }) : null);
  }

  /** Draw the page; what was typed and not sent (the create form, a row being edited) stays (HH.keepInputs). */
  function render() {
    if (root) HH.keepInputs(root, draw);
  }
  function draw() {
    const parts = [el("div", { className: "section-head" }, el("h2", {}, t("users.title")), el("span", { className: "hint" }, t("users.hint")))];
    if (st.error) parts.push(failure(st.error));
    if (st.failed) parts.push(el("div", { id: "users-action-error" }, failure(st.failed)));
    parts.push(HH.can(CREATE) ? createForm() : el("p", { className: "hint-line" }, t("users.read_only")));
    parts.push(listSection());
    root.replaceChildren(...parts);
  }

  HH.registerPage({
    name: "users",
    nav: "users.nav",
    needs: [LIST],
    calls: [LIST, GET, CREATE, PATCH, DELETE, TENANTS],
    show(params, elem) {
      root = elem;
      st.note = "";
      st.failed = null;
      st.edit = null;
      st.confirm = null;
      return load();
    },
  });
  HH.onLang(() => { if (HH.view === "users") render(); });
})();
