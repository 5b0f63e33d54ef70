/* Parts of the Datasets page (pages/datasets.js loads this file when first shown) that make no API call of their
   own: SHA-256 in pieces (FIPS 180-4: a file of any size is hashed part by part while it is sent, never read
   whole into memory, and without crypto.subtle, which plain-HTTP pages lack), an upload request with progress
   (XMLHttpRequest: fetch reports no upload progress), the residency block, the replicas by city and their map.
   Also the forms and tables of the page (their API calls are made by pages/datasets.js: HH.datasets).
   Reads the page's shared state and helpers from HH.datasets at call time. */
(function () {
  "use strict";

  const { t, el, fmt } = HH;
  const frac = (x) => ((x - Math.floor(x)) * 2 ** 32) >>> 0;
  const PRIMES = [];
  for (let n = 2; PRIMES.length < 64; n++) if (PRIMES.every((p) => n % p)) PRIMES.push(n);
  const K = Int32Array.from(PRIMES, (p) => frac(Math.cbrt(p)));
  const H0 = Int32Array.from(PRIMES.slice(0, 8), (p) => frac(Math.sqrt(p)));

  /** SHA-256 fed in pieces: `new Sha256().update(bytes).update(more).hex()` (int32 arithmetic throughout). */
  class Sha256 {
    constructor() { this.h = H0.slice(); this.buf = new Uint8Array(64); this.n = 0; this.len = 0; this.w = new Int32Array(64); }
    block(b, o) {
      const w = this.w, h = this.h;
      for (let i = 0; i < 16; i++, o += 4) w[i] = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
      for (let i = 16; i < 64; i++) {
        const x = w[i - 15], y = w[i - 2];
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[i] = (s0 + w[i - 16] + s1 + w[i - 7]) | 0;
      }
      let a = h[0], b2 = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (let i = 0; i < 64; i++) {
        const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (k + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (s0 + ((a & b2) ^ (a & c) ^ (b2 & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b2; b2 = a; a = (t1 + t2) | 0;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + b2) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
      h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
    }
    update(data) {
      let i = 0;
      this.len += data.length;
      if (this.n) {
        i = Math.min(64 - this.n, data.length);
        this.buf.set(data.subarray(0, i), this.n);
        this.n += i;
        if (this.n < 64) return this;
        this.block(this.buf, 0);
        this.n = 0;
      }
      for (; i + 64 <= data.length; i += 64) this.block(data, i);
      this.buf.set(data.subarray(i), 0);
      this.n = data.length - i;
      return this;
    }
    hex() {
      const bits = this.len * 8, tail = new Uint8Array((this.n < 56 ? 64 : 128) - this.n);
      tail[0] = 0x80;
      const v = new DataView(tail.buffer);
      v.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
      v.setUint32(tail.length - 4, bits >>> 0);
      this.update(tail);
      return Array.from(this.h, (x) => (x >>> 0).toString(16).padStart(8, "0")).join("");
    }
  }

  /** SHA-256 of the bytes `data` (a Uint8Array) in hex: crypto.subtle where the page has it (a secure context:
      HTTPS or localhost), else the pieces above. */
  async function digestHex(data) {
    if (!(window.crypto && crypto.subtle)) return new Sha256().update(data).hex();
    const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    return Array.from(sum, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  /** Send raw bytes ({method, path, body, headers}) with the CSRF token; `onProgress(bytesSent)`; JSON back,
      or an HH.ApiError as HH.api throws. */
  function send(req, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(req.method, req.path);
      const csrf = document.cookie.split("; ").find((c) => c.startsWith("huanghe_csrf="));
      if (csrf) xhr.setRequestHeader("X-CSRF-Token", decodeURIComponent(csrf.slice(13)));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      for (const [k, v] of Object.entries(req.headers || {})) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (ev) => onProgress(ev.loaded);
      xhr.onerror = () => reject(new HH.ApiError(0, [{ path: "", message: t("error.network") }]));
      xhr.onload = () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (err) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
        const d = data && data.detail;
        reject(new HH.ApiError(xhr.status, Array.isArray(d) ? d : [{ path: "", message: typeof d === "string" ? d : xhr.statusText }]));
      };
      xhr.send(req.body);
    });
  }

  /** Where the dataset's copies may live: the rule in words, the centers, the endpoints (GET .../residency). */
  function residencyBlock(r) {
    const D = HH.datasets;
    if (!r) return null;
    const eps = r.endpoints.map((e) => [el("span", { className: "mono" }, e.id), D.centerName(e.center),
      t(`datasets.temp.${e.temperature}`), e.available ? t("datasets.state.available") : "–"]);
    return el("div", { id: "ds-residency" }, el("h3", {}, t("datasets.residency")),
      el("p", { className: "hint-line" }, t(`datasets.residency.${r.rule}`, { n: fmt(r.centers.length) })),
      r.rule === "class" ? null : el("p", {}, r.centers.map(D.centerName).join(", ")),
      el("h3", {}, t("datasets.residency.endpoints")),
      el("div", { className: "table-wrap short", tabIndex: 0, role: "region", ariaLabel: t("datasets.residency.endpoints") },
        HH.table([t("datasets.col.endpoints"), t("datasets.col.center"),
        t("datasets.temperature"), t("datasets.col.state")], eps, t("datasets.residency.none"))),
      r.endpoints_total > r.endpoints.length
        ? el("p", { className: "hint-line" }, t("datasets.residency.more", { n: fmt(r.endpoints_total - r.endpoints.length) })) : null);
  }

  /** The available replicas of the files shown, by center: a table by city, and a map when ECharts is there. */
  function whereBlock(files) {
    const D = HH.datasets;
    const byCenter = new Map();
    for (const f of files) for (const r of f.replicas) {
      if (r.state !== "available") continue;
      const e = byCenter.get(r.center) || { endpoints: new Set(), files: 0 };
      e.endpoints.add(r.endpoint);
      e.files += 1;
      byCenter.set(r.center, e);
    }
    const cityOf = (c) => (D.center(c) && D.st.topo.cities.find((x) => x.id === D.center(c).city)) || null;
    const rows = [...byCenter].sort(([a], [b]) => a.localeCompare(b)).map(([c, e]) => [HH.named(cityOf(c)) || "–", D.centerName(c),
      { text: [...e.endpoints].join(", "), className: "mono" }, { text: fmt(e.files), className: "num" }]);
    const map = el("div", { id: "ds-map", className: "ds-map", role: "img", hidden: true });
    map.setAttribute("aria-label", t("datasets.map.label"));
    const node = el("div", { id: "ds-where" }, el("h3", {}, t("datasets.where")), map,
      el("div", { className: "table-wrap short", tabIndex: 0, role: "region", ariaLabel: t("datasets.where") },
        HH.table([t("datasets.col.city"), t("datasets.col.center"), t("datasets.col.endpoints"),
        { text: t("datasets.col.files"), num: true }], rows, t("datasets.where.empty"))));
    return { byCenter, map, node };
  }

  /** Draw the map of `where` (green: centers holding a copy; grey: centers allowed); none without ECharts. */
  function drawMap(where, residency) {
    const D = HH.datasets;
    if (D.st.chart) { D.st.chart.dispose(); D.st.chart = null; }
    if (!window.echarts || window.HUANGHE_NO_ECHARTS || !echarts.getMap("shandong") || !D.st.topo) return;
    where.map.hidden = false;
    const point = (id, color, size) => {
      const c = D.center(id);
      return c ? { name: HH.named(c), value: [c.lon, c.lat], symbolSize: size, itemStyle: { color } } : null;
    };
    const allowed = (residency ? residency.centers : []).filter((c) => !where.byCenter.has(c)).map((c) => point(c, "#9aa9b8", 6));
    const held = [...where.byCenter.keys()].map((c) => point(c, "#2f9a5f", 16));
    D.st.chart = echarts.init(where.map, null, { renderer: "canvas" });
    D.st.chart.setOption({ animation: false, tooltip: { trigger: "item" },
      geo: { map: "shandong", roam: false, left: 8, right: 8, top: 8, bottom: 8, itemStyle: { areaColor: "#f1f5f9", borderColor: "#8aa2bb" } },
      series: [{ type: "scatter", coordinateSystem: "geo", name: t("datasets.map.allowed"), data: allowed.filter(Boolean) },
        { type: "scatter", coordinateSystem: "geo", name: t("datasets.map.replica"), data: held.filter(Boolean) }] });
  }

  /** The rows of the files table: name, size, state, SHA-256, replicas, download and (two-step) delete. */
  function fileRows() {
    const { st, badge, bytes, centerName } = HH.datasets;
    const canDelete = HH.can("DELETE /api/v1/datasets/{item_id}/files/{name}");
    return st.files.map((f) => {
      const armed = st.armed === f.name;
      return [{ text: f.name, className: "mono wrap" }, { text: bytes(f.size_bytes), className: "num" }, badge(f.state),
        el("span", { className: "mono", title: f.sha256 }, f.sha256.slice(0, 12) + "…"),
        el("ul", { className: "ds-replicas" }, f.replicas.map((r) => el("li", {}, el("span", { className: "mono" }, r.endpoint), ` · ${centerName(r.center)} · `, badge(r.state)))),
        el("span", { className: "actions" }, el("button", { type: "button", className: "small", dataset: { act: "download", name: f.name } }, t("datasets.download")),
          canDelete ? el("button", { type: "button", className: "small", dataset: { act: armed ? "delete" : "arm", name: f.name } },
            t(armed ? "datasets.delete_confirm" : "datasets.delete")) : null)];
    });
  }
  /** The upload form: file, name in the dataset, target endpoint (allowed and available), progress bar. */
  function uploadForm() {
    const { st, bytes, centerName, field, upload, refresh } = HH.datasets;
    const file = el("input", { type: "file", name: "file" });
    const name = el("input", { name: "name", maxLength: 512, autocomplete: "off" });
    const endpoint = el("select", { name: "endpoint" }, new Option(t("datasets.up.endpoint_home"), ""),
      (st.res ? st.res.endpoints : []).filter((e) => e.available).map((e) => new Option(`${e.id} · ${centerName(e.center)}`, e.id)));
    const bar = el("progress", { id: "ds-progress", max: 1, value: 0, hidden: true });
    bar.setAttribute("aria-label", t("datasets.up.progress"));
    const status = el("span", { id: "ds-upload-status", className: "form-status", role: "status" }, st.msg.upload || "");
    const error = el("div");
    const go = el("button", { type: "submit", className: "primary" }, t("datasets.up.submit"));
    const form = el("form", { className: "job-form ds-form", id: "ds-upload" }, field(t("datasets.up.file"), file), field(t("datasets.up.name"), name),
      field(t("datasets.up.endpoint"), endpoint), el("div", { className: "form-actions wide" }, go, bar, status), el("div", { className: "wide" }, error));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.replaceChildren();
      const f = file.files[0];
      if (!f) { status.textContent = t("datasets.up.pick"); return; }
      const target = name.value.trim() || f.name;
      Object.assign(bar, { hidden: false, max: f.size, value: 0 });
      go.disabled = true;
      const progress = (now) => {
        if (now < 0) { status.textContent = t("datasets.up.finishing"); return; }
        bar.value = now;
        status.textContent = t("datasets.up.hashing", { done: bytes(now), total: bytes(f.size), pct: HH.pct(now / f.size) });
      };
      try {
        await upload(f, target, endpoint.value, progress);
        st.msg.upload = t("datasets.up.done", { name: target, size: bytes(f.size) });
        await refresh();
      } catch (err) {
        go.disabled = false;
        status.textContent = "";
        HH.showError(error, err);
      }
    });
    return el("div", { className: "panel" }, el("h3", {}, t("datasets.upload")), form);
  }
  /** The dataset's transfers: number (a link to its detail), file, route, state, attempts, bytes, duration, cost,
      error, retry. */
  function transferBlock() {
    const { st, badge } = HH.datasets;
    const canRetry = HH.can("POST /api/v1/transfers/{transfer_id}/retry");
    const canOpen = HH.can("GET /api/v1/transfers/{transfer_id}");  // its detail: pages/transfer.js
    const rows = st.transfers.map((x) => [{ text: canOpen ? el("a", { href: `#transfer/${x.id}`, dataset: { transfer: x.id } }, x.id) : x.id, className: "num" },
      { text: x.file, className: "mono wrap" },
      { text: `${x.source_endpoint || "?"} → ${x.dest_endpoint}`, className: "mono" }, badge(x.state), `${x.attempts} / ${x.max_attempts}`,
      { text: fmt(x.bytes), className: "num" }, { text: x.duration_s == null ? "–" : fmt(x.duration_s, 2), className: "num" },
      { text: HH.money(x.cost_fen / 100), className: "num" }, { text: x.error || "–", className: "wrap" },
      canRetry && x.state === "failed" ? el("button", { type: "button", className: "small", dataset: { act: "retry", transfer: x.id } }, t("datasets.retry")) : ""]);
    return el("div", {}, el("h3", {}, t("datasets.transfers")), el("div", { className: "table-wrap short", id: "ds-transfers", tabIndex: 0, role: "region",
      ariaLabel: t("datasets.transfers") },
      HH.table([t("datasets.col.transfer"), t("datasets.col.file"), t("datasets.col.route"), t("datasets.col.state"), t("datasets.col.attempts"),
        { text: t("datasets.col.bytes"), num: true }, { text: t("datasets.col.duration"), num: true }, { text: t("datasets.col.cost"), num: true },
        t("datasets.col.error"), t("datasets.col.actions")], rows, t("datasets.transfers.empty"))));
  }
  function centerOptions(cls) {
    const { st } = HH.datasets;
    const ok = (st.topo ? st.topo.centers : []).filter((c) => (c.allowed_data_classes || []).includes(cls));
    return ok.map((c) => new Option(`${HH.named(c)} (${c.id})`, c.id));
  }
  /** The form registering a dataset (id, name, class, home center, allowed centers; tenant for platform roles). */
  function registerForm() {
    const { st, CLASSES, field, platformRole, register } = HH.datasets;
    const id = el("input", { name: "id", required: true, maxLength: 64, autocomplete: "off" });
    const name = el("input", { name: "name", maxLength: 200, autocomplete: "off" });
    const cls = el("select", { name: "data_class" }, CLASSES.map((c) => new Option(t(`datasets.class.${c}`), c)));
    const home = el("select", { name: "center" });
    const allowed = el("select", { name: "allowed_centers", multiple: true, size: 4 });
    const tenant = el("input", { name: "tenant", maxLength: 64, autocomplete: "off" });
    const allowedField = field(t("datasets.f.allowed"), allowed);
    let filledFor = null;  // the class the centers offered are for
    const fill = () => {
      filledFor = cls.value;
      home.replaceChildren(new Option(t("datasets.f.center_auto"), ""), ...centerOptions(cls.value));
      allowed.replaceChildren(...centerOptions(cls.value));
      allowedField.hidden = cls.value === "general";
    };
    cls.addEventListener("change", fill);
    fill();
    // a redraw put back what was typed ('hh-inputs-kept', no change event): another class kept, its centers are
    // offered, then the centers picked go back into them (a center may be offered for that class only)
    st.refill = (kept) => {
      if (!form.isConnected || cls.value === filledFor) return;
      fill();
      if (kept) kept.putBack(form);
    };
    const error = el("div");
    const form = el("form", { className: "job-form ds-form", id: "ds-register" },
      field(t("datasets.f.id"), id), field(t("datasets.f.name"), name), field(t("datasets.f.class"), cls),
      field(t("datasets.f.center"), home), platformRole() ? field(t("datasets.f.tenant"), tenant) : null,
      el("div", { className: "wide" }, allowedField),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("datasets.f.submit"))),
      el("div", { className: "wide" }, error));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { id: id.value.trim(), data_class: cls.value };
      if (name.value.trim()) body.name = name.value.trim();
      if (home.value) body.center = home.value;
      if (cls.value !== "general") body.allowed_centers = [...allowed.selectedOptions].map((o) => o.value);
      if (platformRole()) body.tenant = tenant.value.trim();
      try {
        await register(body);
      } catch (err) {
        HH.showError(error, err);
      }
    });
    return el("div", { className: "panel" }, el("h3", {}, t("datasets.register")), form);
  }
  /** The dataset's summary: id, name, tenant, class, home, temperature, size, centers with a complete copy. */
  function summaryBlock(d) {
    const { bytes, centerName } = HH.datasets;
    return kv([["datasets.col.id", el("span", { className: "mono" }, d.id)], ["datasets.col.name", d.name], ["datasets.col.tenant", d.tenant],
      ["datasets.col.class", el("span", { className: "ds-class", dataset: { dataClass: d.data_class } }, t(`datasets.class.${d.data_class}`))],
      ["datasets.col.home", centerName(d.center)], ["datasets.temperature", t(`datasets.temp.${d.temperature}`)],
      ["datasets.col.size", bytes(d.size_gb * 1e9)], ["datasets.col.replicas", d.replicas.map(centerName).join(", ")]]);
  }
  const button = (act, rule, key) => el("button", { type: "button", className: "small", dataset: { act, rule } }, t(key));
  function kv(pairs) {
    return el("dl", { className: "kv" }, pairs.map(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v == null || v === "" ? "–" : v)]));
  }
  /** The locks of the rule asked for (GET /rules/{id}/locks): file, endpoint, center, state. */
  function locksBlock() {
    const { st, badge, centerName } = HH.datasets;
    if (!st.locks || !st.rules.some((r) => r.id === st.locks.rule.id)) return null;
    const rows = st.locks.page.items.map((l) => [{ text: l.file, className: "mono wrap" }, { text: l.endpoint, className: "mono" },
      centerName(l.center), badge(l.state)]);
    return el("div", { id: "ds-locks" }, el("h3", {}, t("datasets.locks.title", { id: st.locks.rule.id, n: fmt(st.locks.page.total) })),
      el("div", { className: "table-wrap short", tabIndex: 0, role: "region", ariaLabel: t("datasets.rule.locks") },
        HH.table([t("datasets.col.file"), t("datasets.col.endpoints"), t("datasets.col.center"), t("datasets.col.state")], rows,
          t("datasets.locks.empty"))));
  }
  /** Delete the whole dataset, in two steps (a first click arms the button). */
  function dropButton() {
    const { st } = HH.datasets;
    if (!HH.can("DELETE /api/v1/datasets/{item_id}")) return null;
    const armed = st.armed === "\u0000dataset";
    return el("button", { type: "button", className: "danger", dataset: { act: armed ? "drop" : "drop-arm" } },
      t(armed ? "datasets.drop_confirm" : "datasets.drop"));
  }
  /** The dataset's rules (state, reason, locks; suspend, resume, remove, locks shown) and the form adding one. */
  function ruleBlock() {
    const { st, badge, field, addRule } = HH.datasets;
    const canRemove = HH.can("DELETE /api/v1/rules/{rule_id}");
    const canPause = HH.can("POST /api/v1/rules/{rule_id}:suspend") && HH.can("POST /api/v1/rules/{rule_id}:resume");
    const rows = st.rules.map((r) => [{ text: r.id, className: "mono" }, { text: fmt(r.copies), className: "num" }, { text: r.expression, className: "mono wrap" },
      r.expires_s ? HH.time(r.expires_s) : t("datasets.forever"), badge(r.state), `${r.locks_ok} / ${r.locks_replicating} / ${r.locks_stuck}`,
      { text: r.reason || "–", className: "wrap" }, r.origin,
      el("span", { className: "actions" }, button("locks", r.id, "datasets.rule.locks"),
        canPause && r.state !== "suspended" ? button("suspend", r.id, "datasets.rule.suspend") : null,
        canPause && r.state === "suspended" ? button("resume", r.id, "datasets.rule.resume") : null,
        canRemove ? button("unrule", r.id, "datasets.rule.remove") : null)]);
    const table = el("div", { className: "table-wrap short", id: "ds-rules", tabIndex: 0, role: "region", ariaLabel: t("datasets.rules") }, HH.table([t("datasets.col.rule"), { text: t("datasets.rule.copies"), num: true },
      t("datasets.col.expression"), t("datasets.col.expires"), t("datasets.col.state"), t("datasets.col.locks"), t("datasets.col.reason"),
      t("datasets.col.origin"), t("datasets.col.actions")], rows, t("datasets.rules.empty")));
    const locks = locksBlock();
    if (!HH.can("POST /api/v1/rules")) return el("div", {}, el("h3", {}, t("datasets.rules")), table, locks);
    const copies = el("input", { name: "copies", type: "number", min: 1, max: 20, value: 1, required: true });
    const expr = el("input", { name: "expression", required: true, maxLength: 2000, autocomplete: "off" });
    const life = el("input", { name: "lifetime_h", type: "number", min: 0, step: "any" });
    const grouping = el("select", { name: "grouping" }, new Option(t("datasets.rule.group_all"), "all"), new Option(t("datasets.rule.group_none"), "none"));
    const status = el("span", { id: "ds-rule-status", className: "form-status", role: "status" }, st.msg.rule || "");
    const error = el("div");
    const form = el("form", { className: "job-form ds-form", id: "ds-rule" }, field(t("datasets.rule.copies"), copies), field(t("datasets.rule.lifetime"), life),
      el("div", { className: "wide" }, field(t("datasets.rule.expression"), expr)), field(t("datasets.rule.grouping"), grouping),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("datasets.rule.submit")), status),
      el("div", { className: "wide" }, error));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { dataset: st.id, copies: Number(copies.value), expression: expr.value.trim(), grouping: grouping.value };
      if (life.value) body.lifetime_s = Number(life.value) * 3600;
      try {
        await addRule(body);
      } catch (err) {
        HH.showError(error, err);
      }
    });
    return el("div", {}, el("h3", {}, t("datasets.rules")), table, locks, el("div", { className: "panel" }, el("h3", {}, t("datasets.rule.submit")), form));
  }
  window.addEventListener("resize", () => {  // the map follows the window (skip while hidden: zero size)
    const chart = HH.datasets && HH.datasets.st.chart;
    if (chart && chart.getDom().clientWidth > 0) chart.resize();
  });
  HH.datasetParts = { Sha256, sha256Hex: (data) => new Sha256().update(data).hex(), digestHex, send, residencyBlock, whereBlock, drawMap,
    fileRows, uploadForm, transferBlock, registerForm, summaryBlock, ruleBlock, dropButton };
})();
