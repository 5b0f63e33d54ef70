/* One transfer (#transfer/<id>): a copy of one file of a dataset to a storage endpoint — its source and
   destination endpoints (and the sources tried), state, attempts, bytes, times, cost, energy and carbon, and the
   last error; retried from here when it failed (tenants, admins). Opened from a dataset's transfers (Datasets
   page); tenants see only their own (another tenant's answers 404, as an unknown one). Refreshed every 3 s while
   queued or active. Bytes in bytes, times epoch seconds, cost in fen (shown in yuan), energy Wh, carbon grams. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "transfer.title": "数据传输 {id}",
      "transfer.back_dataset": "← 数据集 {id}",
      "transfer.back": "← 返回",
      "transfer.not_found": "传输 {id} 不存在或无权查看",
      "transfer.dataset": "数据集",
      "transfer.file": "文件",
      "transfer.tenant": "租户",
      "transfer.rule": "副本规则",
      "transfer.rule_none": "无（手动）",
      "transfer.source": "源端点",
      "transfer.source_none": "尚未选定",
      "transfer.dest": "目标端点",
      "transfer.tried": "已尝试的源端点",
      "transfer.state": "状态",
      "transfer.priority": "优先级（1 最低，5 最高）",
      "transfer.attempts": "尝试次数",
      "transfer.attempts_of": "{n} / {max}",
      "transfer.bytes": "字节数",
      "transfer.created": "创建时间",
      "transfer.started": "开始时间",
      "transfer.finished": "结束时间",
      "transfer.duration": "耗时（秒）",
      "transfer.cost": "流量费用",
      "transfer.energy": "能耗（瓦时）",
      "transfer.carbon": "碳排放（克 CO₂）",
      "transfer.error": "错误",
      "transfer.retry": "重试",
      "transfer.retried": "已重新排队",
      "transfer.state.queued": "排队",
      "transfer.state.active": "传输中",
      "transfer.state.done": "完成",
      "transfer.state.failed": "失败",
    },
    en: {
      "transfer.title": "Transfer {id}",
      "transfer.back_dataset": "← Dataset {id}",
      "transfer.back": "← Back",
      "transfer.not_found": "Transfer {id} does not exist or is not yours to see",
      "transfer.dataset": "Dataset",
      "transfer.file": "File",
      "transfer.tenant": "Tenant",
      "transfer.rule": "Replication rule",
      "transfer.rule_none": "none (by hand)",
      "transfer.source": "Source endpoint",
      "transfer.source_none": "not chosen yet",
      "transfer.dest": "Destination endpoint",
      "transfer.tried": "Sources tried",
      "transfer.state": "State",
      "transfer.priority": "Priority (1 lowest, 5 highest)",
      "transfer.attempts": "Attempts",
      "transfer.attempts_of": "{n} of {max}",
      "transfer.bytes": "Bytes",
      "transfer.created": "Created",
      "transfer.started": "Started",
      "transfer.finished": "Finished",
      "transfer.duration": "Duration (s)",
      "transfer.cost": "Egress cost",
      "transfer.energy": "Energy (Wh)",
      "transfer.carbon": "Carbon (g CO₂)",
      "transfer.error": "Error",
      "transfer.retry": "Retry",
      "transfer.retried": "Queued again",
      "transfer.state.queued": "queued",
      "transfer.state.active": "active",
      "transfer.state.done": "done",
      "transfer.state.failed": "failed",
    },
  });

  const { t, el, fmt } = HH;
  const REFRESH_MS = 3000;
  const STATE_CLASS = { queued: "state-placed", active: "state-running", done: "state-succeeded", failed: "state-failed" };
  const st = { id: null, x: null, timer: null, msg: "", busy: false };

  function kv(pairs) {
    return el("dl", { className: "kv", id: "transfer-kv" }, pairs.map(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v == null || v === "" ? "–" : v)]));
  }
  const mono = (text) => el("span", { className: "mono" }, text);
  function back(x) {
    if (x && HH.can("GET /api/v1/datasets/{item_id}")) {
      return el("a", { href: `#datasets/${encodeURIComponent(x.dataset)}` }, t("transfer.back_dataset", { id: x.dataset }));
    }
    const b = el("button", { type: "button", className: "small" }, t("transfer.back"));
    b.addEventListener("click", () => history.back());
    return b;
  }
  function render(root) {
    const x = st.x;
    const state = el("span", { className: `state ${STATE_CLASS[x.state] || ""}`, id: "transfer-state", dataset: { state: x.state } },
      HH.label("transfer.state", x.state));
    const retry = x.state === "failed" && HH.can("POST /api/v1/transfers/{transfer_id}/retry")
      ? el("button", { type: "button", id: "transfer-retry" }, t("transfer.retry")) : null;
    if (retry) retry.addEventListener("click", () => act(root));
    root.replaceChildren(...[el("p", {}, back(x)),
      el("div", { className: "section-head" }, el("h2", {}, t("transfer.title", { id: x.id })), state, retry),
      el("div", { id: "transfer-error" }),
      st.msg ? el("p", { className: "ok-line", role: "status" }, st.msg) : null,
      el("div", { className: "panel" }, kv([
        ["transfer.dataset", HH.can("GET /api/v1/datasets/{item_id}") ? el("a", { href: `#datasets/${encodeURIComponent(x.dataset)}`, className: "mono" }, x.dataset) : mono(x.dataset)],
        ["transfer.file", mono(x.file)],
        HH.whoami && HH.whoami.tenant ? null : ["transfer.tenant", x.tenant],
        ["transfer.rule", x.rule ? mono(x.rule) : t("transfer.rule_none")],
        ["transfer.source", x.source_endpoint ? mono(x.source_endpoint) : t("transfer.source_none")],
        ["transfer.dest", mono(x.dest_endpoint)],
        ["transfer.tried", x.tried_sources.length ? mono(x.tried_sources.join(", ")) : null],
        ["transfer.state", HH.label("transfer.state", x.state)],
        ["transfer.priority", fmt(x.priority)],
        ["transfer.attempts", t("transfer.attempts_of", { n: fmt(x.attempts), max: fmt(x.max_attempts) })],
        ["transfer.bytes", fmt(x.bytes)],
        ["transfer.created", HH.time(x.created_s)],
        ["transfer.started", x.started_s == null ? null : HH.time(x.started_s)],
        ["transfer.finished", x.finished_s == null ? null : HH.time(x.finished_s)],
        ["transfer.duration", x.duration_s == null ? null : fmt(x.duration_s, 2)],
        ["transfer.cost", HH.money(x.cost_fen / 100)],
        ["transfer.energy", HH.sig(x.energy_wh, 3)],
        ["transfer.carbon", HH.sig(x.carbon_g, 3)],
        ["transfer.error", x.error ? el("span", { className: "wrap", id: "transfer-error-text" }, x.error) : null],
      ].filter(Boolean)))].filter(Boolean));  // a null child would show as "null"
  }
  async function act(root) {
    try {
      await HH.api(`/api/v1/transfers/${encodeURIComponent(st.id)}/retry`, { method: "POST" });
      st.msg = t("transfer.retried");
      await load(root);
    } catch (err) {
      HH.showError(root.querySelector("#transfer-error"), err);
    }
  }
  const fresh = HH.latest();
  /** Read the transfer, then draw: only the latest of overlapping loads (the 3 s refresh, a retry's reload, another
      transfer opened) stores its answer, so an older answer never replaces a newer one. */
  async function load(root) {
    const mine = fresh();
    try {
      if (!/^[0-9]{1,18}$/.test(st.id)) throw new HH.ApiError(404, []);  // not a transfer's number
      const x = await HH.api(`/api/v1/transfers/${encodeURIComponent(st.id)}`);
      if (!mine()) return;  // overtaken: the later load draws
      st.x = x;
    } catch (err) {
      if (!mine()) return;
      if (!(err instanceof HH.ApiError && (err.status === 404 || err.status === 422))) throw err;
      st.x = null;
      root.replaceChildren(el("p", {}, back(null)), el("h2", {}, t("transfer.title", { id: st.id })),
        el("div", { className: "alert", id: "transfer-not-found" }, t("transfer.not_found", { id: st.id })));
      return;
    }
    render(root);
  }
  async function tick() {
    if (st.busy || HH.view !== "transfer" || !st.x || document.hidden || !["queued", "active"].includes(st.x.state)) return;
    st.busy = true;
    try { await HH.keepFocus(page.el, () => load(page.el)); } catch (err) { HH.showError(page.el.querySelector("#transfer-error") || page.el, err); } finally { st.busy = false; }
  }

  const page = HH.registerPage({
    name: "transfer",
    parent: "datasets",
    needs: ["GET /api/v1/transfers/{transfer_id}"],
    calls: ["GET /api/v1/transfers/{transfer_id}", "POST /api/v1/transfers/{transfer_id}/retry"],
    show(params, root) {
      if (params[0] !== st.id) st.msg = "";
      Object.assign(st, { id: params[0] || "", x: null });
      return load(root);
    },
  });
  HH.onLang(() => { if (HH.view === "transfer" && st.x) render(page.el); });
  HH.onView((view) => {
    clearInterval(st.timer);
    st.timer = view === "transfer" ? setInterval(tick, REFRESH_MS) : null;
  });
})();
