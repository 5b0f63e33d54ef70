/* Parts of the Datasets page (pages/datasets.js loads this file when first shown) that make no API call of their
   own: SHA-256 in pieces (FIPS 180-4: a file of any size is hashed part by part while it is sent, never read
   whole into memory, and without crypto.subtle, which plain-HTTP pages lack), an upload request with progress
   (XMLHttpRequest: fetch reports no upload progress), the residency block, the replicas by city and their map.
   Also the files table's rows, the upload form and the transfers table (their API calls are the page's).
   Reads the page's shared state and helpers from HH.datasets at call time. */
(function () {
  "use strict";

  const { t, el, fmt } = HH;
  const frac = (x) => ((x - Math.floor(x)) * 2 ** 32) >>> 0;
  const PRIMES = [];
  for (let n = 2; PRIMES.length < 64; n++) if (PRIMES.every((p) => n % p)) PRIMES.push(n);
  const K = Uint32Array.from(PRIMES, (p) => frac(Math.cbrt(p)));
  const H0 = Uint32Array.from(PRIMES.slice(0, 8), (p) => frac(Math.sqrt(p)));

  /** SHA-256 fed in pieces: `new Sha256().update(bytes).update(more).hex()`. */
  class Sha256 {
    constructor() { this.h = H0.slice(); this.buf = new Uint8Array(64); this.n = 0; this.len = 0; this.w = new Uint32Array(64); }
    block(b, o) {
      const w = this.w, h = this.h;
      for (let i = 0; i < 16; i++) w[i] = (b[o + 4 * i] << 24) | (b[o + 4 * i + 1] << 16) | (b[o + 4 * i + 2] << 8) | b[o + 4 * i + 3];
      for (let i = 16; i < 64; i++) {
        const x = w[i - 15], y = w[i - 2];
        w[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w[i - 16] +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w[i - 7];
      }
      let [a, b2, c, d, e, f, g, k] = h;
      for (let i = 0; i < 64; i++) {
        const t1 = (k + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b2) ^ (a & c) ^ (b2 & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b2; b2 = a; a = (t1 + t2) | 0;
      }
      h[0] += a; h[1] += b2; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
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
      return Array.from(this.h, (x) => x.toString(16).padStart(8, "0")).join("");
    }
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
  /** The dataset's transfers: file, route, state, attempts, bytes, duration, cost, error, retry. */
  function transferBlock() {
    const { st, badge } = HH.datasets;
    const canRetry = HH.can("POST /api/v1/transfers/{transfer_id}/retry");
    const rows = st.transfers.map((x) => [{ text: x.id, className: "num" }, { text: x.file, className: "mono wrap" },
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
  HH.datasetParts = { Sha256, sha256Hex: (data) => new Sha256().update(data).hex(), send, residencyBlock, whereBlock, drawMap,
    fileRows, uploadForm, transferBlock };
})();
