/* Tokens (#tokens): the API tokens of the caller's tenant (admin and regulator: all, with a tenant filter);
   create (name, role among those the caller may grant, scopes, expiry) — the secret is shown ONCE, in a box with
   a copy button, and kept nowhere (not in the page's state after it is closed, not in storage) — and revoke,
   confirmed in the row. The token of the caller's own session cannot be revoked here (it would log them out). */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "tokens.nav": "令牌",
      "tokens.title": "API 令牌",
      "tokens.list.title": "令牌列表",
      "tokens.hint": "令牌用于命令行、脚本和 API；密钥只在创建时显示一次",
      "tokens.create.title": "创建令牌",
      "tokens.f.name": "名称",
      "tokens.f.role": "角色",
      "tokens.f.tenant": "租户",
      "tokens.f.centers": "算力中心（运营方令牌）",
      "tokens.f.scopes": "权限范围",
      "tokens.f.read": "读取 read",
      "tokens.f.write": "写入 write",
      "tokens.f.expiry": "有效期（天，空 = 永不过期）",
      "tokens.f.filter_tenant": "按租户筛选",
      "tokens.all_tenants": "全部租户",
      "tokens.create": "创建",
      "tokens.creating": "正在创建…",
      "tokens.secret.title": "新令牌的密钥",
      "tokens.secret.warning": "请立即复制并妥善保存：关闭或刷新页面后将无法再次查看此密钥。",
      "tokens.secret.label": "令牌密钥",
      "tokens.secret.copy": "复制",
      "tokens.secret.copied": "已复制",
      "tokens.secret.copy_failed": "无法自动复制，请手动选择复制",
      "tokens.secret.done": "我已保存，关闭",
      "tokens.col.id": "编号",
      "tokens.col.name": "名称",
      "tokens.col.prefix": "前缀",
      "tokens.col.role": "角色",
      "tokens.col.tenant": "租户",
      "tokens.col.scopes": "权限",
      "tokens.col.created": "创建时间",
      "tokens.col.expires": "过期时间",
      "tokens.col.state": "状态",
      "tokens.col.actions": "操作",
      "tokens.never": "永不",
      "tokens.state.active": "有效",
      "tokens.state.revoked": "已吊销",
      "tokens.state.expired": "已过期",
      "tokens.this_session": "当前会话",
      "tokens.revoke": "吊销",
      "tokens.revoke.confirm": "确认吊销",
      "tokens.revoke.cancel": "取消",
      "tokens.revoke.question": "吊销后立即失效，确定吗？",
      "tokens.revoked_ok": "令牌 {id} 已吊销",
      "tokens.empty": "没有令牌",
      "tokens.read_only": "您的角色只能查看令牌。",
      "tokens.need_scope": "至少选择一种权限",
    },
    en: {
      "tokens.nav": "Tokens",
      "tokens.title": "API tokens",
      "tokens.list.title": "Tokens",
      "tokens.hint": "Tokens are for the CLI, scripts and the API; the secret is shown once, at creation",
      "tokens.create.title": "Create a token",
      "tokens.f.name": "Name",
      "tokens.f.role": "Role",
      "tokens.f.tenant": "Tenant",
      "tokens.f.centers": "Centers (operator tokens)",
      "tokens.f.scopes": "Scopes",
      "tokens.f.read": "read",
      "tokens.f.write": "write",
      "tokens.f.expiry": "Lifetime (days, empty = never expires)",
      "tokens.f.filter_tenant": "Filter by tenant",
      "tokens.all_tenants": "All tenants",
      "tokens.create": "Create",
      "tokens.creating": "Creating…",
      "tokens.secret.title": "The new token's secret",
      "tokens.secret.warning": "Copy it now and keep it safe: once you close or reload this page it cannot be shown again.",
      "tokens.secret.label": "Token secret",
      "tokens.secret.copy": "Copy",
      "tokens.secret.copied": "Copied",
      "tokens.secret.copy_failed": "Could not copy automatically; select and copy it by hand",
      "tokens.secret.done": "I have saved it, close",
      "tokens.col.id": "ID",
      "tokens.col.name": "Name",
      "tokens.col.prefix": "Prefix",
      "tokens.col.role": "Role",
      "tokens.col.tenant": "Tenant",
      "tokens.col.scopes": "Scopes",
      "tokens.col.created": "Created",
      "tokens.col.expires": "Expires",
      "tokens.col.state": "State",
      "tokens.col.actions": "Actions",
      "tokens.never": "Never",
      "tokens.state.active": "Active",
      "tokens.state.revoked": "Revoked",
      "tokens.state.expired": "Expired",
      "tokens.this_session": "This session",
      "tokens.revoke": "Revoke",
      "tokens.revoke.confirm": "Confirm revoke",
      "tokens.revoke.cancel": "Cancel",
      "tokens.revoke.question": "It stops working at once. Sure?",
      "tokens.revoked_ok": "Token {id} revoked",
      "tokens.empty": "No tokens",
      "tokens.read_only": "Your role may only view tokens.",
      "tokens.need_scope": "choose at least one scope",
    },
  });

  const { t, el } = HH;
  const LIST = "GET /api/v1/auth/tokens";
  const CREATE = "POST /api/v1/auth/tokens";
  const REVOKE = "DELETE /api/v1/auth/tokens/{token_id}";
  const TENANTS = "GET /api/v1/tenants";
  const ROLES = ["tenant_user", "tenant_admin", "operator", "regulator", "admin"];
  const LIMIT = 50;
  const st = { offset: 0, tenant: "", page: null, error: null, tenants: [], confirm: null, note: "", secret: null };
  let root = null;

  /** Roles the caller may grant: a tenant admin its tenant's two roles, a platform admin every role. */
  function grantable() {
    const me = HH.whoami;
    if (!me || !HH.can(CREATE)) return [];
    return me.role === "tenant_admin" ? ["tenant_user", "tenant_admin"] : ROLES;
  }
  function stateOf(tok) {
    if (tok.revoked_s != null) return "revoked";
    if (tok.expires_s != null && tok.expires_s * 1000 <= Date.now()) return "expired";
    return "active";
  }
  function field(key, input, cls) {
    return el("label", { className: "field" + (cls ? " " + cls : "") }, el("span", {}, t(key)), input);
  }

  let topology;  // the network once read (HH.topology): the centers of the create form
  HH.topology.then((topo) => { topology = topo; });
  let syncRole = null;  // the drawn create form's: show the fields of the chosen role
  const fresh = HH.latest();
  /** Read the list, then draw: only the latest of overlapping loads (a filter or pager change,
      a create's or revoke's reload) stores its answers, so an older answer never replaces a newer one. */
  async function load() {
    const mine = fresh();
    const got = { tenants: st.tenants, page: st.page };
    let error = null;
    try {
      if (HH.can(TENANTS) && !got.tenants.length) got.tenants = (await HH.api("/api/v1/tenants?limit=1000")).items;
      got.page = await HH.api("/api/v1/auth/tokens" + HH.query({ tenant: st.tenant, limit: LIMIT, offset: st.offset }));
    } catch (err) {
      error = err;
    }
    if (!mine()) return;  // overtaken: the later load draws
    Object.assign(st, error ? { error } : { ...got, error: null });  // a failed load keeps what was shown
    render();
  }

  // ---- create ------------------------------------------------------------------------------------------------
  function createForm() {
    const roles = grantable();
    const me = HH.whoami;
    const name = el("input", { name: "name", type: "text", required: true, maxLength: 200, autocomplete: "off" });
    const role = el("select", { name: "role" }, roles.map((r) => new Option(t(`role.${r}`), r)));
    const tenantSel = me.role === "tenant_admin"
      ? el("input", { name: "tenant", type: "text", value: me.tenant, readOnly: true })
      : el("select", { name: "tenant" }, st.tenants.map((x) => new Option(`${x.name} (${x.id})`, x.id)));
    const centers = el("select", { name: "centers", multiple: true, size: 3 });
    const fill = (topo) => (topo ? topo.centers : []).forEach((c) => centers.append(new Option(`${HH.named(c)} (${c.id})`, c.id)));
    if (topology !== undefined) fill(topology); else HH.topology.then(fill);  // known: drawn now, so a redraw keeps the choice
    const read = el("input", { type: "checkbox", name: "scope-read", checked: true });
    const write = el("input", { type: "checkbox", name: "scope-write", checked: true });
    const expiry = el("input", { name: "expiry_days", type: "number", min: "1", step: "1" });
    const tenantField = field("tokens.f.tenant", tenantSel);
    const centersField = field("tokens.f.centers", centers);
    const sync = () => {
      tenantField.hidden = !role.value.startsWith("tenant_");
      centersField.hidden = role.value !== "operator";
    };
    role.addEventListener("change", sync);
    sync();
    syncRole = sync;
    const status = el("span", { className: "form-status", id: "tokens-form-status" });
    const errors = el("div", { id: "tokens-form-error", className: "wide" });
    const scopes = el("fieldset", { className: "field scopes" }, el("legend", {}, t("tokens.f.scopes")),
      el("label", {}, read, " ", t("tokens.f.read")), el("label", {}, write, " ", t("tokens.f.write")));
    const form = el("form", { id: "tokens-form", className: "adm-form", noValidate: true },
      field("tokens.f.name", name), field("tokens.f.role", role), tenantField, centersField, scopes,
      field("tokens.f.expiry", expiry),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("tokens.create")), status),
      errors);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      errors.replaceChildren();
      const body = { name: name.value.trim(), role: role.value, scopes: [] };
      if (read.checked) body.scopes.push("read");
      if (write.checked) body.scopes.push("write");
      if (role.value.startsWith("tenant_")) body.tenant = tenantSel.value;
      if (role.value === "operator") body.centers = [...centers.selectedOptions].map((o) => o.value);
      if (expiry.value.trim() !== "") body.expires_in_s = Number(expiry.value) * 86400;
      if (!body.scopes.length) {
        errors.replaceChildren(el("div", { className: "alert" }, `scopes: ${t("tokens.need_scope")}`));
        return;
      }
      status.textContent = t("tokens.creating");
      try {
        const made = await HH.api("/api/v1/auth/tokens", { method: "POST", body });
        st.secret = { id: made.id, token: made.token };
        HH.keepInputs.forget(form);  // created: the reload draws the form afresh
        status.textContent = "";
        st.offset = 0;
        await load();
      } catch (err) {
        status.textContent = "";
        const lines = err instanceof HH.ApiError && !err.authNeeded
          ? err.detail.map((d) => (d.path ? `${String(d.path).replace(/^body\./, "")}: ${d.message}` : d.message)).join("; ")
          : null;
        errors.replaceChildren(lines ? el("div", { className: "alert" }, t("error.request", { detail: lines })) : HH.errorBox(err));
      }
    });
    return el("section", { className: "panel section" }, el("h3", {}, t("tokens.create.title")), form);
  }

  /** The secret of the token just made: once, with a copy button; closing forgets it. */
  function secretBox() {
    const s = st.secret;
    const input = el("input", { id: "token-secret", type: "text", readOnly: true, value: s.token, className: "mono",
      ariaLabel: t("tokens.secret.label"), spellcheck: false });
    const copied = el("span", { className: "form-status", id: "token-copy-status", role: "status" });
    const copy = el("button", { type: "button", className: "small", id: "token-copy" }, t("tokens.secret.copy"));
    copy.addEventListener("click", async () => {
      input.select();
      let ok = false;
      try {
        await navigator.clipboard.writeText(s.token);
        ok = true;
      } catch (err) {
        ok = document.execCommand && document.execCommand("copy");
      }
      copied.textContent = t(ok ? "tokens.secret.copied" : "tokens.secret.copy_failed");
    });
    const done = el("button", { type: "button", className: "small", id: "token-secret-done" }, t("tokens.secret.done"));
    done.addEventListener("click", () => { st.secret = null; render(); });
    return el("section", { className: "secret-box", id: "token-secret-box", role: "alert" },
      el("h3", {}, t("tokens.secret.title"), " #", String(s.id)),
      el("p", { className: "warning" }, t("tokens.secret.warning")),
      el("div", { className: "secret-row" }, input, copy, copied), done);
  }

  // ---- list --------------------------------------------------------------------------------------------------
  function actions(tok) {
    const me = HH.whoami;
    if (tok.revoked_s != null || !HH.can(REVOKE)) return "";
    if (me && tok.id === me.token_id) return el("span", { className: "tag" }, t("tokens.this_session"));
    if (st.confirm === tok.id) {
      const yes = el("button", { type: "button", className: "small danger-text", dataset: { act: "confirm", id: tok.id } }, t("tokens.revoke.confirm"));
      const no = el("button", { type: "button", className: "small", dataset: { act: "cancel" } }, t("tokens.revoke.cancel"));
      yes.addEventListener("click", () => revoke(tok.id));
      no.addEventListener("click", () => { st.confirm = null; render(); });
      return el("span", { className: "actions" }, el("span", { className: "confirm-q" }, t("tokens.revoke.question")), yes, no);
    }
    const b = el("button", { type: "button", className: "small", dataset: { act: "revoke", id: tok.id } }, t("tokens.revoke"));
    b.addEventListener("click", () => { st.confirm = tok.id; render(); });
    return b;
  }
  async function revoke(id) {
    try {
      await HH.api(`/api/v1/auth/tokens/${encodeURIComponent(id)}`, { method: "DELETE" });
      st.note = t("tokens.revoked_ok", { id });
      st.confirm = null;
    } catch (err) {
      st.error = err;
    }
    await load();
  }
  function tenantFilter() {
    if (!HH.can(TENANTS)) return null;
    const sel = el("select", { id: "tokens-tenant-filter", dataset: { keep: "off" } }, new Option(t("tokens.all_tenants"), ""),
      st.tenants.map((x) => new Option(`${x.name} (${x.id})`, x.id)));
    sel.value = st.tenant;
    sel.addEventListener("change", () => { st.tenant = sel.value; st.offset = 0; load(); });
    return el("label", { className: "inline" }, el("span", {}, t("tokens.f.filter_tenant")), sel);
  }
  function listSection() {
    const cols = ["id", "name", "prefix", "role", "tenant", "scopes", "created", "expires", "state", "actions"]
      .map((k) => t(`tokens.col.${k}`));
    const items = st.page ? st.page.items : [];
    const rows = items.map((tok) => {
      const state = stateOf(tok);
      return [
        { text: String(tok.id), className: "mono" }, tok.name, { text: tok.prefix + "…", className: "mono" },
        t(`role.${tok.role}`), tok.tenant || (tok.centers.length ? tok.centers.join(", ") : "–"), tok.scopes.join(", "),
        HH.time(tok.created_s), tok.expires_s == null ? t("tokens.never") : HH.time(tok.expires_s),
        el("span", { className: `tok-state tok-${state}` }, t(`tokens.state.${state}`)), actions(tok),
      ];
    });
    const table = HH.table(cols, rows, t("tokens.empty"));
    table.id = "tokens-table";
    items.forEach((tok, i) => { table.tBodies[0].rows[i].dataset.id = tok.id; });
    return el("section", { className: "panel section" },
      el("div", { className: "section-head" }, el("h3", {}, t("tokens.list.title")), tenantFilter()),
      st.note ? el("div", { className: "ok-line", role: "status" }, st.note) : null,
      el("div", { className: "table-wrap" }, table),
      st.page ? HH.pager(st.page, (off) => { st.offset = off; load(); }) : null);
  }

  /** Draw the page; what was typed into the create form and not sent stays (HH.keepInputs), its role's fields
      shown again for the kept role. */
  function render() {
    if (!root) return;
    syncRole = null;
    HH.keepInputs(root, draw);
    if (syncRole) syncRole();
  }
  function draw() {
    const head = el("div", { className: "section-head" }, el("h2", {}, t("tokens.title")), el("span", { className: "hint" }, t("tokens.hint")));
    const parts = [head];
    if (st.error) parts.push(HH.errorBox(st.error));
    if (st.secret) parts.push(secretBox());
    if (grantable().length) parts.push(createForm());
    else parts.push(el("p", { className: "hint-line" }, t("tokens.read_only")));
    parts.push(listSection());
    root.replaceChildren(...parts);
  }

  HH.registerPage({
    name: "tokens",
    nav: "tokens.nav",
    needs: [LIST],
    calls: [LIST, CREATE, REVOKE, TENANTS],
    show(params, elem) {
      root = elem;
      st.note = "";
      st.confirm = null;
      st.secret = null;  // shown once: leaving the page forgets it
      return load();
    },
  });
  HH.onLang(() => { if (HH.view === "tokens") render(); });
})();
