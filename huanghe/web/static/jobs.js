/* Jobs view (#jobs): submit form (POST /api/v1/jobs with an Idempotency-Key), the list (GET /api/v1/jobs,
   refreshed every REFRESH_MS while shown) and one job's detail: history, events, placement explanation, cost,
   logs (GET /jobs/{id}/logs from an offset) and cancel. */
(function () {
  "use strict";

  const { t, fmt, sig, el } = window.HH;
  const STATES = ["PENDING", "PLACED", "DISPATCHED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "PREEMPTED"];
  const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
  const NUMBER_FIELDS = ["cpus", "gpus", "mem_gb", "nodes", "latency_slo_ms", "deadline_s", "priority", "max_price_cny_per_hour"];
  const TEXT_FIELDS = ["command", "accelerator", "user_city"];
  const REFRESH_MS = 3000;
  const LIST_LIMIT = 50;
  const $ = (id) => document.getElementById(id);

  const st = {
    jobs: [], total: 0, listError: null, selected: null, detail: null, events: [], detailError: null,
    logs: "", logOffset: 0, logMessage: "", logsDone: false, idem: null, busy: false, timer: null, topo: null,
  };

  // ---- form -----------------------------------------------------------------------------------------------
  function newKey() {  // works without a secure context too (crypto.randomUUID needs one)
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function formBody() {
    const form = $("job-form");
    const body = {};
    for (const name of TEXT_FIELDS) {
      const v = form.elements[name].value.trim();
      if (v || name === "command") body[name] = v;
    }
    for (const name of NUMBER_FIELDS) {
      const v = form.elements[name].value.trim();
      if (v !== "") body[name] = Number(v);
    }
    return body;
  }
  function clearFieldErrors() {
    document.querySelectorAll("#job-form .field-error").forEach((e) => { e.textContent = ""; });
    document.querySelectorAll("#job-form .invalid").forEach((e) => e.classList.remove("invalid"));
    $("job-form-error").replaceChildren();
  }
  /** Each {path, message} of a 422 next to its field (`body.cpus` → cpus); the rest under the form. */
  function showFieldErrors(err) {
    const general = [];
    for (const item of err.detail) {
      const field = String(item.path || "").replace(/^body\.?/, "").split(/[.[]/)[0];
      const slot = field && document.querySelector(`#job-form [data-error-for="${field}"]`);
      if (slot) {
        slot.textContent = item.message;
        $("job-form").elements[field].classList.add("invalid");
      } else {
        general.push(item.path ? `${item.path}: ${item.message}` : item.message);
      }
    }
    if (general.length || err.authNeeded) {
      HH.showError($("job-form-error"), err.authNeeded ? err : new Error(general.join("; ")), "jobs.submit.failed");
    }
  }
  async function submit(ev) {
    ev.preventDefault();
    clearFieldErrors();
    const body = formBody();
    const text = JSON.stringify(body);
    if (!st.idem || st.idem.body !== text) st.idem = { key: newKey(), body: text };  // a retry keeps its key
    $("job-form-status").textContent = t("jobs.submit.sending");
    try {
      const job = await HH.api("/api/v1/jobs", { method: "POST", body, headers: { "Idempotency-Key": st.idem.key } });
      st.idem = null;
      $("job-form-status").textContent = t("jobs.submit.done", { id: job.id });
      await refreshList();
      select(job.id);
    } catch (err) {
      $("job-form-status").textContent = "";
      if (err instanceof HH.ApiError) showFieldErrors(err);
      else HH.showError($("job-form-error"), err, "jobs.submit.failed");
    }
  }
  function fillFormOptions() {
    const select = $("job-form").elements.user_city;
    const keep = select.value;
    const cities = st.topo ? st.topo.cities : [];
    select.replaceChildren(new Option(t("jobs.f.no_city"), ""), ...cities.map((c) => new Option(`${HH.named(c)} (${c.id})`, c.id)));
    select.value = keep;
    const accels = new Set();
    (st.topo ? st.topo.centers : []).forEach((c) => c.pools.forEach((p) => {
      if (p.accelerator) accels.add(p.accelerator);
      if (p.accelerator_class !== "cpu") accels.add(p.accelerator_class);
    }));
    $("accelerator-options").replaceChildren(...[...accels].sort().map((a) => new Option(a)));
  }

  // ---- list -----------------------------------------------------------------------------------------------
  function stateBadge(state) {
    return el("span", { className: "state state-" + String(state).toLowerCase(), dataset: { state } }, t("state." + state));
  }
  async function refreshList() {
    const filter = $("job-state-filter").value;
    const query = new URLSearchParams({ limit: String(LIST_LIMIT) });
    if (filter) query.set("state", filter);
    try {
      const page = await HH.api("/api/v1/jobs?" + query);
      st.jobs = page.items;
      st.total = page.total;
      st.listError = null;
    } catch (err) {
      st.listError = err;
    }
    renderList();
  }
  function renderList() {
    HH.showError($("jobs-error"), st.listError, "jobs.error.list");
    const cols = ["jobs.col.id", "jobs.col.state", "jobs.col.command", "jobs.col.pool", "jobs.col.backend", "jobs.col.submitted", "jobs.col.cost"];
    $("jobs-head").replaceChildren(...cols.map((k, i) => el("th", { className: i === 6 ? "num" : "" }, t(k))));
    const rows = st.jobs.map((j) => el("tr", { dataset: { id: j.id }, className: j.id === st.selected ? "selected" : "", tabIndex: 0 },
      el("td", { className: "mono" }, j.id), el("td", {}, stateBadge(j.state)),
      el("td", { className: "mono wrap" }, (j.spec && (j.spec.command || j.spec.script)) || "–"),
      el("td", {}, j.pool || "–"), el("td", {}, j.backend || "–"), el("td", {}, HH.time(j.submit_s)),
      el("td", { className: "num" }, sig(j.cost_cny))));
    if (!rows.length) rows.push(el("tr", { className: "empty" }, el("td", { colSpan: cols.length }, t("jobs.list.empty"))));
    $("jobs-body").replaceChildren(...rows);
    $("jobs-count").textContent = t("jobs.list.count", { shown: st.jobs.length, total: st.total });
  }

  // ---- detail ---------------------------------------------------------------------------------------------
  function select(id) {
    if (st.selected !== id) {
      Object.assign(st, { selected: id, detail: null, events: [], logs: "", logOffset: 0, logMessage: "", logsDone: false, detailError: null });
    }
    renderList();
    return refreshDetail();
  }
  async function refreshDetail() {
    const id = st.selected;
    if (!id) return;
    try {
      const [job, events] = await Promise.all([
        HH.api(`/api/v1/jobs/${encodeURIComponent(id)}`),
        HH.api(`/api/v1/jobs/${encodeURIComponent(id)}/events`),
      ]);
      if (id !== st.selected) return;
      st.detail = job;
      st.events = events.items;
      st.detailError = null;
      await readLogs(id);
    } catch (err) {
      st.detailError = err;
    }
    renderDetail();
  }
  /** Output from the last offset on; after the job ended, one more read that brings nothing closes the log. */
  async function readLogs(id) {
    if (st.logsDone) return;
    const out = await HH.api(`/api/v1/jobs/${encodeURIComponent(id)}/logs?offset=${st.logOffset}`);
    if (id !== st.selected) return;
    st.logs += out.data;
    st.logOffset = out.next_offset;
    st.logMessage = out.message;
    st.logsDone = out.terminal && !out.data;
  }
  function kv(pairs) {
    return el("dl", { className: "kv" }, pairs.map(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v == null || v === "" ? "–" : v)]));
  }
  function placementBlock(placement) {
    if (!placement || !placement.explanation) return el("p", { className: "hint-line" }, t("jobs.placement.none"));
    const x = placement.explanation;
    const parts = [kv([
      ["jobs.placement.policy", x.policy],
      ["jobs.placement.candidates", t("jobs.placement.counts", { candidates: fmt(x.candidates), feasible: fmt(x.feasible) })],
      ["jobs.placement.est", t("jobs.placement.est_value", { run: fmt(placement.est_run_s, 1), cost: sig(placement.est_cost_cny), carbon: sig(placement.est_carbon_kg) })],
    ])];
    parts.push(el("h4", {}, t("jobs.placement.removed")));
    parts.push(x.removed.length
      ? HH.table([t("jobs.placement.filter"), { text: t("jobs.placement.count"), num: true }, t("jobs.placement.examples")],
        x.removed.map((r) => [HH.coded("filter", r.reason), { text: fmt(r.count), className: "num" }, { text: r.pool_ids.join(", "), className: "mono wrap" }]))
      : el("p", { className: "hint-line" }, t("jobs.placement.none_removed")));
    const picks = [["jobs.placement.winner", x.winner], ["jobs.placement.runner_up", x.runner_up]].filter(([, p]) => p);
    if (picks.length) {
      const terms = [...new Set(picks.flatMap(([, p]) => Object.keys(p.terms)))];
      parts.push(el("h4", {}, t("jobs.placement.scores")));
      parts.push(HH.table(
        [t("jobs.placement.term"), ...picks.map(([k, p]) => ({ text: `${t(k)}: ${p.pool} (${p.center})`, num: true }))],
        [[t("jobs.placement.score"), ...picks.map(([, p]) => ({ text: sig(p.score, 6), className: "num strong" }))],
          ...terms.filter((k) => !k.endsWith("start_s") && !k.endsWith("end_s")).map((k) => [
            HH.coded("term", k), ...picks.map(([, p]) => ({ text: sig(p.terms[k], 4), className: "num" }))])]));
    }
    if (x.note) parts.push(el("p", { className: "hint-line" }, x.note));
    return el("div", { className: "placement" }, parts);
  }
  function renderDetail() {
    const panel = $("job-detail");
    panel.hidden = !st.selected;
    if (!st.selected) return;
    HH.showError($("job-detail-error"), st.detailError, "jobs.error.detail");
    $("job-detail-id").textContent = st.selected;
    const j = st.detail;
    $("job-detail-state").replaceChildren(...(j ? [stateBadge(j.state)] : []));
    $("job-cancel").hidden = !j || TERMINAL.has(j.state);
    if (!j) return;
    const cmd = (j.spec && (j.spec.command || j.spec.script)) || "";
    const summary = kv([
      ["jobs.d.command", el("code", {}, cmd)],
      ["jobs.d.pool", j.pool ? `${j.pool} (${j.center})` : null],
      ["jobs.d.backend", j.backend ? `${j.backend} ${j.backend_job_id || ""}` : null],
      ["jobs.d.attempt", `${j.attempt} / ${j.max_attempts}`],
      ["jobs.d.exit_code", j.exit_code],
      ["jobs.d.message", j.message],
      ["jobs.d.price", j.price_cny_per_hour == null ? null : fmt(j.price_cny_per_hour, 3)],
      ["jobs.d.cost", t("jobs.d.cost_value", { cost: sig(j.cost_cny), est: sig(j.est_cost_cny) })],
      ["jobs.d.times", `${HH.time(j.submit_s)} → ${HH.time(j.ended_s)}`],
    ]);
    const history = HH.table([t("jobs.h.time"), t("jobs.h.state"), t("jobs.h.message")],
      j.history.map((h) => [HH.time(h.t_s), stateBadge(h.state), { text: h.message, className: "wrap" }]));
    const events = HH.table([t("jobs.h.time"), t("jobs.h.kind"), t("jobs.h.message")],
      st.events.map((e) => [HH.time(e.t_s), e.kind, { text: e.message, className: "wrap" }]), t("jobs.events.empty"));
    $("job-detail-body").replaceChildren(el("div", { className: "detail-grid" },
      el("div", {}, el("h3", {}, t("jobs.d.summary")), summary, el("h3", {}, t("jobs.h.title")), history,
        el("h3", {}, t("jobs.events.title")), events),
      el("div", {}, el("h3", {}, t("jobs.placement.title")), placementBlock(j.placement))));
    $("job-logs").textContent = st.logs;
    $("job-logs").hidden = !st.logs;
    $("job-logs-note").textContent = st.logs ? "" : st.logMessage || t("jobs.logs.empty");
  }
  async function cancel() {
    const id = st.selected;
    try {
      await HH.api(`/api/v1/jobs/${encodeURIComponent(id)}:cancel`, { method: "POST" });
      st.detailError = null;
    } catch (err) {
      st.detailError = err;
    }
    await Promise.all([refreshList(), refreshDetail()]);
  }

  // ---- wiring ---------------------------------------------------------------------------------------------
  function fillStateFilter() {
    const f = $("job-state-filter");
    const keep = f.value;
    f.replaceChildren(new Option(t("jobs.all_states"), ""), ...STATES.map((s) => new Option(t("state." + s), s)));
    f.value = keep;
  }
  async function tick() {
    if (st.busy || HH.view !== "jobs" || document.hidden) return;
    st.busy = true;
    try {
      const active = st.detail && (!TERMINAL.has(st.detail.state) || !st.logsDone);
      await Promise.all([refreshList(), active ? refreshDetail() : null]);
    } finally {
      st.busy = false;
    }
  }
  function render() {
    fillStateFilter();
    fillFormOptions();
    renderList();
    renderDetail();
  }
  function start() {
    fillStateFilter();
    $("job-form").addEventListener("submit", submit);
    $("job-state-filter").addEventListener("change", refreshList);
    $("job-cancel").addEventListener("click", cancel);
    const pick = (ev) => {  // a click on a row, or Enter on the focused row
      const tr = ev.target.closest("tr[data-id]");
      if (!tr || (ev.type === "keydown" && ev.key !== "Enter")) return;
      select(tr.dataset.id);
    };
    $("jobs-body").addEventListener("click", pick);
    $("jobs-body").addEventListener("keydown", pick);
    HH.onLang(render);
    HH.topology.then((topo) => { st.topo = topo; fillFormOptions(); });
    HH.onView((view) => {
      clearInterval(st.timer);
      st.timer = null;
      if (view !== "jobs") return;
      st.timer = setInterval(tick, REFRESH_MS);
      tick();
    });
    window.HUANGHE_JOBS = { refresh: tick };  // for tests and the curious: refresh now
  }
  start();
})();
