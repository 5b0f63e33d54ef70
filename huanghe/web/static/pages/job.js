/* One job's page (#job/<id>, no menu entry; rows of the job list link here): its state, summary, cost and
   carbon (estimated, metered, the voucher share of its invoice), the scheduling report while it waits (why,
   its place in the queue, until when), the state timeline (GET /jobs/{id}/events), the placement explanation
   (each score term of the chosen pool and the runner-up, the filters that removed pools), the logs, followed
   while it runs (GET /jobs/{id}/logs from an offset), and cancel. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "job.title": "作业详情",
      "job.back": "返回作业列表",
      "job.not_found": "找不到作业 {id}，或您无权查看它。",
      "job.cancel": "取消作业",
      "job.cancel_requested": "已请求取消，等待后端停止作业",
      "job.summary": "概况",
      "job.name": "名称",
      "job.command": "命令",
      "job.script": "脚本",
      "job.resources": "资源",
      "job.resources_value": "{nodes} 个节点 × {cpus} 核 · {gpus} 卡 · {mem} GB",
      "job.datasets": "输入数据集",
      "job.slo": "时延要求 · 截止 · 价格上限",
      "job.slo_value": "{slo} ms · {deadline} · {price} 元/小时",
      "job.money": "费用与碳排放",
      "job.est_cost": "估计费用 元",
      "job.cost": "实际费用 元",
      "job.est_carbon": "估计碳排放 kg",
      "job.carbon": "实际碳排放 kg（计量）",
      "job.energy": "能耗 kWh",
      "job.voucher": "算力券分担",
      "job.voucher_value": "{cny}（账单 {invoice} 的 {share}）",
      "job.voucher_none": "尚未出账",
      "job.not_metered": "作业结束后计量",
      "job.waiting": "调度报告",
      "job.best": "最佳候选（尚未选定）",
      "job.w.queue": "排队位置",
      "job.w.queue_value": "第 {pos} 位，共 {n} 个排队作业",
      "job.w.next": "调度器最早处理时间",
      "job.w.reason": "原因",
      "job.w.until": "预计开始",
      "job.w.until_unknown": "暂无估计：调度器尚未找到可用资源池",
      "job.w.checked": "最近一次调度判断",
      "job.w.note": "调度器说明",
      "job.w.placed": "已分配到资源池，等待下发",
      "job.timeline": "状态时间线",
      "job.ev.time": "时间",
      "job.ev.kind": "事件",
      "job.ev.message": "说明",
      "job.ev.empty": "暂无事件",
      "job.placement": "调度说明",
      "job.logs": "日志",
      "job.logs.following": "作业运行中，日志每 2 秒刷新",
      "job.logs.empty": "暂无输出",
    },
    en: {
      "job.title": "Job",
      "job.back": "Back to the job list",
      "job.not_found": "Job {id} was not found, or you may not see it.",
      "job.cancel": "Cancel job",
      "job.cancel_requested": "Cancel requested; waiting for the back-end to stop the job",
      "job.summary": "Summary",
      "job.name": "Name",
      "job.command": "Command",
      "job.script": "Script",
      "job.resources": "Resources",
      "job.resources_value": "{nodes} nodes × {cpus} cores · {gpus} accelerators · {mem} GB",
      "job.datasets": "Input datasets",
      "job.slo": "Latency SLO · deadline · max price",
      "job.slo_value": "{slo} ms · {deadline} · {price} CNY/h",
      "job.money": "Cost and carbon",
      "job.est_cost": "Estimated cost, CNY",
      "job.cost": "Actual cost, CNY",
      "job.est_carbon": "Estimated carbon, kg",
      "job.carbon": "Actual carbon, kg (metered)",
      "job.energy": "Energy, kWh",
      "job.voucher": "Paid by vouchers",
      "job.voucher_value": "{cny} ({share} of invoice {invoice})",
      "job.voucher_none": "not invoiced yet",
      "job.not_metered": "metered when the job ends",
      "job.waiting": "Scheduling report",
      "job.best": "Best candidate (not chosen yet)",
      "job.w.queue": "Place in the queue",
      "job.w.queue_value": "{pos} of {n} pending jobs",
      "job.w.next": "Scheduler looks at it at the earliest",
      "job.w.reason": "Reason",
      "job.w.until": "Estimated start",
      "job.w.until_unknown": "no estimate: the scheduler has found no usable pool yet",
      "job.w.checked": "Last scheduling decision",
      "job.w.note": "Scheduler's note",
      "job.w.placed": "Placed in a pool, waiting to be dispatched",
      "job.timeline": "State timeline",
      "job.ev.time": "Time",
      "job.ev.kind": "Event",
      "job.ev.message": "Message",
      "job.ev.empty": "No events",
      "job.placement": "Placement explanation",
      "job.logs": "Logs",
      "job.logs.following": "The job runs; its logs refresh every 2 s",
      "job.logs.empty": "No output",
    },
  });

  const { t, fmt, sig, el } = HH;
  const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
  const POLL_MS = 2000;
  const CANCEL = "POST /api/v1/jobs/{job_id}:cancel";
  const st = { id: null, job: null, events: [], error: null, logs: "", offset: 0, logMessage: "", logsDone: false, timer: null, busy: false, el: null };

  function stateBadge(state) {
    return el("span", { className: "state state-" + String(state).toLowerCase(), dataset: { state } }, t("state." + state));
  }
  function kv(pairs) {
    return el("dl", { className: "kv" }, pairs.map(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v == null || v === "" ? "–" : v)]));
  }

  const fresh = HH.latest();
  /** Read the job, its events and new log output, then draw: only the latest of overlapping loads (the 2 s poll,
      a cancel's reload) stores its answers, so an older answer never replaces a newer one (nor adds logs twice). */
  async function load() {
    const id = st.id;
    const mine = fresh();
    try {
      const enc = encodeURIComponent(id);
      const [job, events] = await Promise.all([HH.api(`/api/v1/jobs/${enc}`), HH.api(`/api/v1/jobs/${enc}/events`)]);
      if (id !== st.id || !mine()) return;
      Object.assign(st, { job, events: events.items, error: null });
      await readLogs(id, mine);
    } catch (err) {
      if (id === st.id && mine()) st.error = err;
    }
    if (id === st.id && mine()) render();
  }
  /** Output from the last offset on; after the job ended, one more read that brings nothing closes the log. */
  async function readLogs(id, mine) {
    if (st.logsDone) return;
    const out = await HH.api(`/api/v1/jobs/${encodeURIComponent(id)}/logs?offset=${st.offset}`);
    if (id !== st.id || !mine()) return;
    st.logs += out.data;
    st.offset = out.next_offset;
    st.logMessage = out.message;
    st.logsDone = out.terminal && !out.data;
  }

  function placementBlock(placement, pending = false) {
    if (!placement || !placement.explanation) return el("p", { className: "hint-line" }, t("jobs.placement.none"));
    const x = placement.explanation;
    const parts = [kv([
      ["jobs.placement.policy", x.policy],
      ["jobs.placement.candidates", t("jobs.placement.counts", { candidates: fmt(x.candidates), feasible: fmt(x.feasible) })],
      ["jobs.placement.est", t("jobs.placement.est_value", { run: fmt(placement.est_run_s, 1), cost: sig(placement.est_cost_cny), carbon: sig(placement.est_carbon_kg) })],
    ])];
    parts.push(el("h4", {}, t("jobs.placement.removed")));
    parts.push(x.removed.length
      ? el("div", { className: "table-wrap" }, HH.table([t("jobs.placement.filter"), { text: t("jobs.placement.count"), num: true }, t("jobs.placement.examples")],
        x.removed.map((r) => [[...HH.coded("filter", r.reason), r.detail ? el("div", { className: "hint-line" }, r.detail) : null],
          { text: fmt(r.count), className: "num" }, { text: r.pool_ids.join(", "), className: "mono wrap" }])))
      : el("p", { className: "hint-line" }, t("jobs.placement.none_removed")));
    const picks = [[pending ? "job.best" : "jobs.placement.winner", x.winner], ["jobs.placement.runner_up", x.runner_up]].filter(([, p]) => p);
    if (picks.length) {
      const terms = [...new Set(picks.flatMap(([, p]) => Object.keys(p.terms)))];
      parts.push(el("h4", {}, t("jobs.placement.scores")));
      parts.push(el("div", { className: "table-wrap" }, HH.table(
        [t("jobs.placement.term"), ...picks.map(([k, p]) => ({ text: `${t(k)}: ${p.pool} (${p.center})`, num: true }))],
        [[t("jobs.placement.score"), ...picks.map(([, p]) => ({ text: sig(p.score, 6), className: "num strong" }))],
          ...terms.filter((k) => !k.endsWith("start_s") && !k.endsWith("end_s")).map((k) => [
            HH.coded("term", k), ...picks.map(([, p]) => ({ text: sig(p.terms[k], 4), className: "num" }))])])));
    }
    if (x.note) parts.push(el("p", { className: "hint-line" }, x.note));
    return el("div", { className: "placement" }, parts);
  }
  function waitingBlock(w) {
    if (!w) return null;
    if (w.state === "PLACED") {
      return el("section", { className: "waiting" }, el("h3", {}, t("job.waiting")), kv([
        ["job.w.reason", t("job.w.placed")], ["job.w.until", w.est_start_s == null ? null : HH.time(w.est_start_s)]]));
    }
    return el("section", { className: "waiting" }, el("h3", {}, t("job.waiting")), kv([
      ["job.w.queue", t("job.w.queue_value", { pos: fmt(w.queue_position), n: fmt(w.queue_length) })],
      ["job.w.next", HH.time(w.next_decision_s)],
      ["job.w.reason", w.reason],
      ["job.w.until", w.est_start_s == null ? t("job.w.until_unknown") : HH.time(w.est_start_s)],
      ["job.w.checked", w.checked_s == null ? null : HH.time(w.checked_s)],
      ["job.w.note", w.note],
    ]), w.explanation ? placementBlock({ explanation: w.explanation }, true) : null);
  }
  function moneyBlock(j) {
    const u = j.usage;
    const voucher = !u ? t("job.not_metered") : u.voucher_share == null ? t("job.voucher_none")
      : t("job.voucher_value", { cny: HH.money(u.voucher_cny), share: HH.pct(u.voucher_share), invoice: u.invoice_id });
    return kv([
      ["jobs.d.price", j.price_cny_per_hour == null ? null : fmt(j.price_cny_per_hour, 3)],
      ["job.est_cost", sig(j.est_cost_cny)],
      ["job.cost", sig(j.cost_cny)],
      ["job.est_carbon", sig(j.est_carbon_kg)],
      ["job.carbon", u ? sig(u.carbon_kg) : t("job.not_metered")],
      ["job.energy", u ? sig(u.energy_kwh) : null],
      ["job.voucher", voucher],
    ]);
  }
  function summaryBlock(j) {
    const s = j.spec || {};
    const code = s.command ? el("code", {}, s.command) : s.script ? el("pre", { className: "logs script" }, s.script) : null;
    return kv([
      ["job.name", j.name === j.id ? null : j.name],
      [s.script ? "job.script" : "job.command", code],
      ["job.resources", t("job.resources_value", { nodes: fmt(s.nodes || 1), cpus: sig(s.cpus == null ? 1 : s.cpus), gpus: sig(s.gpus || 0), mem: sig(s.mem_gb || 0) })],
      ["job.datasets", (s.datasets || []).join(", ")],
      ["job.slo", t("job.slo_value", { slo: s.latency_slo_ms == null ? "–" : sig(s.latency_slo_ms),
        deadline: s.deadline_s == null ? "–" : HH.time(j.submit_s + s.deadline_s), price: s.max_price_cny_per_hour == null ? "–" : sig(s.max_price_cny_per_hour) })],
      ["jobs.d.pool", j.pool ? `${j.pool} (${j.center})` : null],
      ["jobs.d.backend", j.backend ? `${j.backend} ${j.backend_job_id || ""}` : null],
      ["jobs.d.attempt", `${j.attempt} / ${j.max_attempts}`],
      ["jobs.d.exit_code", j.exit_code],
      ["jobs.d.message", j.message],
      ["jobs.d.times", `${HH.time(j.submit_s)} → ${HH.time(j.ended_s)}`],
    ]);
  }
  function render() {
    const root = st.el;
    const j = st.job;
    const head = root.querySelector(".section-head");
    head.querySelector(".job-state").replaceChildren(...(j ? [stateBadge(j.state)] : []));
    const cancel = root.querySelector("#job-cancel");
    cancel.hidden = !j || TERMINAL.has(j.state) || !HH.can(CANCEL);
    cancel.disabled = Boolean(j && j.cancel_requested);
    const errSlot = root.querySelector(".job-error");
    if (st.error && st.error.status === 404) {
      errSlot.replaceChildren(el("div", { className: "alert not-found", role: "alert" }, t("job.not_found", { id: st.id })));
    } else {
      HH.showError(errSlot, st.error, "jobs.error.detail");
    }
    const body = root.querySelector("#job-detail-body");
    if (!j) { body.replaceChildren(); root.querySelector(".job-logs-part").hidden = true; return; }
    const timeline = el("div", { className: "table-wrap" }, HH.table([t("job.ev.time"), t("job.ev.kind"), t("job.ev.message")],
      st.events.map((e) => [HH.time(e.t_s), e.state ? stateBadge(e.state) : el("span", { className: "mono" }, e.kind), { text: e.message, className: "wrap" }]),
      t("job.ev.empty")));
    body.replaceChildren(el("div", { className: "detail-grid" },
      el("div", {}, el("h3", {}, t("job.summary")), summaryBlock(j),
        j.cancel_requested && !TERMINAL.has(j.state) ? el("p", { className: "hint-line" }, t("job.cancel_requested")) : null,
        el("h3", {}, t("job.money")), moneyBlock(j), waitingBlock(j.waiting),
        el("h3", {}, t("job.timeline")), timeline),
      el("div", {}, el("h3", {}, t("job.placement")), placementBlock(j.placement))));
    root.querySelector(".job-logs-part").hidden = false;
    root.querySelector("#job-logs").textContent = st.logs;
    root.querySelector("#job-logs").hidden = !st.logs;
    const following = !TERMINAL.has(j.state);
    root.querySelector("#job-logs-note").textContent = following ? t("job.logs.following") : st.logs ? "" : st.logMessage || t("job.logs.empty");
  }
  function skeleton(el_) {
    const cancel = el("button", { type: "button", id: "job-cancel", className: "danger", hidden: true }, t("job.cancel"));
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      try {
        await HH.api(`/api/v1/jobs/${encodeURIComponent(st.id)}:cancel`, { method: "POST" });
        st.error = null;
      } catch (err) {
        st.error = err;
      }
      await load();
    });
    el_.replaceChildren(el("section", { className: "panel section", id: "job-detail" },
      el("div", { className: "section-head" },
        el("h2", {}, t("job.title"), " ", el("span", { className: "mono" }, st.id)), el("span", { className: "job-state" }), cancel,
        el("a", { href: "#jobs", className: "job-back" }, t("job.back"))),
      el("div", { className: "job-error" }), el("div", { id: "job-detail-body" }),
      el("div", { className: "job-logs-part", hidden: true }, el("h3", {}, t("job.logs")),
        el("div", { id: "job-logs-note", className: "hint-line", role: "status" }), el("pre", { id: "job-logs", className: "logs", tabIndex: 0 }))));
  }
  async function poll() {
    if (st.busy || HH.view !== "job" || document.hidden || !st.job) return;
    if (TERMINAL.has(st.job.state) && st.logsDone) return;
    st.busy = true;
    try { await load(); } finally { st.busy = false; }
  }

  HH.registerPage({
    name: "job",
    parent: "jobs",
    needs: ["GET /api/v1/jobs/{job_id}"],
    calls: ["GET /api/v1/jobs/{job_id}", "GET /api/v1/jobs/{job_id}/events", "GET /api/v1/jobs/{job_id}/logs", CANCEL],
    show(params, el_) {
      const id = params[0] || "";
      clearInterval(st.timer);
      Object.assign(st, { id, job: null, events: [], error: null, logs: "", offset: 0, logMessage: "", logsDone: false, el: el_ });
      skeleton(el_);
      st.timer = setInterval(poll, POLL_MS);
      return load();
    },
  });
  HH.onLang(() => { if (st.el && st.id && HH.view === "job") { skeleton(st.el); render(); } });
  HH.onView((view) => { if (view !== "job") clearInterval(st.timer); });
})();
