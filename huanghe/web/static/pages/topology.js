/* Topology (#topology), platform admins: the stored network in numbers; export it (GET /api/v1/topology as YAML
   or JSON); import a file (PUT /api/v1/topology with the file's text and content type) in two steps: check it
   first (?dry_run=true: every check of a real import, nothing stored), each error of the API's answer listed at
   its path with the file's lines around that place, then import it; and the back-end credentials (GET/PUT
   /api/v1/secrets: names, descriptions and the pools using them; a value can be set, never read). Locating an
   error in the file and drawing a check's result: pages/topology_locate.js (HH.topologyParts, no API calls). */
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
  const st = {
    topo: null, readError: null, file: null, text: "", checked: null, result: null, busy: "", secrets: null,
    secretsOffset: 0, secretsError: null, secretStatus: "", secretConfirm: null, secretDeleteError: null, built: false,
  };
  let root = null;
  const q = (sel) => root.querySelector(sel);
  const P = HH.topologyParts;  // pages/topology_locate.js: an error's place in the file, the result drawn

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
  function render() {
    applyTexts();
    HH.showError(q("#topology-read-error"), st.readError, "topology.read.failed");
    const topo = st.topo;
    q("#topology-summary").replaceChildren(topo
      ? el("dl", { className: "kv" },
        el("dt", {}, t("topology.k.name")), el("dd", { className: "mono", id: "topology-name" }, topo.name),
        el("dt", {}, t("topology.k.version")), el("dd", { id: "topology-version" }, HH.fmt(topo.version)),
        el("dt", {}, t("topology.k.counts")), el("dd", { id: "topology-counts" }, P.countsOf({
          regions: topo.regions.length, cities: topo.cities.length, centers: topo.centers.length,
          pools: topo.centers.reduce((n, c) => n + c.pools.length, 0), links: topo.links.length })))
      : el("p", { className: "hint-line" }, t("topology.none")));
    q("#topology-export-yaml").disabled = q("#topology-export-json").disabled = !topo;
    q("#topology-status").textContent = st.busy ? t(st.busy) : "";
    q("#topology-check").disabled = !st.file || !!st.busy;
    q("#topology-import").disabled = !st.file || !!st.busy || st.checked !== checkKey();
    q("#topology-result").replaceChildren(...P.resultNodes(st.result, st.text, st.file ? st.file.name : "", isJson()));
    if (st.secrets || st.secretsError) renderSecrets();
  }
  // the read on opening the page and an import's re-read can overlap (the page opened again while an import is
  // sent): only the latest read stores, an older answer arriving last does not draw the network before the import
  const freshTopo = HH.latest();
  async function readTopology() {  // 404: nothing imported yet (said in the summary)
    const mine = freshTopo();
    const got = await HH.api(TOPO).then((x) => [x, null], (err) => [null, err.status === 404 ? null : err]);
    if (mine()) [st.topo, st.readError] = got;  // else overtaken: the later read stores
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
  const freshFile = HH.latest();  // a file chosen while the previous one is still read: only the latest is kept
  async function chooseFile() {
    const mine = freshFile(), file = q("#topology-file").files[0] || null;
    const text = file ? await file.text() : "";
    if (!mine()) return;
    Object.assign(st, { file, text, checked: null, result: null });
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
