/* Center storage (#endpoints): the storage endpoints of an operator's own centers (platform admins, opening it
   by its address: every endpoint, paged; their menu has the Storage page instead, which does all of this and
   more: `unless` below) with capacity, use, health and drain state; drain one with a reason (no new copies are placed
   there, the copies already there stay readable) and resume it; change its capacity. PATCH
   /api/v1/storage-endpoints/{id} with drained + reason or capacity_bytes only: the connection (URL, bucket,
   keys) is the admin's, on the Storage page. Other centers' endpoints are not listed; the API refuses them
   (403), and that answer is shown. Sizes: bytes in the API, GiB here. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "endpoints.nav": "中心存储",
      "endpoints.title": "中心存储端点",
      "endpoints.intro": "排空的端点不再放入新副本（上传与复制会选其他端点），已有副本仍可读取；容量是平台可在该端点存放的数据量。",
      "endpoints.no_centers": "此账号未绑定任何数据中心。",
      "endpoints.empty": "本中心暂无存储端点",
      "endpoints.list": "存储端点",
      "endpoints.col.id": "端点",
      "endpoints.col.center": "中心",
      "endpoints.col.tier": "存储层",
      "endpoints.tier.hot": "热",
      "endpoints.tier.warm": "温",
      "endpoints.tier.cold": "冷",
      "endpoints.col.medium": "介质",
      "endpoints.col.capacity": "容量 GiB",
      "endpoints.col.used": "已用 GiB",
      "endpoints.col.free": "剩余 GiB",
      "endpoints.col.health": "健康",
      "endpoints.col.state": "状态",
      "endpoints.col.actions": "操作",
      "endpoints.healthy": "正常",
      "endpoints.unhealthy": "异常",
      "endpoints.in_service": "使用中",
      "endpoints.drained": "已排空",
      "endpoints.reason": "排空原因",
      "endpoints.reason_placeholder": "例如：更换硬盘",
      "endpoints.drain": "排空",
      "endpoints.resume": "恢复",
      "endpoints.drain_label": "排空 {id}",
      "endpoints.resume_label": "恢复 {id}",
      "endpoints.done_drain": "已排空 {id}：不再放入新副本。",
      "endpoints.done_resume": "已恢复 {id}：重新接收副本。",
      "endpoints.capacity": "修改容量",
      "endpoints.capacity.endpoint": "端点",
      "endpoints.capacity.gib": "容量（GiB）",
      "endpoints.capacity.save": "保存容量",
      "endpoints.done_capacity": "{id} 的容量已改为 {gib} GiB。",
      "endpoints.failed": "未能完成：{detail}",
    },
    en: {
      "endpoints.nav": "Center storage",
      "endpoints.title": "Storage endpoints of the centers",
      "endpoints.intro": "A drained endpoint gets no new copies (uploads and replication pick other endpoints); the copies already there stay readable. Capacity is how much the platform may store there.",
      "endpoints.no_centers": "This account is bound to no data center.",
      "endpoints.empty": "No storage endpoint in these centers",
      "endpoints.list": "Storage endpoints",
      "endpoints.col.id": "Endpoint",
      "endpoints.col.center": "Center",
      "endpoints.col.tier": "Tier",
      "endpoints.tier.hot": "hot",
      "endpoints.tier.warm": "warm",
      "endpoints.tier.cold": "cold",
      "endpoints.col.medium": "Medium",
      "endpoints.col.capacity": "Capacity GiB",
      "endpoints.col.used": "Used GiB",
      "endpoints.col.free": "Free GiB",
      "endpoints.col.health": "Health",
      "endpoints.col.state": "State",
      "endpoints.col.actions": "Actions",
      "endpoints.healthy": "healthy",
      "endpoints.unhealthy": "unhealthy",
      "endpoints.in_service": "in service",
      "endpoints.drained": "drained",
      "endpoints.reason": "Reason for draining",
      "endpoints.reason_placeholder": "e.g. replacing disks",
      "endpoints.drain": "Drain",
      "endpoints.resume": "Resume",
      "endpoints.drain_label": "Drain {id}",
      "endpoints.resume_label": "Resume {id}",
      "endpoints.done_drain": "{id} drained: no new copies are placed there.",
      "endpoints.done_resume": "{id} resumed: it takes new copies again.",
      "endpoints.capacity": "Change the capacity",
      "endpoints.capacity.endpoint": "Endpoint",
      "endpoints.capacity.gib": "Capacity (GiB)",
      "endpoints.capacity.save": "Save capacity",
      "endpoints.done_capacity": "Capacity of {id} set to {gib} GiB.",
      "endpoints.failed": "Not done: {detail}",
    },
  });

  const { t, el } = HH;
  const PATCH = "PATCH /api/v1/storage-endpoints/{endpoint_id}";
  const LIMIT = 200;
  const GIB = 1024 ** 3;  // bytes
  const st = { items: [], page: null, offset: 0, message: "", topo: null, refill: null };
  const gib = (n) => HH.fmt(n / GIB, 1);
  const enc = encodeURIComponent;

  /** The operator's centers; null for the roles that see every center (admins). */
  function myCenters() {
    const me = HH.whoami;
    return me && me.role === "operator" ? me.centers || [] : null;
  }
  function centerName(id) {
    const c = st.topo && st.topo.centers.find((x) => x.id === id);
    return c ? `${HH.named(c)} (${id})` : id;
  }
  /** The server's refusal, its message shown as it is (a 403 here is a scope refusal, not a log-in matter). */
  function showRefusal(slot, err) {
    HH.showError(slot, err instanceof HH.ApiError && err.status === 401 ? err : new Error(err.message || String(err)), "endpoints.failed");
  }

  const fresh = HH.latest();
  /** Read the endpoints into `st`: true, or false when a later read (a drain's, resume's or capacity's reload, a
      pager click) overtook this one: it stores nothing and its caller draws nothing. */
  async function load() {
    const mine = fresh();
    const centers = myCenters();
    if (centers) {
      const pages = await Promise.all(centers.map((c) => HH.api(`/api/v1/storage-endpoints${HH.query({ center: c, limit: 500 })}`)));
      if (!mine()) return false;
      st.items = pages.flatMap((p) => p.items).filter((e) => centers.includes(e.center));
      st.page = null;
    } else {
      const page = await HH.api(`/api/v1/storage-endpoints${HH.query({ limit: LIMIT, offset: st.offset })}`);
      if (!mine()) return false;
      st.page = page;
      st.items = st.page.items;
    }
    return true;
  }

  function table() {
    const rows = st.items.map((e) => [
      { text: e.id, className: "mono" }, centerName(e.center), HH.label("endpoints.tier", e.temperature), { text: e.medium, className: "mono" },
      { text: gib(e.capacity_bytes), className: "num" }, { text: gib(e.used_bytes), className: "num" },
      { text: gib(e.free_bytes), className: "num" },
      el("span", { className: `state ${e.healthy ? "state-succeeded" : "state-failed"}` }, t(e.healthy ? "endpoints.healthy" : "endpoints.unhealthy")),
      [el("span", { className: `state ${e.drained ? "state-cancelled" : ""}`, dataset: { drained: String(e.drained) } },
        t(e.drained ? "endpoints.drained" : "endpoints.in_service")),
      e.reason ? el("div", { className: "hint-line" }, e.reason) : null],
      actionButton(e),
    ]);
    const tbl = HH.table([t("endpoints.col.id"), t("endpoints.col.center"), t("endpoints.col.tier"), t("endpoints.col.medium"),
      { text: t("endpoints.col.capacity"), num: true }, { text: t("endpoints.col.used"), num: true }, { text: t("endpoints.col.free"), num: true },
      t("endpoints.col.health"), t("endpoints.col.state"), t("endpoints.col.actions")], rows, t("endpoints.empty"));
    tbl.id = "ep-table";
    return HH.scrollWrap("table-wrap", tbl);
  }
  function actionButton(e) {
    const what = e.drained ? "resume" : "drain";
    const b = el("button", { type: "button", className: "small", dataset: { act: what, id: e.id } }, t(`endpoints.${what}`));
    b.setAttribute("aria-label", t(`endpoints.${what}_label`, { id: e.id }));
    return b;
  }

  function capacityForm() {
    if (!st.items.length) return null;
    const select = el("select", { id: "ep-cap-endpoint", name: "endpoint" }, st.items.map((e) => new Option(e.id, e.id)));
    const cap = el("input", { type: "number", id: "ep-cap-gib", name: "capacity_bytes", min: 0, step: "any", required: true });
    // another endpoint picked: its capacity (what was typed dropped); after a redraw (all false): unless typed
    const fill = (all) => {
      if (all) HH.keepInputs.forget(cap);
      if (all || cap.dataset.hhTouched !== "1") cap.value = String(st.items.find((e) => e.id === select.value).capacity_bytes / GIB);
    };
    select.addEventListener("change", () => fill(true));
    fill(true);
    st.refill = () => fill(false);
    const slot = el("small", { className: "field-error", id: "ep-cap-error-field", dataset: { errorFor: "capacity_bytes" } });
    cap.setAttribute("aria-describedby", "ep-cap-error-field");
    const general = el("div", { id: "ep-cap-error" });
    const form = el("form", { className: "job-form", id: "ep-capacity", noValidate: true },
      el("label", { className: "field" }, t("endpoints.capacity.endpoint"), select),
      el("label", { className: "field" }, t("endpoints.capacity.gib"), cap, slot),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("endpoints.capacity.save"))),
      el("div", { className: "wide" }, general));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      slot.textContent = "";
      cap.classList.remove("invalid");
      general.replaceChildren();
      const id = select.value;
      try {
        const out = await HH.api(`/api/v1/storage-endpoints/${enc(id)}`, { method: "PATCH", body: { capacity_bytes: Math.round(Number(cap.value) * GIB) } });
        st.message = t("endpoints.done_capacity", { id, gib: gib(out.capacity_bytes) });
        HH.keepInputs.forget(form);  // saved: the reload shows the endpoint's capacity
        await refresh();
      } catch (err) {
        const here = err instanceof HH.ApiError ? err.detail.filter((d) => String(d.path || "").replace(/^body\.?/, "") === "capacity_bytes") : [];
        if (here.length && err.status === 422) {
          slot.textContent = here.map((d) => d.message).join("; ");
          cap.classList.add("invalid");
        } else {
          showRefusal(general, err);
        }
      }
    });
    return el("section", { className: "section panel" }, el("h3", {}, t("endpoints.capacity")), form);
  }

  function render(root) {
    const centers = myCenters();
    const head = el("section", { className: "section" }, el("div", { className: "section-head" }, el("h2", {}, t("endpoints.title"))),
      el("p", { className: "hint-line" }, t("endpoints.intro")));
    if (centers && !centers.length) {
      root.replaceChildren(head, el("p", { className: "notice" }, t("endpoints.no_centers")));
      return;
    }
    const reason = el("input", { type: "text", id: "ep-reason", maxLength: 500, placeholder: t("endpoints.reason_placeholder") });
    const msg = el("div", { id: "ep-message", role: "status" }, st.message ? el("p", { className: "ok-line" }, st.message) : null);
    st.message = "";
    // a reload keeps what was typed and not sent (HH.keepInputs), then the untouched capacity shows the kept
    // endpoint's ('hh-inputs-kept')
    st.refill = null;
    HH.keepInputs(root, () => root.replaceChildren(...[head, el("section", { className: "section panel" }, el("h3", {}, t("endpoints.list")), msg,
      st.items.length ? el("p", {}, el("label", { className: "inline", htmlFor: "ep-reason" }, t("endpoints.reason")), " ", reason) : null,
      table(), st.page ? HH.pager(st.page, (off) => { st.offset = off; refresh().catch((err) => showRefusal(msg, err)); }) : null),
    capacityForm()].filter(Boolean)));  // a null child would show as "null"
  }
  async function refresh() {
    if ((await load()) && HH.view === "endpoints") render(page.el);
  }
  /** Drain (with the reason typed) or resume the endpoint of the button: its id read when clicked. */
  async function act(ev) {
    const b = ev.target.closest("button[data-act]");
    if (!b) return;
    const id = b.dataset.id;
    const drain = b.dataset.act === "drain";
    const reason = (page.el.querySelector("#ep-reason") || { value: "" }).value.trim();
    try {
      await HH.api(`/api/v1/storage-endpoints/${enc(id)}`, { method: "PATCH", body: drain ? { drained: true, reason: reason || undefined } : { drained: false } });
      st.message = t(drain ? "endpoints.done_drain" : "endpoints.done_resume", { id });
      const used = page.el.querySelector("#ep-reason");
      if (drain && used) HH.keepInputs.forget(used);  // the reason went with the drain
      await refresh();
    } catch (err) {
      showRefusal(page.el.querySelector("#ep-message"), err);
    }
  }

  const page = HH.registerPage({
    name: "endpoints",
    nav: "endpoints.nav",
    needs: ["GET /api/v1/storage-endpoints", PATCH],
    // whoever may register endpoints (the platform admin) has the Storage page: one menu entry for storage
    unless: ["POST /api/v1/storage-endpoints"],
    calls: ["GET /api/v1/storage-endpoints", PATCH],
    async show(params, root) {
      st.topo = st.topo || (await HH.topology);
      st.offset = 0;
      if (await load()) render(root);
    },
  });
  page.el.addEventListener("click", (ev) => { act(ev).catch(() => null); });
  // once what was typed is back (a reload's or a language switch's redraw: HH.keepInputs), the untouched capacity
  // shows the kept endpoint's (no change event on restore)
  page.el.addEventListener("hh-inputs-kept", () => { if (st.refill) st.refill(); });
  HH.onLang(() => { if (HH.view === "endpoints") render(page.el); });
})();
