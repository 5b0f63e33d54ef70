/* Parts of the Topology page (pages/topology.js makes every API call and keeps the state): where in an imported
   file an error's path is (block-style YAML as `huanghe topology export` writes it, or JSON text), and the
   check's or import's result drawn: what the file holds, or each error of the API's answer at its path with the
   file's lines around that place. Registered as HH.topologyParts (index.html loads this before topology.js). */
(function () {
  "use strict";

  const { t, el } = HH;
  const [MAX_EXCERPTS, CONTEXT_LINES] = [30, 2];  // errors shown with the file's lines; lines before and after
  const L = {};
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

  // ---- the result of a check or an import -----------------------------------------------------------------
  /** "{regions} regions · … · {links} links" from counts {regions, cities, centers, pools, links}. */
  L.countsOf = function (x) {
    return t("topology.counts", { regions: HH.fmt(x.regions), cities: HH.fmt(x.cities), centers: HH.fmt(x.centers),
      pools: HH.fmt(x.pools), links: HH.fmt(x.links) });
  };
  /** The file's lines around `at` ({line, col}, 0-based), that line marked; `fileName` names it in the label. */
  function excerpt(text, fileName, at) {
    const lines = text.split(/\r?\n/);
    const from = Math.max(0, at.line - CONTEXT_LINES);
    const to = Math.min(lines.length - 1, at.line + CONTEXT_LINES);
    const width = String(to + 1).length;
    const rows = [];
    for (let i = from; i <= to; i++) {
      let line = lines[i];
      if (line.length > 160) {  // a long line (compact JSON): the part around the column
        const a = Math.max(0, (i === at.line ? at.col : 0) - 60);
        line = (a > 0 ? "…" : "") + line.slice(a, a + 160) + (a + 160 < lines[i].length ? "…" : "");
      }
      const row = `${String(i + 1).padStart(width)} │ ${line}`;
      rows.push(i === at.line ? el("mark", { className: "hit" }, row) : row, "\n");
    }
    const label = t("topology.excerpt", { file: fileName, from: from + 1, to: to + 1 });
    const pre = el("pre", { className: "topo-excerpt", tabIndex: 0, title: label }, rows);
    pre.setAttribute("aria-label", label);
    return pre;
  }
  /** What to draw for `r` (the page's st.result: {ok: the API's answer, dryRun} or {err}) about the file `text`
      named `fileName` (`json`: JSON text, else YAML). */
  L.resultNodes = function (r, text, fileName, json) {
    if (!r) return [];
    const mode = (x) => t(`topology.mode.${x.mode}.short`);
    if (r.ok) {
      const key = r.dryRun ? "topology.valid" : "topology.imported";
      return [el("p", { className: "ok-line", id: "topology-ok" }, t(key, { summary: L.countsOf(r.ok), mode: mode(r.ok) }))];
    }
    const err = r.err;
    if (!(err instanceof HH.ApiError) || err.authNeeded || err.status === 0) return [HH.errorBox(err, "topology.errors.failed")];
    const items = err.detail.map((d, n) => {
      const path = String(d.path || "").replace(/^body\.?/, "");
      const at = n < MAX_EXCERPTS ? L.locate(text, json, d) : null;
      return el("li", { dataset: { path } },
        el("code", { className: "err-path" }, path || t("topology.error.whole")), ": ",
        el("span", { className: "err-message" }, d.message),
        at ? el("span", { className: "err-line" }, ` (${t("topology.error.line", { line: HH.fmt(at.line + 1) })})`) : null,
        at ? excerpt(text, fileName, at) : null);
    });
    return [el("div", { className: "alert topo-errors" },
      el("p", { className: "err-title" }, `HTTP ${err.status} · ${t("topology.errors.title", { n: HH.fmt(err.detail.length) })}`),
      el("ul", { id: "topology-errors" }, items))];
  };

  HH.topologyParts = L;
})();
