/* Storage (#storage), platform admins: storage endpoints (list, register with capacity in GiB and the NAMES of
   the secrets holding the keys, show one, edit capacity / drain with a reason, delete after a confirmation in
   the row) and lifecycle (tiering) policies (list, put = create or replace, delete; idle times in days). The
   page's DOM, drawn from `st`: pages/storage_view.js (HH.storageView, no API calls). */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "storage.nav": "存储",
      "storage.title": "存储端点",
      "storage.count": "共 {total} 个存储端点",
      "storage.col.id": "编号",
      "storage.col.center": "中心",
      "storage.col.tier": "层级",
      "storage.col.medium": "介质",
      "storage.col.capacity": "容量",
      "storage.col.used": "已用",
      "storage.col.free": "可用空间",
      "storage.col.state": "状态",
      "storage.col.drained": "已排空",
      "storage.col.actions": "操作",
      "storage.empty": "还没有存储端点",
      "storage.available": "可用",
      "storage.unavailable": "不可用",
      "storage.healthy": "健康",
      "storage.unhealthy": "不健康",
      "storage.yes": "是",
      "storage.no": "否",
      "storage.show": "详情",
      "storage.edit": "编辑",
      "storage.delete": "删除",
      "storage.delete.confirm": "确定删除存储端点 {id}？",
      "storage.delete.yes": "确认删除",
      "storage.delete.no": "取消",
      "storage.deleted": "已删除存储端点 {id}",
      "storage.action.failed": "操作失败：{detail}",
      "storage.list.failed": "无法读取存储端点：{detail}",
      "storage.detail.title": "存储端点 {id}",
      "storage.detail.close": "关闭详情",
      "storage.d.city": "城市",
      "storage.d.security": "安全等级",
      "storage.d.reason": "原因",
      "storage.d.checked": "上次检查",
      "storage.d.url": "地址",
      "storage.d.bucket": "存储桶",
      "storage.d.access": "访问密钥的密文名",
      "storage.d.secret": "私密密钥的密文名",
      "storage.form.new": "登记存储端点",
      "storage.form.edit": "编辑存储端点 {id}",
      "storage.f.id": "编号（小写字母、数字、连字符）",
      "storage.f.center": "中心编号",
      "storage.f.temperature": "温度层级",
      "storage.f.medium": "介质",
      "storage.f.url": "S3 地址（http:// 或 https://）",
      "storage.f.bucket": "存储桶",
      "storage.f.access": "访问密钥的密文名（可选）",
      "storage.f.secret": "私密密钥的密文名（可选）",
      "storage.f.capacity": "容量（GiB）",
      "storage.f.drained": "排空（不再放入新副本）",
      "storage.f.reason": "排空原因",
      "storage.save.new": "登记",
      "storage.save.edit": "保存",
      "storage.cancel": "取消编辑",
      "storage.created": "已登记存储端点 {id}",
      "storage.saved": "已保存存储端点 {id}",
      "storage.save.failed": "无法保存存储端点：{detail}",
      "storage.t.hot": "热",
      "storage.t.warm": "温",
      "storage.t.cold": "冷",
      "storage.m.flash": "闪存",
      "storage.m.hdd": "机械硬盘",
      "storage.m.tape": "磁带",
      "storage.m.optical": "光盘",
      "storage.p.title": "生命周期策略",
      "storage.p.count": "共 {total} 条策略",
      "storage.p.col.tenant": "租户",
      "storage.p.col.move": "迁移",
      "storage.p.col.idle": "闲置天数",
      "storage.p.col.age": "最短存放天数",
      "storage.p.col.enabled": "启用",
      "storage.p.province": "全省",
      "storage.p.empty": "还没有生命周期策略",
      "storage.p.list.failed": "无法读取生命周期策略：{detail}",
      "storage.p.form": "新建或替换策略",
      "storage.p.f.id": "策略编号",
      "storage.p.f.tenant": "租户（留空为全省策略）",
      "storage.p.f.from": "从层级",
      "storage.p.f.to": "移到层级",
      "storage.p.save": "保存策略",
      "storage.p.saved": "已保存策略 {id}",
      "storage.p.save.failed": "无法保存策略：{detail}",
      "storage.p.deleted": "已删除策略 {id}",
    },
    en: {
      "storage.nav": "Storage",
      "storage.title": "Storage endpoints",
      "storage.count": "{total} storage endpoints",
      "storage.col.id": "ID",
      "storage.col.center": "Center",
      "storage.col.tier": "Tier",
      "storage.col.medium": "Medium",
      "storage.col.capacity": "Capacity",
      "storage.col.used": "Used",
      "storage.col.free": "Free",
      "storage.col.state": "State",
      "storage.col.drained": "Drained",
      "storage.col.actions": "Actions",
      "storage.empty": "No storage endpoints yet",
      "storage.available": "available",
      "storage.unavailable": "unavailable",
      "storage.healthy": "healthy",
      "storage.unhealthy": "unhealthy",
      "storage.yes": "Yes",
      "storage.no": "No",
      "storage.show": "Details",
      "storage.edit": "Edit",
      "storage.delete": "Delete",
      "storage.delete.confirm": "Delete storage endpoint {id}?",
      "storage.delete.yes": "Yes, delete",
      "storage.delete.no": "Cancel",
      "storage.deleted": "Deleted storage endpoint {id}",
      "storage.action.failed": "The action failed: {detail}",
      "storage.list.failed": "Could not read the storage endpoints: {detail}",
      "storage.detail.title": "Storage endpoint {id}",
      "storage.detail.close": "Close the details",
      "storage.d.city": "City",
      "storage.d.security": "Security level",
      "storage.d.reason": "Reason",
      "storage.d.checked": "Last checked",
      "storage.d.url": "URL",
      "storage.d.bucket": "Bucket",
      "storage.d.access": "Access key secret name",
      "storage.d.secret": "Secret key secret name",
      "storage.form.new": "Register a storage endpoint",
      "storage.form.edit": "Edit storage endpoint {id}",
      "storage.f.id": "ID (lower-case letters, digits, hyphens)",
      "storage.f.center": "Center ID",
      "storage.f.temperature": "Temperature tier",
      "storage.f.medium": "Medium",
      "storage.f.url": "S3 URL (http:// or https://)",
      "storage.f.bucket": "Bucket",
      "storage.f.access": "Access key secret name (optional)",
      "storage.f.secret": "Secret key secret name (optional)",
      "storage.f.capacity": "Capacity (GiB)",
      "storage.f.drained": "Drained (no new copies placed here)",
      "storage.f.reason": "Reason for draining",
      "storage.save.new": "Register",
      "storage.save.edit": "Save",
      "storage.cancel": "Cancel editing",
      "storage.created": "Registered storage endpoint {id}",
      "storage.saved": "Saved storage endpoint {id}",
      "storage.save.failed": "Could not save the storage endpoint: {detail}",
      "storage.t.hot": "hot",
      "storage.t.warm": "warm",
      "storage.t.cold": "cold",
      "storage.m.flash": "flash",
      "storage.m.hdd": "HDD",
      "storage.m.tape": "tape",
      "storage.m.optical": "optical",
      "storage.p.title": "Lifecycle policies",
      "storage.p.count": "{total} policies",
      "storage.p.col.tenant": "Tenant",
      "storage.p.col.move": "Move",
      "storage.p.col.idle": "Idle days",
      "storage.p.col.age": "Minimum age, days",
      "storage.p.col.enabled": "Enabled",
      "storage.p.province": "province",
      "storage.p.empty": "No lifecycle policies yet",
      "storage.p.list.failed": "Could not read the lifecycle policies: {detail}",
      "storage.p.form": "Create or replace a policy",
      "storage.p.f.id": "Policy ID",
      "storage.p.f.tenant": "Tenant (empty: the province's policy)",
      "storage.p.f.from": "From tier",
      "storage.p.f.to": "To tier",
      "storage.p.save": "Save the policy",
      "storage.p.saved": "Saved policy {id}",
      "storage.p.save.failed": "Could not save the policy: {detail}",
      "storage.p.deleted": "Deleted policy {id}",
    },
  });

  const { t } = HH;
  const LIMIT = 50;
  const GIB = 1024 ** 3;  // bytes
  const DAY = 86400;  // seconds
  const st = { page: null, policies: null, error: null, pError: null, actionError: null, status: "", pStatus: "", editing: null, confirming: null, detail: null, built: false };
  let root = null;
  const [q, enc] = [(sel) => root.querySelector(sel), encodeURIComponent];
  const view = HH.storageView(st, () => root, {
    save, savePolicy, cancelEdit: () => startEdit(null), show: showOne, edit: startEdit, remove, removePolicy, closeDetail,
  });
  const { applyTexts, render, renderPolicies } = view;

  // ---- lists ----------------------------------------------------------------------------------------------
  const fresh = HH.latest();  // overlapping loads (a save's, a delete's reload): only the latest stores and draws
  async function load() {
    const mine = fresh();
    const [eps, pols] = await Promise.allSettled([
      HH.api(`/api/v1/storage-endpoints` + HH.query({ limit: LIMIT })),
      HH.api(`/api/v1/lifecycle-policies` + HH.query({ limit: LIMIT })),
    ]);
    if (!mine()) return;  // overtaken: the later load draws
    st.page = eps.status === "fulfilled" ? eps.value : null;
    st.error = eps.status === "rejected" ? eps.reason : null;
    st.policies = pols.status === "fulfilled" ? pols.value : null;
    st.pError = pols.status === "rejected" ? pols.reason : null;
    render();
  }

  // ---- endpoint: show / register / edit / delete ----------------------------------------------------------
  // one endpoint's reads overlap (another row's Details clicked, a save's re-read of the endpoint shown): only the
  // latest stores and draws; closing the details or deleting the endpoint also outdates a read still waiting
  const freshDetail = HH.latest();
  async function showOne(id) {
    const mine = freshDetail();
    const [detail, err] = await HH.api(`/api/v1/storage-endpoints/${enc(id)}`).then((x) => [x, null], (e) => [null, e]);
    if (!mine()) return;  // overtaken: the later read draws
    if (detail) st.detail = detail;
    st.actionError = err;
    render();
  }
  function closeDetail() {
    freshDetail();
    st.detail = null;
    view.renderDetail();
  }
  const form = () => q("form.storage-form");
  function clearErrors(f, slot) {
    f.querySelectorAll(".field-error").forEach((n) => { n.textContent = ""; });
    f.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
    q(slot).replaceChildren();
  }
  function startEdit(ep) {
    st.editing = ep ? ep.id : null;
    const f = form();
    clearErrors(f, "#storage-form-error");
    const createOnly = ["id", "center", "temperature", "medium", "url", "bucket", "access_key_secret", "secret_key_secret"];
    createOnly.forEach((n) => { f.elements[n].closest("label").hidden = !!ep; });
    ["drained", "reason"].forEach((n) => { f.elements[n].closest("label").hidden = !ep; });
    if (!ep) f.reset();
    f.elements.capacity_bytes.value = ep ? String(ep.capacity_bytes / GIB) : "";
    f.elements.drained.checked = ep ? ep.drained : false;
    f.elements.reason.value = ep ? ep.reason || "" : "";
    q("#storage-cancel").hidden = !ep;
    q("#storage-form-status").textContent = "";
    applyTexts();
    if (ep) f.elements.capacity_bytes.focus();
  }
  /** Each {path, message} of a 4xx next to its field (`body.url` → url); the rest under the form. */
  function showErrors(f, slot, err, failKey) {
    const general = [];
    for (const item of err.detail || []) {
      const name = String(item.path || "").replace(/^body\.?/, "").split(/[.[]/)[0];
      const small = name && f.querySelector(`[data-error-for="${name}"]`);
      if (small && !small.closest("label").hidden) {
        small.textContent = item.message;
        f.elements[name].classList.add("invalid");
      } else {
        general.push(item.message);
      }
    }
    if (general.length || !(err.detail || []).length || err.authNeeded) {
      HH.showError(q(slot), err.authNeeded ? err : new Error(general.join("; ") || err.message), failKey);
    }
  }
  async function save(ev) {
    ev.preventDefault();
    const f = form();
    clearErrors(f, "#storage-form-error");
    const v = (n) => f.elements[n].value.trim();
    const capacity = v("capacity_bytes") === "" ? NaN : Math.round(Number(v("capacity_bytes")) * GIB);
    const id = st.editing || v("id");
    try {
      if (st.editing) {
        const body = { drained: f.elements.drained.checked, reason: v("reason") };
        if (!Number.isNaN(capacity)) body.capacity_bytes = capacity;
        await HH.api(`/api/v1/storage-endpoints/${enc(id)}`, { method: "PATCH", body });
      } else {
        const body = { id, center: v("center"), temperature: v("temperature"), medium: v("medium"), url: v("url"),
          bucket: v("bucket"), access_key_secret: v("access_key_secret") || null, secret_key_secret: v("secret_key_secret") || null,
          capacity_bytes: Number.isNaN(capacity) ? null : capacity };
        await HH.api(`/api/v1/storage-endpoints`, { method: "POST", body });
      }
      const doneKey = st.editing ? "storage.saved" : "storage.created";
      startEdit(null);
      q("#storage-form-status").textContent = t(doneKey, { id });
      if (st.detail && st.detail.id === id) await showOne(id);
      await load();
    } catch (err) {
      showErrors(f, "#storage-form-error", err, "storage.save.failed");
    }
  }
  async function remove(id) {
    st.confirming = null;
    st.status = "";
    st.actionError = null;
    try {
      await HH.api(`/api/v1/storage-endpoints/${enc(id)}`, { method: "DELETE" });
      st.status = t("storage.deleted", { id });
      if (st.editing === id) startEdit(null);
      if (st.detail && st.detail.id === id) closeDetail();
      await load();
    } catch (err) {
      st.actionError = err;
      render();
    }
  }

  // ---- lifecycle policies ---------------------------------------------------------------------------------
  async function savePolicy(ev) {
    ev.preventDefault();
    const f = q("form.policy-form");
    clearErrors(f, "#policy-form-error");
    const v = (n) => f.elements[n].value.trim();
    const days = (n) => (v(n) === "" ? null : Number(v(n)) * DAY);
    const id = v("id");
    const body = { tenant: v("tenant") || null, from_temperature: v("from_temperature"), to_temperature: v("to_temperature"),
      idle_s: days("idle_s"), min_age_s: days("min_age_s") ?? 0, enabled: f.elements.enabled.checked };
    try {
      await HH.api(`/api/v1/lifecycle-policies/${enc(id)}`, { method: "PUT", body });
      q("#policy-form-status").textContent = t("storage.p.saved", { id });
      f.elements.id.value = "";
      await load();
    } catch (err) {
      showErrors(f, "#policy-form-error", err, "storage.p.save.failed");
    }
  }
  async function removePolicy(id) {
    st.pStatus = "";
    try {
      await HH.api(`/api/v1/lifecycle-policies/${enc(id)}`, { method: "DELETE" });
      st.pStatus = t("storage.p.deleted", { id });
      st.pError = null;
      await load();
    } catch (err) {
      st.pError = err;
      renderPolicies();
    }
  }

  HH.registerPage({
    name: "storage",
    nav: "storage.nav",
    needs: ["GET /api/v1/storage-endpoints", "POST /api/v1/storage-endpoints"],
    calls: [
      "GET /api/v1/storage-endpoints", "POST /api/v1/storage-endpoints", "GET /api/v1/storage-endpoints/{endpoint_id}",
      "PATCH /api/v1/storage-endpoints/{endpoint_id}", "DELETE /api/v1/storage-endpoints/{endpoint_id}",
      "GET /api/v1/lifecycle-policies", "PUT /api/v1/lifecycle-policies/{policy_id}",
      "DELETE /api/v1/lifecycle-policies/{policy_id}",
    ],
    show(params, el_) {
      root = el_;
      if (!st.built) {
        root.replaceChildren(...view.nodes());
        st.built = true;
        startEdit(null);
        HH.onLang(() => { if (st.page || st.error) render(); else applyTexts(); });
      }
      st.status = "";
      st.actionError = null;
      return load();
    },
  });
})();
