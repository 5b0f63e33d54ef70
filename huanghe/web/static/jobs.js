/* Jobs view (#jobs): the submit form (POST /api/v1/jobs with an Idempotency-Key; N copies through
   POST /api/v1/jobs:batch; built-in templates, a script file, the tenant's datasets) and the job list
   (GET /api/v1/jobs with server-side filters, search, order and paging, refreshed every REFRESH_MS while
   shown; cancel of the selected jobs, one POST /api/v1/jobs/{id}:cancel each). Each row links to the job's
   page #job/<id> (pages/job.js). Timing marks for bench/bench_console_jobs.py: "jobs-list-request" when a
   list is asked for, "jobs-list-rendered" after each list render (the first one also "jobs-first-paint");
   #jobs-table[data-query] = the query of the list shown. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "jobs.f.template": "模板",
      "jobs.f.template.none": "不使用模板",
      "jobs.tpl.cpu-batch": "CPU 批处理",
      "jobs.tpl.gpu-train": "GPU 训练",
      "jobs.tpl.inference": "推理服务（时延要求）",
      "jobs.f.name": "作业名称",
      "jobs.f.kind": "作业类型",
      "jobs.kind.cpu": "CPU 计算",
      "jobs.kind.gpu": "GPU 计算",
      "jobs.kind.hpc": "高性能计算",
      "jobs.kind.inference": "推理",
      "jobs.f.duration_s": "预计运行时间 秒",
      "jobs.f.script": "脚本文件（代替命令）",
      "jobs.f.script_loaded": "已载入脚本 {name}（{size} 字节），将代替命令提交",
      "jobs.f.script_clear": "移除脚本",
      "jobs.f.datasets": "输入数据集",
      "jobs.f.datasets_none": "本租户暂无数据集",
      "jobs.f.data_class": "数据等级",
      "jobs.dc.general": "一般数据",
      "jobs.dc.important": "重要数据",
      "jobs.dc.core": "核心数据",
      "jobs.f.copies": "作业数组：份数",
      "jobs.submit.batch_done": "已提交 {n} 个作业（数组）",
      "jobs.filter.pool": "资源池",
      "jobs.filter.all_pools": "全部资源池",
      "jobs.filter.center": "算力中心",
      "jobs.filter.all_centers": "全部中心",
      "jobs.filter.search": "搜索编号、名称或命令",
      "jobs.filter.after": "提交时间不早于",
      "jobs.filter.before": "提交时间早于",
      "jobs.filter.sort": "排序",
      "jobs.sort.-submit_s": "最新提交在前",
      "jobs.sort.submit_s": "最早提交在前",
      "jobs.sort.state": "按状态（A→Z）",
      "jobs.sort.-state": "按状态（Z→A）",
      "jobs.col.select": "选择",
      "jobs.col.name": "名称",
      "jobs.select.one": "选择作业 {id}",
      "jobs.select.all": "选择本页全部可取消的作业",
      "jobs.bulk.cancel": "取消所选作业",
      "jobs.bulk.none": "未选择作业",
      "jobs.bulk.selected": "已选 {n} 个",
      "jobs.bulk.done": "已取消 {ok} 个作业，失败 {failed} 个",
      "jobs.bulk.failed_one": "{id}：{detail}",
      "jobs.list.total": "共 {total} 个作业，每 3 秒刷新",
    },
    en: {
      "jobs.f.template": "Template",
      "jobs.f.template.none": "No template",
      "jobs.tpl.cpu-batch": "CPU batch",
      "jobs.tpl.gpu-train": "GPU training",
      "jobs.tpl.inference": "Inference with a latency SLO",
      "jobs.f.name": "Job name",
      "jobs.f.kind": "Kind",
      "jobs.kind.cpu": "CPU",
      "jobs.kind.gpu": "GPU",
      "jobs.kind.hpc": "HPC",
      "jobs.kind.inference": "Inference",
      "jobs.f.duration_s": "Estimated run time, s",
      "jobs.f.script": "Script file (instead of a command)",
      "jobs.f.script_loaded": "Script {name} loaded ({size} bytes); it is submitted instead of the command",
      "jobs.f.script_clear": "Remove the script",
      "jobs.f.datasets": "Input datasets",
      "jobs.f.datasets_none": "Your tenant has no datasets",
      "jobs.f.data_class": "Data class",
      "jobs.dc.general": "General",
      "jobs.dc.important": "Important",
      "jobs.dc.core": "Core",
      "jobs.f.copies": "Job array: copies",
      "jobs.submit.batch_done": "Submitted {n} jobs (an array)",
      "jobs.filter.pool": "Pool",
      "jobs.filter.all_pools": "All pools",
      "jobs.filter.center": "Center",
      "jobs.filter.all_centers": "All centers",
      "jobs.filter.search": "Search id, name or command",
      "jobs.filter.after": "Submitted from",
      "jobs.filter.before": "Submitted before",
      "jobs.filter.sort": "Order",
      "jobs.sort.-submit_s": "Newest first",
      "jobs.sort.submit_s": "Oldest first",
      "jobs.sort.state": "By state (A→Z)",
      "jobs.sort.-state": "By state (Z→A)",
      "jobs.col.select": "Select",
      "jobs.col.name": "Name",
      "jobs.select.one": "Select job {id}",
      "jobs.select.all": "Select every job on this page that can be cancelled",
      "jobs.bulk.cancel": "Cancel selected jobs",
      "jobs.bulk.none": "No job selected",
      "jobs.bulk.selected": "{n} selected",
      "jobs.bulk.done": "Cancelled {ok} jobs, {failed} failed",
      "jobs.bulk.failed_one": "{id}: {detail}",
      "jobs.list.total": "{total} jobs, refreshed every 3 s",
    },
  });

  const { t, sig, el } = window.HH;
  if (HH.registerCalls) {
    HH.registerCalls("jobs", [
      "GET /api/v1/jobs",
      "POST /api/v1/jobs",
      "POST /api/v1/jobs:batch",
      "POST /api/v1/jobs/{job_id}:cancel",
      "GET /api/v1/datasets",
    ]);
  }
  const STATES = ["PENDING", "PLACED", "DISPATCHED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "PREEMPTED"];
  const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
  const NUMBER_FIELDS = ["cpus", "gpus", "mem_gb", "nodes", "latency_slo_ms", "deadline_s", "priority", "max_price_cny_per_hour", "duration_s"];
  const TEXT_FIELDS = ["command", "accelerator", "user_city", "name", "kind", "data_class"];
  const SORTS = ["-submit_s", "submit_s", "state", "-state"];
  /** Built-in templates: the form fields each sets (the others are cleared to their defaults). */
  const TEMPLATES = {
    "cpu-batch": { kind: "cpu", command: "python batch.py --part 1", cpus: 4, gpus: 0, mem_gb: 8, nodes: 1, duration_s: 600 },
    "gpu-train": { kind: "gpu", command: "python train.py --epochs 10", cpus: 8, gpus: 1, mem_gb: 32, nodes: 1, duration_s: 3600 },
    inference: { kind: "inference", command: "python serve.py --model resnet50", cpus: 2, gpus: 1, mem_gb: 16, nodes: 1,
      duration_s: 300, latency_slo_ms: 10, user_city: "jinan" },
  };
  const DEFAULTS = { kind: "cpu", command: "", cpus: 1, gpus: 0, mem_gb: "", nodes: 1, accelerator: "", user_city: "", latency_slo_ms: "",
    deadline_s: "", priority: 0, max_price_cny_per_hour: "", duration_s: "", data_class: "general", name: "" };
  const CANCEL = "POST /api/v1/jobs/{job_id}:cancel";
  const REFRESH_MS = 3000;
  const LIST_LIMIT = 50;
  const MAX_COPIES = 1000;
  const $ = (id) => document.getElementById(id);

  const st = {
    page: { items: [], total: 0, limit: LIST_LIMIT, offset: 0 }, offset: 0, listError: null, seq: 0, shownQuery: null,
    selected: new Set(), bulkNote: null, idem: null, busy: false, timer: null, topo: null, datasets: [], script: null,
    firstPaint: false, searchTimer: null,
  };

  // ---- form -----------------------------------------------------------------------------------------------
  function newKey() {  // works without a secure context too (crypto.randomUUID needs one)
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function field(name, labelKey, control) {
    return el("label", { className: "field" }, el("span", { dataset: { i18n: labelKey } }, t(labelKey)), control,
      el("small", { className: "field-error", dataset: { errorFor: name } }));
  }
  /** The fields the framework's markup lacks, added before the form's buttons. */
  function buildFormExtras() {
    const form = $("job-form");
    const tpl = el("select", { id: "job-template" });
    const kind = el("select", { name: "kind" });
    const dataClass = el("select", { name: "data_class" });
    const datasets = el("select", { name: "datasets", multiple: true, size: 3 });
    const file = el("input", { type: "file", id: "job-script-file", accept: ".sh,.py,.txt,text/*" });
    const clear = el("button", { type: "button", id: "job-script-clear", className: "small", hidden: true, dataset: { i18n: "jobs.f.script_clear" } },
      t("jobs.f.script_clear"));
    const scriptNote = el("span", { id: "job-script-note", className: "hint-line" });
    form.prepend(el("label", { className: "field wide" }, el("span", { dataset: { i18n: "jobs.f.template" } }, t("jobs.f.template")), tpl));
    const extras = [
      field("name", "jobs.f.name", el("input", { name: "name", type: "text", maxLength: 63 })),
      field("kind", "jobs.f.kind", kind),
      field("duration_s", "jobs.f.duration_s", el("input", { name: "duration_s", type: "number", step: "any" })),
      field("data_class", "jobs.f.data_class", dataClass),
      field("copies", "jobs.f.copies", el("input", { name: "copies", type: "number", step: "1", min: "1", max: String(MAX_COPIES), value: "1" })),
      field("datasets", "jobs.f.datasets", datasets),
      el("div", { className: "field wide" }, field("script", "jobs.f.script", file), el("div", {}, scriptNote, " ", clear)),
    ];
    form.querySelector(".form-actions").before(...extras);
    tpl.addEventListener("change", () => applyTemplate(tpl.value));
    file.addEventListener("change", async () => {
      const f = file.files[0];
      st.script = f ? { name: f.name, text: await f.text() } : null;
      renderScript();
    });
    clear.addEventListener("click", () => { st.script = null; file.value = ""; renderScript(); });
  }
  function fillFormOptions() {
    const form = $("job-form");
    const keepOptions = (select, options) => {
      const keep = Array.from(select.selectedOptions, (o) => o.value);
      select.replaceChildren(...options.map(([v, label]) => new Option(label, v)));
      Array.from(select.options).forEach((o) => { o.selected = keep.includes(o.value); });
      if (!select.multiple && !keep.length) select.selectedIndex = 0;
    };
    keepOptions($("job-template"), [["", t("jobs.f.template.none")], ...Object.keys(TEMPLATES).map((k) => [k, t("jobs.tpl." + k)])]);
    keepOptions(form.elements.kind, ["cpu", "gpu", "hpc", "inference"].map((k) => [k, t("jobs.kind." + k)]));
    keepOptions(form.elements.data_class, ["general", "important", "core"].map((k) => [k, t("jobs.dc." + k)]));
    keepOptions(form.elements.datasets, st.datasets.map((d) => [d.id, `${d.name} (${d.id}, ${t("jobs.dc." + d.data_class)})`]));
    form.elements.datasets.title = st.datasets.length ? "" : t("jobs.f.datasets_none");
    form.elements.datasets.disabled = !st.datasets.length;
    const city = form.elements.user_city;
    const cities = st.topo ? st.topo.cities : [];
    keepOptions(city, [["", t("jobs.f.no_city")], ...cities.map((c) => [c.id, `${HH.named(c)} (${c.id})`])]);
    const accels = new Set();
    (st.topo ? st.topo.centers : []).forEach((c) => c.pools.forEach((p) => {
      if (p.accelerator) accels.add(p.accelerator);
      if (p.accelerator_class !== "cpu") accels.add(p.accelerator_class);
    }));
    $("accelerator-options").replaceChildren(...[...accels].sort().map((a) => new Option(a)));
    renderScript();
  }
  function renderScript() {
    $("job-script-note").textContent = st.script ? t("jobs.f.script_loaded", { name: st.script.name, size: HH.fmt(st.script.text.length) }) : "";
    $("job-script-clear").hidden = !st.script;
    $("job-form").elements.command.disabled = Boolean(st.script);
  }
  function applyTemplate(name) {
    const tpl = TEMPLATES[name];
    if (!tpl) return;
    const form = $("job-form");
    for (const [k, v] of Object.entries(Object.assign({}, DEFAULTS, tpl))) if (form.elements[k]) form.elements[k].value = v;
  }
  function formBody() {
    const form = $("job-form");
    const body = {};
    for (const name of TEXT_FIELDS) {
      const v = form.elements[name].value.trim();
      if (v) body[name] = v;
    }
    for (const name of NUMBER_FIELDS) {
      const v = form.elements[name].value.trim();
      if (v !== "") body[name] = Number(v);
    }
    if (st.script) body.script = st.script.text;
    else body.command = form.elements.command.value.trim();
    const datasets = Array.from(form.elements.datasets.selectedOptions, (o) => o.value);
    if (datasets.length) body.datasets = datasets;
    if (HH.whoami && HH.whoami.tenant) body.tenant = HH.whoami.tenant;  // tenant roles act for their own tenant
    return body;
  }
  function copies() {
    const raw = $("job-form").elements.copies.value.trim();
    return raw === "" ? 1 : Number(raw);
  }
  function clearFieldErrors() {
    document.querySelectorAll("#job-form .field-error").forEach((e) => { e.textContent = ""; });
    document.querySelectorAll("#job-form .invalid").forEach((e) => e.classList.remove("invalid"));
    $("job-form-error").replaceChildren();
  }
  /** Each {path, message} of a 422 next to its field (`body.cpus`, `body.jobs.3.cpus` → cpus); the rest under the form. */
  function showFieldErrors(err) {
    const general = [];
    const seen = new Set();
    for (const item of err.detail) {
      const field = String(item.path || "").replace(/^body\.?/, "").replace(/^jobs(\.|\[)\d+\]?\.?/, "").split(/[.[]/)[0];
      const slot = field && document.querySelector(`#job-form [data-error-for="${field}"]`);
      if (slot && !seen.has(field)) {
        seen.add(field);
        slot.textContent = item.message;
        const input = $("job-form").elements[field] || slot.parentElement.querySelector("input, select");
        if (input && input.classList) input.classList.add("invalid");
      } else if (!slot) {
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
    const n = copies();
    if (!Number.isInteger(n) || n < 1 || n > MAX_COPIES) {
      showFieldErrors(new HH.ApiError(422, [{ path: "copies", message: `1 … ${MAX_COPIES}` }]));
      return;
    }
    const one = formBody();
    const jobs = Array.from({ length: n }, (_, i) => (n === 1 ? one
      : Object.assign({}, one, { env: { HUANGHE_ARRAY_INDEX: String(i) } }, one.name ? { name: `${one.name}-${i}`.slice(0, 63) } : {})));
    const text = JSON.stringify(jobs);
    if (!st.idem || st.idem.body !== text) st.idem = { key: newKey(), body: text };  // a retry keeps its key
    const status = $("job-form-status");
    status.textContent = t("jobs.submit.sending");
    try {
      const headers = { "Idempotency-Key": st.idem.key };
      if (n === 1) {
        const job = await HH.api("/api/v1/jobs", { method: "POST", body: one, headers });
        status.replaceChildren(t("jobs.submit.done", { id: "" }), el("a", { href: `#job/${encodeURIComponent(job.id)}`, className: "mono" }, job.id));
      } else {
        const out = await HH.api("/api/v1/jobs:batch", { method: "POST", body: { jobs }, headers });
        status.textContent = t("jobs.submit.batch_done", { n: out.count });
      }
      st.idem = null;
      await refreshList();
    } catch (err) {
      status.textContent = "";
      if (err instanceof HH.ApiError) showFieldErrors(err);
      else HH.showError($("job-form-error"), err, "jobs.submit.failed");
    }
  }

  // ---- list -----------------------------------------------------------------------------------------------
  function stateBadge(state) {
    return el("span", { className: "state state-" + String(state).toLowerCase(), dataset: { state } }, t("state." + state));
  }
  function epoch(input) {
    const v = input.value;
    return v ? String(new Date(v).getTime() / 1000) : "";
  }
  function listQuery() {
    return HH.query({
      limit: LIST_LIMIT, offset: st.offset || "", state: $("job-state-filter").value, pool: $("job-pool-filter").value,
      center: $("job-center-filter").value, q: $("job-search").value.trim(), submitted_after: epoch($("job-after")),
      submitted_before: epoch($("job-before")), sort: $("job-sort").value === "-submit_s" ? "" : $("job-sort").value,
    });
  }
  async function refreshList() {
    const query = listQuery();
    const seq = ++st.seq;
    performance.mark("jobs-list-request");
    try {
      const [page] = await Promise.all([HH.api("/api/v1/jobs" + query), HH.ready]);  // HH.can needs the capabilities
      if (seq !== st.seq) return;  // a newer question was asked meanwhile
      st.page = page;
      st.listError = null;
    } catch (err) {
      if (seq !== st.seq) return;
      st.listError = err;
    }
    st.shownQuery = query;
    renderList();
  }
  function restart() {  // a filter changed: first page, now
    st.offset = 0;
    return refreshList();
  }
  function renderList() {
    HH.showError($("jobs-error"), st.listError, "jobs.error.list");
    const canCancel = HH.can(CANCEL);
    const items = st.page.items;
    const open = items.filter((j) => !TERMINAL.has(j.state));
    const all = el("input", { type: "checkbox", id: "jobs-select-all", ariaLabel: t("jobs.select.all"), disabled: !open.length,
      checked: open.length > 0 && open.every((j) => st.selected.has(j.id)) });
    const cols = ["jobs.col.id", "jobs.col.state", "jobs.col.name", "jobs.col.command", "jobs.col.pool", "jobs.col.backend", "jobs.col.submitted", "jobs.col.cost"];
    $("jobs-head").replaceChildren(...(canCancel ? [el("th", {}, el("span", { className: "sr-only" }, t("jobs.col.select")), all)] : []),
      ...cols.map((k, i) => el("th", { className: i === 7 ? "num" : "" }, t(k))));
    const rows = items.map((j) => el("tr", { dataset: { id: j.id } },
      canCancel ? el("td", {}, el("input", { type: "checkbox", className: "job-select", ariaLabel: t("jobs.select.one", { id: j.id }),
        value: j.id, checked: st.selected.has(j.id), disabled: TERMINAL.has(j.state) })) : null,
      el("td", { className: "mono" }, el("a", { href: `#job/${encodeURIComponent(j.id)}` }, j.id)), el("td", {}, stateBadge(j.state)),
      el("td", { className: "wrap" }, j.name === j.id ? "–" : j.name),
      el("td", { className: "mono wrap" }, (j.spec && (j.spec.command || (j.spec.script && j.spec.script.split("\n").find((l) => l && !l.startsWith("#!"))))) || "–"),
      el("td", {}, j.pool || "–"), el("td", {}, j.backend || "–"), el("td", {}, HH.time(j.submit_s)),
      el("td", { className: "num" }, sig(j.cost_cny))));
    if (!rows.length) rows.push(el("tr", { className: "empty" }, el("td", { colSpan: cols.length + (canCancel ? 1 : 0) }, t("jobs.list.empty"))));
    // the list refreshes every few seconds: a keyboard user keeps their place (the same row's link or checkbox)
    const body = $("jobs-body");
    HH.keepFocus(body, () => body.replaceChildren(...rows));
    $("jobs-count").textContent = t("jobs.list.total", { total: HH.fmt(st.page.total) });
    $("jobs-pager").replaceChildren(HH.pager(st.page, (offset) => { st.offset = offset; refreshList(); }));
    $("jobs-bulk").hidden = !canCancel;
    $("jobs-bulk-cancel").disabled = !st.selected.size;
    $("jobs-bulk-count").textContent = st.selected.size ? t("jobs.bulk.selected", { n: st.selected.size }) : t("jobs.bulk.none");
    $("jobs-bulk-note").replaceChildren(...(st.bulkNote ? [st.bulkNote] : []));
    $("jobs-table").dataset.query = st.shownQuery || "";
    performance.mark("jobs-list-rendered");
    if (!st.firstPaint && !st.listError) {
      st.firstPaint = true;
      performance.mark("jobs-first-paint");
    }
  }
  async function cancelSelected() {
    const ids = [...st.selected];
    const failures = [];
    let ok = 0;
    const queue = ids.slice();
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await HH.api(`/api/v1/jobs/${encodeURIComponent(id)}:cancel`, { method: "POST" });
          ok += 1;
          st.selected.delete(id);
        } catch (err) {
          failures.push(t("jobs.bulk.failed_one", { id, detail: err.message || String(err) }));
        }
      }
    };
    $("jobs-bulk-cancel").disabled = true;
    await Promise.all([worker(), worker(), worker(), worker()]);
    st.bulkNote = el("div", { className: failures.length ? "alert" : "hint-line", role: "status" },
      t("jobs.bulk.done", { ok, failed: failures.length }), ...failures.map((f) => el("div", {}, f)));
    await refreshList();
  }

  // ---- wiring ---------------------------------------------------------------------------------------------
  function buildListControls() {
    const head = $("job-state-filter").closest(".section-head");
    const labelled = (key, control) => el("label", { className: "inline" }, el("span", { dataset: { i18n: key } }, t(key)), " ", control);
    const search = el("input", { id: "job-search", type: "search", placeholder: t("jobs.filter.search"), maxLength: 100,
      dataset: { i18nPlaceholder: "jobs.filter.search" } });
    const filters = el("div", { className: "filters jobs-filters", id: "jobs-filters" },
      search,
      labelled("jobs.filter.pool", el("select", { id: "job-pool-filter" })),
      labelled("jobs.filter.center", el("select", { id: "job-center-filter" })),
      labelled("jobs.filter.after", el("input", { id: "job-after", type: "datetime-local" })),
      labelled("jobs.filter.before", el("input", { id: "job-before", type: "datetime-local" })),
      labelled("jobs.filter.sort", el("select", { id: "job-sort" })));
    const bulk = el("div", { className: "jobs-bulk", id: "jobs-bulk", hidden: true },
      el("button", { type: "button", id: "jobs-bulk-cancel", className: "danger", disabled: true, dataset: { i18n: "jobs.bulk.cancel" } }, t("jobs.bulk.cancel")),
      el("span", { id: "jobs-bulk-count", className: "hint-line" }), el("div", { id: "jobs-bulk-note" }));
    head.after(filters, bulk);
    $("jobs-table").closest(".table-wrap").after(el("div", { id: "jobs-pager" }));
    search.addEventListener("input", () => { clearTimeout(st.searchTimer); st.searchTimer = setTimeout(restart, 250); });
    ["job-state-filter", "job-pool-filter", "job-center-filter", "job-after", "job-before", "job-sort"].forEach((id) => $(id).addEventListener("change", restart));
    $("jobs-bulk-cancel").addEventListener("click", cancelSelected);
    $("jobs-body").addEventListener("change", (ev) => {
      const box = ev.target.closest("input.job-select");
      if (!box) return;
      if (box.checked) st.selected.add(box.value); else st.selected.delete(box.value);
      st.bulkNote = null;
      renderList();
    });
    $("jobs-head").addEventListener("change", (ev) => {
      if (ev.target.id !== "jobs-select-all") return;
      st.page.items.filter((j) => !TERMINAL.has(j.state)).forEach((j) => (ev.target.checked ? st.selected.add(j.id) : st.selected.delete(j.id)));
      renderList();
    });
  }
  function fillFilters() {
    const fill = (select, first, options) => {
      const keep = select.value;
      select.replaceChildren(...(first ? [new Option(first, "")] : []), ...options.map(([v, label]) => new Option(label, v)));
      select.value = options.some(([v]) => v === keep) ? keep : select.options[0].value;
    };
    fill($("job-state-filter"), t("jobs.all_states"), STATES.map((s) => [s, t("state." + s)]));
    $("job-state-filter").setAttribute("aria-label", t("jobs.filter.state"));
    $("job-search").setAttribute("aria-label", t("jobs.filter.search"));
    const centers = st.topo ? st.topo.centers : [];
    fill($("job-center-filter"), t("jobs.filter.all_centers"), centers.map((c) => [c.id, `${HH.named(c)} (${c.id})`]));
    fill($("job-pool-filter"), t("jobs.filter.all_pools"), centers.flatMap((c) => c.pools.map((p) => [p.id, p.id])));
    fill($("job-sort"), null, SORTS.map((s) => [s, t("jobs.sort." + s)]));
  }
  async function loadDatasets() {
    if (!HH.can("GET /api/v1/datasets")) return;
    try {
      st.datasets = (await HH.api("/api/v1/datasets?limit=1000")).items;
    } catch (err) {
      st.datasets = [];
    }
    fillFormOptions();
  }
  async function tick() {
    if (st.busy || HH.view !== "jobs" || document.hidden) return;
    st.busy = true;
    try {
      await refreshList();
    } finally {
      st.busy = false;
    }
  }
  function render() {  // after a language switch (HH.applyStaticText has translated the data-i18n texts)
    fillFilters();
    fillFormOptions();
    renderList();
  }
  function start() {
    const oldDetail = $("job-detail");  // the job's page is #job/<id> now (pages/job.js)
    if (oldDetail) oldDetail.remove();
    buildFormExtras();
    buildListControls();
    fillFilters();
    fillFormOptions();
    $("job-form").addEventListener("submit", submit);
    HH.onLang(render);
    HH.topology.then((topo) => { st.topo = topo; fillFilters(); fillFormOptions(); });
    HH.ready.then(loadDatasets);
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
