/* Datasets page (#datasets: the tenant's datasets, paged, and registering one; #datasets/<id>: one dataset with
   its data class and residency (centers and endpoints allowed), files with their replicas (upload from the
   browser: one request up to SINGLE_MAX bytes, else in parts with a progress bar, resumed when an upload of the
   same name and size is open; SHA-256 computed here in pieces), download, delete, the replicas by city and on
   the map, its replication rules (add, remove: copies, expression, lifetime) and its transfers (retry).
   SHA-256, the upload request, residency and map blocks: /static/datasets_parts.js, loaded when first shown.
   Changing a dataset's fields and the tenant's tiering policies (read only): pages/datasets_edit.js. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "datasets.nav": "数据集",
      "datasets.title": "数据集",
      "datasets.register": "登记数据集",
      "datasets.f.id": "标识",
      "datasets.f.name": "名称（可选）",
      "datasets.f.class": "数据级别",
      "datasets.f.center": "归属中心",
      "datasets.f.center_auto": "自动（空间最多的热存储）",
      "datasets.f.allowed": "允许存放的中心（重要/核心数据）",
      "datasets.f.tenant": "所属租户",
      "datasets.f.submit": "登记",
      "datasets.registered": "已登记数据集 {id}",
      "datasets.col.id": "标识",
      "datasets.col.name": "名称",
      "datasets.col.tenant": "租户",
      "datasets.col.class": "数据级别",
      "datasets.col.home": "归属中心",
      "datasets.col.size": "大小",
      "datasets.col.replicas": "完整副本所在中心",
      "datasets.empty": "暂无数据集",
      "datasets.back": "← 全部数据集",
      "datasets.not_found": "数据集 {id} 不存在或无权查看",
      "datasets.summary": "概况",
      "datasets.temperature": "存储温度",
      "datasets.residency": "数据驻留",
      "datasets.residency.class": "一般数据：可存放于接受该级别的任一中心（{n} 个）",
      "datasets.residency.catalog": "重要数据保护目录所列中心及归属中心（{n} 个）",
      "datasets.residency.dataset": "数据集所列允许中心及归属中心（{n} 个）",
      "datasets.residency.home": "核心数据：仅限归属中心",
      "datasets.residency.endpoints": "允许的存储端点",
      "datasets.residency.none": "允许的中心内暂无存储端点",
      "datasets.residency.more": "另有 {n} 个端点未列出",
      "datasets.files": "文件",
      "datasets.files.empty": "暂无文件",
      "datasets.col.file": "文件",
      "datasets.col.state": "状态",
      "datasets.col.sha": "SHA-256",
      "datasets.col.file_replicas": "副本（端点 · 中心 · 状态）",
      "datasets.col.actions": "操作",
      "datasets.download": "下载",
      "datasets.delete": "删除",
      "datasets.delete_confirm": "确认删除",
      "datasets.deleted": "已删除 {name}",
      "datasets.upload": "上传文件",
      "datasets.up.file": "选择文件",
      "datasets.up.name": "数据集内的文件名（可选，如 dir/a.bin）",
      "datasets.up.endpoint": "目标端点",
      "datasets.up.endpoint_home": "归属中心的热存储",
      "datasets.up.submit": "上传",
      "datasets.up.progress": "上传进度",
      "datasets.up.hashing": "正在计算校验和并发送：{done} / {total}（{pct}）",
      "datasets.up.finishing": "服务器正在校验……",
      "datasets.up.done": "已上传 {name}（{size}，SHA-256 已核对）",
      "datasets.up.resumed": "续传：服务器已有 {n} 个分片",
      "datasets.up.pick": "请先选择文件",
      "datasets.where": "副本分布",
      "datasets.col.city": "城市",
      "datasets.col.center": "中心",
      "datasets.col.endpoints": "端点",
      "datasets.col.files": "文件数",
      "datasets.where.empty": "暂无可用副本",
      "datasets.map.label": "副本所在中心地图（绿色：有副本；灰色：允许存放）",
      "datasets.map.replica": "有副本",
      "datasets.map.allowed": "允许存放",
      "datasets.rules": "副本规则",
      "datasets.rules.empty": "暂无规则",
      "datasets.rule.copies": "副本数",
      "datasets.rule.expression": "端点选择表达式（如 city=qingdao&tier=hot）",
      "datasets.rule.lifetime": "有效期（小时，留空为永久）",
      "datasets.rule.grouping": "分组",
      "datasets.rule.group_all": "全部文件放在同一端点",
      "datasets.rule.group_none": "每个文件单独放置",
      "datasets.rule.submit": "添加规则",
      "datasets.rule.added": "已添加规则 {id}：{state}",
      "datasets.rule.remove": "删除规则",
      "datasets.col.rule": "规则",
      "datasets.col.expression": "表达式",
      "datasets.col.expires": "到期",
      "datasets.col.locks": "锁定（完成/复制中/卡住）",
      "datasets.col.reason": "原因",
      "datasets.col.origin": "来源",
      "datasets.forever": "永久",
      "datasets.rule.suspend": "暂停",
      "datasets.rule.resume": "恢复",
      "datasets.rule.locks": "锁定",
      "datasets.locks.title": "规则 {id} 的副本锁定（共 {n} 个）",
      "datasets.locks.empty": "该规则暂无锁定",
      "datasets.drop": "删除数据集",
      "datasets.drop_confirm": "确认删除数据集及其全部文件",
      "datasets.transfers": "数据传输",
      "datasets.transfers.empty": "暂无传输",
      "datasets.col.transfer": "编号",
      "datasets.col.route": "源 → 目标端点",
      "datasets.col.attempts": "尝试",
      "datasets.col.bytes": "字节",
      "datasets.col.duration": "耗时（秒）",
      "datasets.col.cost": "费用",
      "datasets.col.error": "错误",
      "datasets.retry": "重试",
      "datasets.state.available": "可用",
      "datasets.state.copying": "复制中",
      "datasets.state.bad": "损坏",
      "datasets.state.deleting": "删除中",
      "datasets.state.lost": "丢失",
      "datasets.state.ok": "已满足",
      "datasets.state.replicating": "复制中",
      "datasets.state.stuck": "受阻",
      "datasets.state.suspended": "已暂停",
      "datasets.state.queued": "排队",
      "datasets.state.active": "传输中",
      "datasets.state.done": "完成",
      "datasets.state.failed": "失败",
      "datasets.class.general": "一般数据",
      "datasets.class.important": "重要数据",
      "datasets.class.core": "核心数据",
      "datasets.temp.hot": "热",
      "datasets.temp.warm": "温",
      "datasets.temp.cold": "冷",
    },
    en: {
      "datasets.nav": "Datasets",
      "datasets.title": "Datasets",
      "datasets.register": "Register a dataset",
      "datasets.f.id": "Id",
      "datasets.f.name": "Name (optional)",
      "datasets.f.class": "Data class",
      "datasets.f.center": "Home center",
      "datasets.f.center_auto": "Automatic (hot storage with the most room)",
      "datasets.f.allowed": "Centers allowed (important/core data)",
      "datasets.f.tenant": "Tenant",
      "datasets.f.submit": "Register",
      "datasets.registered": "Dataset {id} registered",
      "datasets.col.id": "Id",
      "datasets.col.name": "Name",
      "datasets.col.tenant": "Tenant",
      "datasets.col.class": "Data class",
      "datasets.col.home": "Home center",
      "datasets.col.size": "Size",
      "datasets.col.replicas": "Centers with a complete copy",
      "datasets.empty": "No datasets yet",
      "datasets.back": "← All datasets",
      "datasets.not_found": "Dataset {id} does not exist or is not yours to see",
      "datasets.summary": "Summary",
      "datasets.temperature": "Temperature",
      "datasets.residency": "Residency",
      "datasets.residency.class": "General data: any center accepting the class ({n})",
      "datasets.residency.catalog": "The centers of the protection catalog entry and the home center ({n})",
      "datasets.residency.dataset": "The dataset's allowed centers and its home center ({n})",
      "datasets.residency.home": "Core data: its home center only",
      "datasets.residency.endpoints": "Storage endpoints allowed",
      "datasets.residency.none": "No storage endpoint in the allowed centers yet",
      "datasets.residency.more": "{n} more endpoints not listed",
      "datasets.files": "Files",
      "datasets.files.empty": "No files yet",
      "datasets.col.file": "File",
      "datasets.col.state": "State",
      "datasets.col.sha": "SHA-256",
      "datasets.col.file_replicas": "Replicas (endpoint · center · state)",
      "datasets.col.actions": "Actions",
      "datasets.download": "Download",
      "datasets.delete": "Delete",
      "datasets.delete_confirm": "Confirm delete",
      "datasets.deleted": "{name} deleted",
      "datasets.upload": "Upload a file",
      "datasets.up.file": "File",
      "datasets.up.name": "Name in the dataset (optional, e.g. dir/a.bin)",
      "datasets.up.endpoint": "Target endpoint",
      "datasets.up.endpoint_home": "Hot storage of the home center",
      "datasets.up.submit": "Upload",
      "datasets.up.progress": "Upload progress",
      "datasets.up.hashing": "Hashing and sending: {done} / {total} ({pct})",
      "datasets.up.finishing": "The server is verifying…",
      "datasets.up.done": "{name} uploaded ({size}, SHA-256 checked)",
      "datasets.up.resumed": "Resuming: the server holds {n} parts",
      "datasets.up.pick": "Choose a file first",
      "datasets.where": "Where the copies are",
      "datasets.col.city": "City",
      "datasets.col.center": "Center",
      "datasets.col.endpoints": "Endpoints",
      "datasets.col.files": "Files",
      "datasets.where.empty": "No available replica yet",
      "datasets.map.label": "Map of the centers holding copies (green: a copy; grey: allowed)",
      "datasets.map.replica": "Holds a copy",
      "datasets.map.allowed": "Allowed",
      "datasets.rules": "Replication rules",
      "datasets.rules.empty": "No rules",
      "datasets.rule.copies": "Copies",
      "datasets.rule.expression": "Endpoint expression (e.g. city=qingdao&tier=hot)",
      "datasets.rule.lifetime": "Lifetime (hours, empty: forever)",
      "datasets.rule.grouping": "Grouping",
      "datasets.rule.group_all": "All files on the same endpoints",
      "datasets.rule.group_none": "Each file on its own",
      "datasets.rule.submit": "Add rule",
      "datasets.rule.added": "Rule {id} added: {state}",
      "datasets.rule.remove": "Remove rule",
      "datasets.col.rule": "Rule",
      "datasets.col.expression": "Expression",
      "datasets.col.expires": "Expires",
      "datasets.col.locks": "Locks (ok/replicating/stuck)",
      "datasets.col.reason": "Reason",
      "datasets.col.origin": "Origin",
      "datasets.forever": "never",
      "datasets.rule.suspend": "Suspend",
      "datasets.rule.resume": "Resume",
      "datasets.rule.locks": "Locks",
      "datasets.locks.title": "Replica locks of rule {id} ({n})",
      "datasets.locks.empty": "This rule holds no locks",
      "datasets.drop": "Delete dataset",
      "datasets.drop_confirm": "Confirm: delete the dataset and all its files",
      "datasets.transfers": "Transfers",
      "datasets.transfers.empty": "No transfers",
      "datasets.col.transfer": "No.",
      "datasets.col.route": "Source → destination endpoint",
      "datasets.col.attempts": "Attempts",
      "datasets.col.bytes": "Bytes",
      "datasets.col.duration": "Duration (s)",
      "datasets.col.cost": "Cost",
      "datasets.col.error": "Error",
      "datasets.retry": "Retry",
      "datasets.state.available": "available",
      "datasets.state.copying": "copying",
      "datasets.state.bad": "bad",
      "datasets.state.deleting": "deleting",
      "datasets.state.lost": "lost",
      "datasets.state.ok": "OK",
      "datasets.state.replicating": "replicating",
      "datasets.state.stuck": "stuck",
      "datasets.state.suspended": "suspended",
      "datasets.state.queued": "queued",
      "datasets.state.active": "active",
      "datasets.state.done": "done",
      "datasets.state.failed": "failed",
      "datasets.class.general": "General",
      "datasets.class.important": "Important",
      "datasets.class.core": "Core",
      "datasets.temp.hot": "hot",
      "datasets.temp.warm": "warm",
      "datasets.temp.cold": "cold",
    },
  });

  const { t, el, fmt } = HH;
  const LIMIT = 50;
  const SINGLE_MAX = 8 * 1024 * 1024;  // larger files go in parts (as the CLI does)
  const SUBTLE_MAX = 256 * 1024 * 1024;  // up to this size a file is read whole once to hash it natively
  const REFRESH_MS = 3000;
  const CLASSES = ["general", "important", "core"];
  const st = { offset: 0, fileOffset: 0, id: null, ds: null, res: null, files: [], filePage: null, rules: [], transfers: [],
    topo: null, msg: {}, timer: null, busy: false, chart: null, armed: null, slot: null, locks: null,
    refill: null };
  const enc = (s) => encodeURIComponent(s);
  const encPath = (name) => name.split("/").map(enc).join("/");
  const badge = (v) => el("span", { className: `state ds-${v}`, dataset: { state: v } }, HH.label("datasets.state", v));
  const bytes = (n) => (n >= 1e9 ? `${fmt(n / 1e9, 2)} GB` : n >= 1e6 ? `${fmt(n / 1e6, 1)} MB` : `${fmt(n)} B`);
  const field = (label, input) => el("label", { className: "field" }, label, input);
  const center = (id) => (st.topo && st.topo.centers.find((c) => c.id === id)) || null;
  const centerName = (id) => (center(id) ? `${HH.named(center(id))} (${id})` : id);
  const platformRole = () => Boolean(HH.whoami && !HH.whoami.tenant);
  const put = (root, ...nodes) => root.replaceChildren(...nodes.filter((n) => n != null));  // a null would show as "null"
  let parts = null;  // the promise of /static/datasets_parts.js
  function loadParts() {
    parts = parts || new Promise((resolve, reject) => {
      const tag = el("script", { src: "/static/datasets_parts.js" });
      tag.onload = () => resolve(HH.datasetParts);
      tag.onerror = () => { parts = null; reject(new Error("/static/datasets_parts.js")); };
      document.head.append(tag);
    });
    return parts;
  }

  // ---- upload: one request up to SINGLE_MAX, else in parts (the open upload of the same name and size resumed) --
  async function upload(file, name, endpoint, progress) {
    const P = await loadParts();
    const id = enc(st.id);
    if (file.size <= SINGLE_MAX) {
      const body = new Uint8Array(await file.arrayBuffer());
      const headers = { "X-Checksum-Sha256": await P.digestHex(body) };
      return P.send({ method: "PUT", path: `/api/v1/datasets/${id}/files/${encPath(name)}${HH.query({ endpoint })}`, body, headers }, progress);
    }
    const open = await HH.api(`/api/v1/datasets/${id}/uploads${HH.query({ state: "open", name })}`);
    let up = open.items.find((u) => u.size_bytes === file.size && (!endpoint || u.endpoint === endpoint));
    for (const other of open.items.filter((u) => u !== up)) {
      await HH.api(`/api/v1/datasets/${id}/uploads/${enc(other.id)}`, { method: "DELETE" });
    }
    if (up) up = await HH.api(`/api/v1/datasets/${id}/uploads/${enc(up.id)}`);  // the parts held now
    else up = await HH.api(`/api/v1/datasets/${id}/uploads`, { method: "POST", body: { name, size_bytes: file.size, endpoint: endpoint || undefined } });
    const held = new Map(up.parts.map((p) => [p.number, p.sha256]));
    if (held.size) st.msg.upload = t("datasets.up.resumed", { n: held.size });
    // the whole file's SHA-256: at once by crypto.subtle up to SUBTLE_MAX bytes, else in pieces as the parts go
    const quick = window.crypto && crypto.subtle && file.size <= SUBTLE_MAX ? await P.digestHex(new Uint8Array(await file.arrayBuffer())) : null;
    const whole = quick ? null : new P.Sha256();
    for (let n = 1, off = 0; off < file.size; n++, off += up.part_bytes) {
      const body = new Uint8Array(await file.slice(off, off + up.part_bytes).arrayBuffer());
      if (whole) whole.update(body);
      if (held.get(n) === (held.has(n) ? P.sha256Hex(body) : null)) { progress(off + body.length); continue; }
      const path = `/api/v1/datasets/${id}/uploads/${enc(up.id)}/parts/${n}`;
      await P.send({ method: "PUT", path, body }, (done) => progress(off + done));
    }
    progress(-1);
    return HH.api(`/api/v1/datasets/${id}/uploads/${enc(up.id)}/complete`, { method: "POST", body: { sha256: quick || whole.hex() } });
  }

  // ---- the list ---------------------------------------------------------------------------------------------
  async function register(body) {
    const ds = await HH.api("/api/v1/datasets:register", { method: "POST", body });
    location.hash = `#datasets/${enc(ds.id)}`;
  }
  async function addRule(body) {
    const r = await HH.api("/api/v1/rules", { method: "POST", body });
    st.msg.rule = t("datasets.rule.added", { id: r.id, state: HH.label("datasets.state", r.state) });
    await refresh();
  }
  // The list's and a dataset's reads share one guard (both draw the page): only the latest of overlapping reads (the
  // 3 s refresh, an action's reload, a pager click, another dataset opened) stores its answers and draws.
  const fresh = HH.latest();
  async function showList(root) {
    const mine = fresh();
    const tenantPolicies = HH.can("GET /api/v1/lifecycle-policies") && HH.whoami && HH.whoami.tenant;  // admins: Storage page
    const [page, policies] = await Promise.all([HH.api(`/api/v1/datasets${HH.query({ limit: LIMIT, offset: st.offset })}`),
      tenantPolicies ? HH.api(`/api/v1/lifecycle-policies${HH.query({ limit: 200 })}`) : null]);
    if (!mine()) return;  // overtaken: the later read draws
    const wide = platformRole();
    const labels = [t("datasets.col.id"), t("datasets.col.name"), wide ? t("datasets.col.tenant") : null, t("datasets.col.class"),
      t("datasets.col.home"), { text: t("datasets.col.size"), num: true }, t("datasets.col.replicas")].filter(Boolean);
    const rows = page.items.map((d) => [el("a", { href: `#datasets/${enc(d.id)}`, className: "mono" }, d.id), { text: d.name, className: "wrap" },
      wide ? d.tenant : null, t(`datasets.class.${d.data_class}`), centerName(d.center),
      { text: bytes(d.size_gb * 1e9), className: "num" }, { text: d.replicas.join(", ") || "–", className: "wrap" }].filter((c) => c !== null));
    put(root, el("div", { className: "section-head" }, el("h2", {}, t("datasets.title"))),
      el("div", { className: "table-wrap", id: "ds-list", tabIndex: 0, role: "region", ariaLabel: t("datasets.title") }, HH.table(labels, rows, t("datasets.empty"))),
      HH.pager(page, (off) => { st.offset = off; render().catch((err) => HH.showError(root, err)); }),
      HH.can("POST /api/v1/datasets:register") ? (await loadParts()).registerForm() : null, HH.datasetEdit.policyBlock(policies));
  }

  // ---- one dataset -------------------------------------------------------------------------------------------
  /** Read the dataset shown into `st`: true, or false when a later read overtook this one (it stores nothing). */
  async function load() {
    const mine = fresh();
    const id = enc(st.id);
    const q = HH.query({ dataset: st.id, limit: 100 });
    const [ds, res, files, rules, transfers] = await Promise.all([
      HH.api(`/api/v1/datasets/${id}`),
      HH.can("GET /api/v1/datasets/{item_id}/residency") ? HH.api(`/api/v1/datasets/${id}/residency`) : null,
      HH.api(`/api/v1/datasets/${id}/files${HH.query({ limit: LIMIT, offset: st.fileOffset })}`),
      HH.can("GET /api/v1/rules") ? HH.api(`/api/v1/rules${q}`) : null,
      HH.can("GET /api/v1/transfers") ? HH.api(`/api/v1/transfers${q}`) : null,
    ]).catch((err) => { if (mine()) throw err; return []; });  // an overtaken read's failure is no longer news
    if (!mine()) return false;
    Object.assign(st, { ds, res, files: files.items, filePage: files, rules: rules ? rules.items : [], transfers: transfers ? transfers.items : [] });
    return true;
  }
  const moving = () => st.rules.some((r) => r.state === "replicating") || st.transfers.some((x) => x.state === "queued" || x.state === "active");
  async function renderDetail(root) {
    const P = await loadParts();
    const canUpload = HH.can("POST /api/v1/datasets/{item_id}/uploads") && HH.can("PUT /api/v1/datasets/{item_id}/files/{name}");
    const where = P.whereBlock(st.files);
    const files = el("div", { className: "table-wrap short", id: "ds-files", tabIndex: 0, role: "region", ariaLabel: t("datasets.files") }, HH.table([t("datasets.col.file"), { text: t("datasets.col.size"), num: true },
      t("datasets.col.state"), t("datasets.col.sha"), t("datasets.col.file_replicas"), t("datasets.col.actions")], P.fileRows(), t("datasets.files.empty")));
    st.slot = el("div", { id: "ds-error" });
    put(root, el("p", {}, el("a", { href: "#datasets" }, t("datasets.back"))),
      el("div", { className: "section-head" }, el("h2", {}, `${t("datasets.title")} · ${st.id}`), P.dropButton()), st.slot,
      el("div", { className: "detail-grid" }, el("div", {}, el("h3", {}, t("datasets.summary")), P.summaryBlock(st.ds)), P.residencyBlock(st.res)),
      HH.datasetEdit.editBlock(),
      el("h3", {}, t("datasets.files")), files,
      HH.pager(st.filePage, (off) => { st.fileOffset = off; refresh().catch((err) => HH.showError(st.slot, err)); }),
      st.msg.file ? el("p", { className: "ok-line", role: "status" }, st.msg.file) : null,
      canUpload ? P.uploadForm() : null, where.node, P.ruleBlock(), P.transferBlock());
    P.drawMap(where, st.res);
  }
  async function act(ev) {
    const b = ev.target.closest("button[data-act]");
    if (!b || !st.ds) return;
    const { act: what, name } = b.dataset;
    const id = enc(st.id);
    try {
      if (what === "download") return await HH.download(`/api/v1/datasets/${id}/files/${encPath(name)}/content`, name.split("/").pop());
      if (what === "arm" || what === "drop-arm") { st.armed = what === "arm" ? name : "\u0000dataset"; return await renderDetail(page.el); }
      if (what === "delete") {
        await HH.api(`/api/v1/datasets/${id}/files/${encPath(name)}`, { method: "DELETE" });
        st.msg.file = t("datasets.deleted", { name });
      }
      const rid = enc(b.dataset.rule || "");
      if (what === "unrule") await HH.api(`/api/v1/rules/${rid}`, { method: "DELETE" });
      if (what === "suspend") await HH.api(`/api/v1/rules/${rid}:suspend`, { method: "POST" });
      if (what === "resume") await HH.api(`/api/v1/rules/${rid}:resume`, { method: "POST" });
      if (what === "locks") {
        const [rule, locks] = await Promise.all([HH.api(`/api/v1/rules/${rid}`), HH.api(`/api/v1/rules/${rid}/locks?limit=200`)]);
        st.locks = { rule, page: locks };
      }
      if (what === "drop") {
        await HH.api(`/api/v1/datasets/${id}`, { method: "DELETE" });
        location.hash = "#datasets";
        return;
      }
      if (what === "retry") await HH.api(`/api/v1/transfers/${enc(b.dataset.transfer)}/retry`, { method: "POST" });
      st.armed = null;
      await refresh();
    } catch (err) {
      HH.showError(st.slot, err);
    }
  }
  /** Change the dataset's fields (`body`: only those changed; pages/datasets_edit.js), keeping the answer. */
  async function save(body) {
    st.ds = await HH.api(`/api/v1/datasets/${enc(st.id)}`, { method: "PATCH", body });
  }
  HH.datasets = { st, CLASSES, center, centerName, badge, bytes, field, platformRole, upload, register, addRule, save, refresh: () => refresh() };
  async function refresh() {
    if ((await load()) && HH.view === "datasets" && st.id) await renderDetail(page.el);
  }
  async function tick() {
    if (st.busy || HH.view !== "datasets" || !st.id || !st.ds || document.hidden || !moving()) return;
    const typing = document.activeElement;  // a redraw would take the focus (and the caret) out of a form
    if (typing && page.el.contains(typing) && typing.matches("input, select, textarea")) return;
    st.busy = true;
    try { await HH.keepFocus(page.el, refresh); } catch (err) { HH.showError(st.slot, err); } finally { st.busy = false; }
  }

  // ---- wiring ------------------------------------------------------------------------------------------------
  async function render() {
    const root = page.el;
    st.topo = st.topo || (await HH.topology);
    if (!st.id) return showList(root);
    if (!st.ds) {
      try {
        if (!(await load())) return;
      } catch (err) {
        if (!(err instanceof HH.ApiError && err.status === 404)) throw err;
        root.replaceChildren(el("p", {}, el("a", { href: "#datasets" }, t("datasets.back"))), el("h2", {}, t("datasets.title")),
          el("div", { className: "alert", id: "ds-not-found" }, t("datasets.not_found", { id: st.id })));
        return;
      }
    }
    await renderDetail(root);
  }
  const page = HH.registerPage({
    name: "datasets",
    nav: "datasets.nav",
    needs: ["GET /api/v1/datasets"],
    calls: [
      "GET /api/v1/datasets", "POST /api/v1/datasets:register", "GET /api/v1/datasets/{item_id}", "PATCH /api/v1/datasets/{item_id}",
      "GET /api/v1/datasets/{item_id}/residency", "GET /api/v1/datasets/{item_id}/files",
      "PUT /api/v1/datasets/{item_id}/files/{name}", "GET /api/v1/datasets/{item_id}/files/{name}/content",
      "DELETE /api/v1/datasets/{item_id}/files/{name}", "GET /api/v1/datasets/{item_id}/uploads",
      "POST /api/v1/datasets/{item_id}/uploads", "PUT /api/v1/datasets/{item_id}/uploads/{upload_id}/parts/{number}",
      "POST /api/v1/datasets/{item_id}/uploads/{upload_id}/complete", "DELETE /api/v1/datasets/{item_id}/uploads/{upload_id}",
      "GET /api/v1/datasets/{item_id}/uploads/{upload_id}", "DELETE /api/v1/datasets/{item_id}",
      "GET /api/v1/rules", "POST /api/v1/rules", "DELETE /api/v1/rules/{rule_id}", "GET /api/v1/rules/{rule_id}",
      "GET /api/v1/rules/{rule_id}/locks", "POST /api/v1/rules/{rule_id}:suspend", "POST /api/v1/rules/{rule_id}:resume",
      "GET /api/v1/transfers", "POST /api/v1/transfers/{transfer_id}/retry", "GET /api/v1/lifecycle-policies",
    ],
    show(params) {
      const id = params[0] || null;
      if (id !== st.id) Object.assign(st, { msg: {}, armed: null, fileOffset: 0, locks: null });
      Object.assign(st, { id, ds: null });
      return render();
    },
  });
  page.el.addEventListener("click", act);
  // once what was typed is back (a language switch's redraw: HH.keepInputs), the register form offers the centers
  // of the kept class and keeps the centers picked (datasets_parts.js; no change event on restore)
  page.el.addEventListener("hh-inputs-kept", (ev) => { if (st.refill) st.refill(ev.detail); });
  // returned: what was typed stays once the redraw is done (common.js)
  HH.onLang(() => (HH.view === "datasets" ? render().catch((err) => page.el.prepend(HH.errorBox(err))) : null));
  HH.onView((view) => {
    clearInterval(st.timer);
    st.timer = view === "datasets" ? setInterval(tick, REFRESH_MS) : null;
  });
})();
