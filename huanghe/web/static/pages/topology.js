/* Topology (#topology), platform admins: the stored network in numbers; export it (GET /api/v1/topology as YAML
   or JSON); import a file (PUT /api/v1/topology with the file's text and content type) in two steps: check it
   first (?dry_run=true: every check of a real import, nothing stored), each error of the API's answer listed at
   its path with the file's lines around that place, then import it; and the back-end credentials (GET/PUT
   /api/v1/secrets: names, descriptions and the pools using them; a value can be set, never read). */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "topology.nav": "网络拓扑",
      "topology.title": "网络拓扑",
      "topology.current": "当前网络",
      "topology.none": "尚未导入网络",
      "topology.k.name": "名称",
      "topology.k.version": "版本",
      "topology.k.counts": "对象数量",
      "topology.counts": "{regions} 个经济圈 · {cities} 个城市 · {centers} 个算力中心 · {pools} 个资源池 · {links} 条链路",
      "topology.export": "导出",
      "topology.export.yaml": "下载 YAML",
      "topology.export.json": "下载 JSON",
      "topology.export.failed": "无法导出：{detail}",
      "topology.read.failed": "无法读取网络：{detail}",
      "topology.import": "导入拓扑文件",
      "topology.import.hint": "先检查文件（不保存任何内容），检查通过后才能导入。",
      "topology.f.file": "拓扑文件（YAML 或 JSON）",
      "topology.f.mode": "导入方式",
      "topology.mode.replace": "替换：网络与文件完全一致（文件中没有的对象将被删除）",
      "topology.mode.merge": "合并：新建或更新文件中的对象，保留其他对象",
      "topology.check": "检查文件",
      "topology.do_import": "导入",
      "topology.checking": "正在检查……",
      "topology.importing": "正在导入……",
      "topology.no_file": "请先选择文件",
      "topology.valid": "文件有效：将保存 {summary}（{mode}）",
      "topology.imported": "已导入 {summary}（{mode}）。刷新页面即可在地图上看到新网络。",
      "topology.mode.replace.short": "替换",
      "topology.mode.merge.short": "合并",
      "topology.errors.title": "文件中有 {n} 处错误，未保存任何内容",
      "topology.errors.failed": "请求失败：{detail}",
      "topology.error.whole": "整个文件",
      "topology.error.line": "第 {line} 行",
      "topology.excerpt": "{file} 第 {from}–{to} 行",
      "topology.secrets": "后端凭据",
      "topology.secrets.hint": "调度后端使用的令牌和密码，加密存储；值只能写入，永不显示。",
      "topology.secrets.col.name": "名称",
      "topology.secrets.col.description": "用途",
      "topology.secrets.col.used_by": "使用它的资源池",
      "topology.secrets.col.updated": "更新时间",
      "topology.secrets.col.actions": "操作",
      "topology.secrets.delete": "删除",
      "topology.secrets.delete.confirm": "确认删除",
      "topology.secrets.delete.failed": "无法删除凭据：{detail}",
      "topology.secrets.empty": "还没有凭据",
      "topology.secrets.f.name": "名称",
      "topology.secrets.f.description": "用途（不要写入机密）",
      "topology.secrets.f.value": "值（保存后不再显示）",
      "topology.secrets.save": "保存凭据",
      "topology.secrets.saved": "已保存凭据 {name}（值不显示）",
      "topology.secrets.name_needed": "请填写名称",
      "topology.secrets.failed": "无法保存凭据：{detail}",
      "topology.secrets.list.failed": "无法读取凭据：{detail}",
    },
    en: {
      "topology.nav": "Topology",
      "topology.title": "Topology",
      "topology.current": "Current network",
      "topology.none": "No network imported yet",
      "topology.k.name": "Name",
      "topology.k.version": "Version",
      "topology.k.counts": "Objects",
      "topology.counts": "{regions} regions · {cities} cities · {centers} centers · {pools} pools · {links} links",
      "topology.export": "Export",
      "topology.export.yaml": "Download YAML",
      "topology.export.json": "Download JSON",
      "topology.export.failed": "Could not export: {detail}",
      "topology.read.failed": "Could not read the network: {detail}",
      "topology.import": "Import a topology file",
      "topology.import.hint": "Check the file first (nothing is stored); it can be imported once the check passes.",
      "topology.f.file": "Topology file (YAML or JSON)",
      "topology.f.mode": "Import mode",
      "topology.mode.replace": "Replace: the network becomes exactly the file (objects not in it are deleted)",
      "topology.mode.merge": "Merge: create or update the file's objects, keep the others",
      "topology.check": "Check file",
      "topology.do_import": "Import",
      "topology.checking": "Checking…",
      "topology.importing": "Importing…",
      "topology.no_file": "Choose a file first",
      "topology.valid": "The file is valid: it would store {summary} ({mode})",
      "topology.imported": "Imported {summary} ({mode}). Reload the page to see the new network on the map.",
      "topology.mode.replace.short": "replace",
      "topology.mode.merge.short": "merge",
      "topology.errors.title": "{n} errors in the file; nothing was stored",
      "topology.errors.failed": "The request failed: {detail}",
      "topology.error.whole": "the whole file",
      "topology.error.line": "line {line}",
      "topology.excerpt": "{file}, lines {from}–{to}",
      "topology.secrets": "Back-end credentials",
      "topology.secrets.hint": "Tokens and passwords the scheduler back-ends use, stored encrypted; a value can be written, never shown.",
      "topology.secrets.col.name": "Name",
      "topology.secrets.col.description": "Purpose",
      "topology.secrets.col.used_by": "Pools using it",
      "topology.secrets.col.updated": "Updated",
      "topology.secrets.col.actions": "Actions",
      "topology.secrets.delete": "Delete",
      "topology.secrets.delete.confirm": "Yes, delete",
      "topology.secrets.delete.failed": "Could not delete the credential: {detail}",
      "topology.secrets.empty": "No credentials yet",
      "topology.secrets.f.name": "Name",
      "topology.secrets.f.description": "Purpose (no secret here)",
      "topology.secrets.f.value": "Value (never shown after saving)",
      "topology.secrets.save": "Save credential",
      "topology.secrets.saved": "Saved credential {name} (value not shown)",
      "topology.secrets.name_needed": "Enter a name",
      "topology.secrets.failed": "Could not save the credential: {detail}",
      "topology.secrets.list.failed": "Could not read the credentials: {detail}",
    },
  });

  const { t, el } = HH;
  const TOPO = "/api/v1/topology";
  const [MAX_EXCERPTS, CONTEXT_LINES] = [30, 2];  // errors shown with the file's lines; lines before and after
  const st = {
    topo: null, readError: null, file: null, text: "", checked: null, result: null, busy: "", secrets: null,
    secretsOffset: 0, secretsError: null, secretStatus: "", secretConfirm: null, secretDeleteError: null, built: false,
  };
  let root = null;
  const q = (sel) => root.querySelector(sel);
  const L = window.HH_TOPOLOGY_LOCATE = {};

  // ---- where in the file an error's path is ------------------------------------------------------------------
  /** `body.centers[3].pools[0].nodes` → ["centers", 3, "pools", 0, "nodes"] (the leading "body" dropped). */
  L.segments = (path) => [...String(path || "").replace(/^body(\.|(?=\[)|$)/, "").matchAll(/([^.[\]]+)|\[(\d+)\]/g)]
    .map((m) => (m[2] != null ? Number(m[2]) : m[1]));
  /** The 0-based line of `segs` in a block-style YAML text (as `huanghe topology export` writes it), or of the
      deepest part of it found (a missing field: its object), or -1. */
  L.yamlLine = function (lines, segs) {
    const info = (i) => { const m = /^( *)((?:-(?: +|$))*)(.*)$/.exec(lines[i]); return { lead: m[1].length, dashes: m[2], rest: m[3] }; };
    const blank = (i) => /^\s*(#.*)?$/.test(lines[i]) || /^(---|\.\.\.)\s*$/.test(lines[i]);
    const first = (a, b) => { for (let i = a; i < b; i++) if (!blank(i)) return i; return -1; };
    let [start, end, item, best] = [0, lines.length, -1, -1];  // item: the list item line whose dash opens the mapping
    for (const seg of segs) {
      const head = first(start, end);
      if (head < 0) return best;
      if (typeof seg === "number") {
        const dashCol = info(head).lead;
        if (!info(head).dashes) return best;
        const items = [];
        for (let i = head; i < end; i++) if (!blank(i) && info(i).lead === dashCol && info(i).dashes) items.push(i);
        if (seg >= items.length) return best;
        [best, start, item, end] = [items[seg], items[seg], items[seg], seg + 1 < items.length ? items[seg + 1] : end];
        continue;
      }
      const col = head === item ? info(head).lead + info(head).dashes.length : info(head).lead;
      let found = -1;
      for (let i = head; i < end && found < 0; i++) {
        if (blank(i)) continue;
        const x = info(i);
        if (x.dashes && i !== item) continue;
        const keyCol = i === item ? x.lead + x.dashes.length : x.lead;
        const m = /^(["']?)([^"'#\s][^:#]*?)\1\s*:(\s|$)/.exec(x.rest);
        if (keyCol === col && m && m[2] === seg) found = i;
      }
      if (found < 0) return best;
      let stop = found + 1;
      while (stop < end && (blank(stop) || info(stop).lead > col || (info(stop).lead === col && info(stop).dashes))) stop++;
      [best, start, end, item] = [found, found + 1, stop, -1];
    }
    return best;
  };
  /** The character offset of `segs` in a JSON text (or of the deepest part found), or -1. */
  L.jsonOffset = function (text, segs) {
    const want = segs.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("");
    const found = new Map();
    let i = 0;
    const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
    const str = () => {
      const s0 = i;
      for (i++; i < text.length && text[i] !== '"'; i += text[i] === "\\" ? 2 : 1);
      i++;
      return JSON.parse(text.slice(s0, i));
    };
    const wanted = (path) => want === path || (want.startsWith(path) && /[.[]/.test(want[path.length]));
    function value(path, at) {
      ws();
      if (wanted(path)) found.set(path, at == null ? i : at);
      const c = text[i];
      if (c === "{" || c === "[") {
        i++;
        ws();
        if (text[i] === (c === "{" ? "}" : "]")) { i++; return; }
        for (let n = 0; i < text.length; n++) {
          ws();
          if (c === "[") value(`${path}[${n}]`);
          else { const k0 = i; const key = str(); ws(); i++; value(`${path}.${key}`, k0); }  // i++: the colon
          ws();
          if (text[i++] !== ",") return;
        }
        return;
      }
      if (c === '"') { str(); return; }
      while (i < text.length && !/[,\]}\s]/.test(text[i])) i++;
    }
    try { value(""); } catch (err) { /* a text the API could not read either: its message names the line */ }
    let path = want;
    while (path && !found.has(path)) path = path.replace(/(\.[^.[]*|\[\d+\])$/, "");
    return path && found.has(path) ? found.get(path) : -1;
  };
  /** {line, col} (0-based) of an error in the file: the line and column its message names, else its path. */
  L.locate = function (text, isJson, item) {
    const named = /line (\d+), column (\d+)/.exec(item.message || "");
    if (named) return { line: Number(named[1]) - 1, col: Number(named[2]) - 1 };
    const segs = L.segments(item.path);
    if (!segs.length) return null;
    if (isJson) {
      const at = L.jsonOffset(text, segs);
      if (at < 0) return null;
      const before = text.slice(0, at);
      const line = (before.match(/\n/g) || []).length;
      return { line, col: at - (before.lastIndexOf("\n") + 1) };
    }
    const line = L.yamlLine(text.split(/\r?\n/), segs);
    return line < 0 ? null : { line, col: 0 };
  };

  // ---- the page ---------------------------------------------------------------------------------------------
  function build() {
    const file = el("input", { type: "file", id: "topology-file", accept: ".yaml,.yml,.json,application/json,application/yaml,text/yaml" });
    file.addEventListener("change", chooseFile);
    const mode = el("select", { id: "topology-mode" }, el("option", { value: "replace" }), el("option", { value: "merge" }));
    mode.addEventListener("change", () => { st.checked = null; st.result = null; render(); });
    const check = el("button", { type: "button", className: "primary", id: "topology-check", dataset: { t: "topology.check" } });
    const doImport = el("button", { type: "button", className: "primary", id: "topology-import", dataset: { t: "topology.do_import" } });
    check.addEventListener("click", () => send(true));
    doImport.addEventListener("click", () => send(false));
    const [yaml, json] = ["yaml", "json"].map((f) => {
      const b = el("button", { type: "button", className: "small", id: `topology-export-${f}`, dataset: { t: `topology.export.${f}` } });
      b.addEventListener("click", () => exportAs(f));
      return b;
    });
    const parts = [
      el("section", { className: "panel section" },
        el("div", { className: "section-head" }, el("h2", { dataset: { t: "topology.title" } })),
        el("div", { id: "topology-read-error", role: "alert" }),
        el("h3", { dataset: { t: "topology.current" } }),
        el("div", { id: "topology-summary" }),
        el("h3", { dataset: { t: "topology.export" } }),
        el("div", { className: "actions" }, yaml, json),
        el("div", { id: "topology-export-error", role: "alert" })),
      el("section", { className: "panel section" },
        el("h3", { dataset: { t: "topology.import" } }),
        el("p", { className: "hint-line", dataset: { t: "topology.import.hint" } }),
        el("div", { className: "topology-form" },
          el("label", { className: "field" }, el("span", { dataset: { t: "topology.f.file" } }), file),
          el("label", { className: "field" }, el("span", { dataset: { t: "topology.f.mode" } }), mode),
          el("div", { className: "form-actions" }, check, doImport,
            el("span", { className: "form-status", id: "topology-status", role: "status" }))),
        el("div", { id: "topology-result" })),
    ];
    if (HH.can("GET /api/v1/secrets")) parts.push(buildSecrets());
    root.replaceChildren(...parts);
    st.built = true;
  }
  function applyTexts() {
    root.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
    const mode = q("#topology-mode");
    mode.options[0].textContent = t("topology.mode.replace");
    mode.options[1].textContent = t("topology.mode.merge");
  }
  function countsOf(x) {
    return t("topology.counts", { regions: HH.fmt(x.regions), cities: HH.fmt(x.cities), centers: HH.fmt(x.centers),
      pools: HH.fmt(x.pools), links: HH.fmt(x.links) });
  }
  function render() {
    applyTexts();
    HH.showError(q("#topology-read-error"), st.readError, "topology.read.failed");
    const topo = st.topo;
    q("#topology-summary").replaceChildren(topo
      ? el("dl", { className: "kv" },
        el("dt", {}, t("topology.k.name")), el("dd", { className: "mono", id: "topology-name" }, topo.name),
        el("dt", {}, t("topology.k.version")), el("dd", {}, HH.fmt(topo.version)),
        el("dt", {}, t("topology.k.counts")), el("dd", { id: "topology-counts" }, countsOf({
          regions: topo.regions.length, cities: topo.cities.length, centers: topo.centers.length,
          pools: topo.centers.reduce((n, c) => n + c.pools.length, 0), links: topo.links.length })))
      : el("p", { className: "hint-line" }, t("topology.none")));
    q("#topology-export-yaml").disabled = q("#topology-export-json").disabled = !topo;
    q("#topology-status").textContent = st.busy ? t(st.busy) : "";
    q("#topology-check").disabled = !st.file || !!st.busy;
    q("#topology-import").disabled = !st.file || !!st.busy || st.checked !== checkKey();
    q("#topology-result").replaceChildren(...resultNodes());
    if (st.secrets || st.secretsError) renderSecrets();
  }
  async function readTopology() {  // 404: nothing imported yet (said in the summary)
    [st.topo, st.readError] = await HH.api(TOPO).then((x) => [x, null], (err) => [null, err.status === 404 ? null : err]);
  }
  async function exportAs(format) {
    const name = (st.topo && st.topo.name) || "topology";
    try {
      await HH.download(`${TOPO}?format=${format}`, `${name}.${format}`);
      HH.showError(q("#topology-export-error"), null);
    } catch (err) {
      HH.showError(q("#topology-export-error"), err, "topology.export.failed");
    }
  }

  // ---- import: check, then import -------------------------------------------------------------------------
  const isJson = () => !!st.file && (/json/i.test(st.file.type) || /\.json$/i.test(st.file.name));
  const checkKey = () => (st.file ? `${st.file.name}|${st.file.size}|${st.file.lastModified}|${q("#topology-mode").value}` : "");
  async function chooseFile() {
    const file = q("#topology-file").files[0] || null;
    Object.assign(st, { file, text: file ? await file.text() : "", checked: null, result: null });
    render();
  }
  function csrf() {
    const hit = document.cookie.split("; ").find((c) => c.startsWith("huanghe_csrf="));
    return hit ? decodeURIComponent(hit.slice("huanghe_csrf=".length)) : "";
  }
  /** PUT the file's text as it is (its own content type); dryRun: ?dry_run=true. */
  async function send(dryRun) {
    if (!st.file) return;
    const key = checkKey();
    const mode = q("#topology-mode").value;
    st.busy = dryRun ? "topology.checking" : "topology.importing";
    st.result = null;
    render();
    const headers = { Accept: "application/json", "Content-Type": isJson() ? "application/json" : "application/yaml" };
    const token = csrf();
    if (token) headers["X-CSRF-Token"] = token;
    try {
      let resp;
      try {
        resp = await fetch(TOPO + HH.query({ mode, dry_run: dryRun ? "true" : "" }), {
          method: "PUT", headers, body: st.text, credentials: "same-origin",
        });
      } catch (err) {
        throw new HH.ApiError(0, [{ path: "", message: t("error.network") }]);
      }
      const data = await resp.json().catch(() => null);
      if (!resp.ok) {
        let detail = data && data.detail;
        if (!Array.isArray(detail)) detail = [{ path: "", message: typeof detail === "string" ? detail : resp.statusText }];
        throw new HH.ApiError(resp.status, detail);
      }
      [st.result, st.checked] = [{ ok: data, dryRun }, dryRun ? key : null];
      if (!dryRun) await readTopology();
    } catch (err) {
      [st.result, st.checked] = [{ err }, null];
    } finally {
      st.busy = "";
      render();
    }
  }
  function excerpt(at) {
    const lines = st.text.split(/\r?\n/);
    const from = Math.max(0, at.line - CONTEXT_LINES);
    const to = Math.min(lines.length - 1, at.line + CONTEXT_LINES);
    const width = String(to + 1).length;
    const rows = [];
    for (let i = from; i <= to; i++) {
      let text = lines[i];
      if (text.length > 160) {  // a long line (compact JSON): the part around the column
        const a = Math.max(0, (i === at.line ? at.col : 0) - 60);
        text = (a > 0 ? "…" : "") + text.slice(a, a + 160) + (a + 160 < lines[i].length ? "…" : "");
      }
      const row = `${String(i + 1).padStart(width)} │ ${text}`;
      rows.push(i === at.line ? el("mark", { className: "hit" }, row) : row, "\n");
    }
    const label = t("topology.excerpt", { file: st.file.name, from: from + 1, to: to + 1 });
    const pre = el("pre", { className: "topo-excerpt", tabIndex: 0, title: label }, rows);
    pre.setAttribute("aria-label", label);
    return pre;
  }
  function resultNodes() {
    const r = st.result;
    if (!r) return [];
    const mode = (x) => t(`topology.mode.${x.mode}.short`);
    if (r.ok) {
      const key = r.dryRun ? "topology.valid" : "topology.imported";
      return [el("p", { className: "ok-line", id: "topology-ok" }, t(key, { summary: countsOf(r.ok), mode: mode(r.ok) }))];
    }
    const err = r.err;
    if (!(err instanceof HH.ApiError) || err.authNeeded || err.status === 0) return [HH.errorBox(err, "topology.errors.failed")];
    const items = err.detail.map((d, n) => {
      const path = String(d.path || "").replace(/^body\.?/, "");
      const at = n < MAX_EXCERPTS ? L.locate(st.text, isJson(), d) : null;
      return el("li", { dataset: { path } },
        el("code", { className: "err-path" }, path || t("topology.error.whole")), ": ",
        el("span", { className: "err-message" }, d.message),
        at ? el("span", { className: "err-line" }, ` (${t("topology.error.line", { line: HH.fmt(at.line + 1) })})`) : null,
        at ? excerpt(at) : null);
    });
    return [el("div", { className: "alert topo-errors" },
      el("p", { className: "err-title" }, `HTTP ${err.status} · ${t("topology.errors.title", { n: HH.fmt(err.detail.length) })}`),
      el("ul", { id: "topology-errors" }, items))];
  }

  // ---- back-end credentials ----------------------------------------------------------------------------------
  function buildSecrets() {
    const form = el("form", { className: "secret-form", noValidate: true, autocomplete: "off" },
      ["name", "description", "value"].map((name) => el("label", { className: "field" },
        el("span", { dataset: { t: `topology.secrets.f.${name}` } }),
        el("input", { name, type: name === "value" ? "password" : "text", autocomplete: name === "value" ? "new-password" : "off",
          maxLength: name === "value" ? 16384 : name === "name" ? 64 : 200 }),
        el("small", { className: "field-error", dataset: { errorFor: name } }))),
      el("div", { className: "form-actions" },
        el("button", { type: "submit", className: "primary", dataset: { t: "topology.secrets.save" } }),
        el("span", { className: "form-status", id: "secret-status", role: "status" })),
      el("div", { id: "secret-error" }));
    form.addEventListener("submit", saveSecret);
    return el("section", { className: "panel section", id: "topology-secrets" },
      el("h3", { dataset: { t: "topology.secrets" } }),
      el("p", { className: "hint-line", dataset: { t: "topology.secrets.hint" } }),
      el("div", { id: "secrets-error", role: "alert" }),
      el("div", { className: "table-wrap", id: "secrets-table", tabIndex: 0 }),  // scrolls: reachable by keyboard
      el("div", { id: "secrets-pager" }),
      form);
  }
  const fresh = HH.latest();  // overlapping list reads (a pager click, a save's or delete's reload): the latest draws
  async function loadSecrets() {
    if (!HH.can("GET /api/v1/secrets")) return;
    const mine = fresh(), path = "/api/v1/secrets" + HH.query({ limit: 20, offset: st.secretsOffset });
    const [page, error] = await HH.api(path).then((x) => [x, null], (err) => [null, err]);
    if (!mine()) return;  // overtaken: the later read draws
    [st.secrets, st.secretsError] = [page || st.secrets, error];
    renderSecrets();
  }
  function renderSecrets() {
    if (st.secretDeleteError) HH.showError(q("#secrets-error"), st.secretDeleteError, "topology.secrets.delete.failed");
    else HH.showError(q("#secrets-error"), st.secretsError, "topology.secrets.list.failed");
    const page = st.secrets || { items: [], total: 0, limit: 20, offset: 0 };
    const del = (name) => {  // a second click confirms; refused (409) while a pool names the secret
      const b = el("button", { type: "button", className: "small danger-text", dataset: { act: "delete", name } },
        t(st.secretConfirm === name ? "topology.secrets.delete.confirm" : "topology.secrets.delete"));
      b.setAttribute("aria-label", `${b.textContent} ${name}`);
      b.addEventListener("click", () => (st.secretConfirm === name ? deleteSecret(name) : (st.secretConfirm = name, renderSecrets())));
      return b;
    };
    const table = HH.table(
      ["name", "description", "used_by", "updated", "actions"].map((k) => t(`topology.secrets.col.${k}`)),
      page.items.map((s) => [{ text: s.name, className: "mono" }, { text: s.description || "–", className: "wrap" },
        { text: s.used_by.join(", ") || "–", className: "mono wrap" }, HH.time(s.updated_s), del(s.name)]),
      t("topology.secrets.empty"));
    table.id = "secrets-grid";
    q("#secrets-table").replaceChildren(table);
    q("#secrets-table").setAttribute("role", "region");
    q("#secrets-table").setAttribute("aria-label", t("topology.secrets"));
    q("#secrets-pager").replaceChildren(HH.pager(page, (offset) => { st.secretsOffset = offset; loadSecrets(); }));
    q("#secret-status").textContent = st.secretStatus;
  }
  async function deleteSecret(name) {
    st.secretConfirm = null;
    st.secretDeleteError = await HH.api(`/api/v1/secrets/${encodeURIComponent(name)}`, { method: "DELETE" }).then(() => null, (err) => err);
    await loadSecrets();
  }
  async function saveSecret(ev) {
    ev.preventDefault();
    const form = ev.target;
    form.querySelectorAll(".field-error").forEach((n) => { n.textContent = ""; });
    q("#secret-error").replaceChildren();
    [st.secretStatus, st.secretDeleteError] = ["", null];
    const name = form.elements.name.value.trim();
    const body = { value: form.elements.value.value, description: form.elements.description.value.trim() };
    try {
      if (!name) throw new HH.ApiError(422, [{ path: "name", message: t("topology.secrets.name_needed") }]);
      await HH.api(`/api/v1/secrets/${encodeURIComponent(name)}`, { method: "PUT", body });
      form.reset();
      st.secretStatus = t("topology.secrets.saved", { name });
      await loadSecrets();
    } catch (err) {
      const general = [];
      for (const d of err.detail || []) {
        const field = String(d.path || "").replace(/^(body|path)\.?/, "").split(/[.[]/)[0];
        const slot = form.querySelector(`[data-error-for="${field}"]`);
        if (slot) slot.textContent = d.message; else general.push(d.message);
      }
      if (general.length || err.authNeeded || !(err.detail || []).length) {
        HH.showError(q("#secret-error"), err.authNeeded ? err : new Error(general.join("; ") || err.message), "topology.secrets.failed");
      }
      renderSecrets();
    }
  }

  HH.registerPage({
    name: "topology",
    nav: "topology.nav",
    needs: ["GET /api/v1/topology", "PUT /api/v1/topology"],
    calls: ["GET /api/v1/topology", "PUT /api/v1/topology", "GET /api/v1/secrets", "PUT /api/v1/secrets/{name}",
      "DELETE /api/v1/secrets/{name}"],
    async show(params, el_) {
      root = el_;
      if (!st.built) {
        build();
        HH.onLang(() => { if (st.built) render(); });
      }
      render();
      await Promise.all([readTopology(), loadSecrets()]);
      render();
    },
  });
})();
