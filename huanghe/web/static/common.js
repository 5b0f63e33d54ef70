/* Shared by the console's pages (window.HH): language, formatting, DOM building, API calls, hash routing.
   Language: ?lang=en|zh-CN, else localStorage "huanghe.lang", else zh-CN.
   Views: #jobs → jobs, #observatory → observatory, anything else → the network view (overview, map, centers). */
(function () {
  "use strict";

  const I18N = window.HUANGHE_I18N;
  const STORAGE_KEY = "huanghe.lang";
  const VIEWS = ["network", "jobs", "observatory"];
  const langListeners = [];
  const viewListeners = [];

  function normalizeLang(value) {
    if (!value) return null;
    const v = value.toLowerCase();
    return v.startsWith("en") ? "en" : v.startsWith("zh") ? "zh-CN" : null;
  }
  function pickLang() {
    const asked = new URLSearchParams(location.search).get("lang");
    const stored = localStorage.getItem(STORAGE_KEY);
    return [asked, stored].map(normalizeLang).find(Boolean) || "zh-CN";
  }

  const HH = { lang: pickLang(), view: "network" };

  /** The text of `key` in the current language, `{name}` fields filled from `vars`. */
  HH.t = function (key, vars) {
    const text = (I18N[HH.lang] && I18N[HH.lang][key]) || I18N["zh-CN"][key] || key;
    return text.replace(/\{(\w+)\}/g, (_, k) => (vars && k in vars ? vars[k] : ""));
  };
  /** The translation of a code from the API (`prefix.value`), or the code itself when there is none. */
  HH.label = (prefix, value) => (I18N["zh-CN"][`${prefix}.${value}`] ? HH.t(`${prefix}.${value}`) : String(value));
  /** A translated code followed by the code itself, small and monospaced (for people who read the API). */
  HH.coded = (prefix, value) => {
    const text = HH.label(prefix, value);
    return text === String(value) ? [HH.el("span", { className: "mono" }, text)] : [text, " ", HH.el("span", { className: "code" }, value)];
  };
  HH.applyStaticText = function () {
    document.documentElement.lang = HH.lang;
    document.title = HH.t("app.title");
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = HH.t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-title]").forEach((el) => { el.title = HH.t(el.dataset.i18nTitle); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = HH.t(el.dataset.i18nPlaceholder); });
  };
  HH.setLang = function (lang) {
    HH.lang = lang;
    localStorage.setItem(STORAGE_KEY, lang);
    const url = new URL(location.href);
    url.searchParams.set("lang", lang);
    history.replaceState(null, "", url);
    HH.applyStaticText();
    langListeners.forEach((fn) => fn());
  };
  /** Call `fn` after every language switch (static texts are already translated then). */
  HH.onLang = (fn) => langListeners.push(fn);

  // ---- formatting -----------------------------------------------------------------------------------------
  HH.fmt = (n, digits) =>
    n == null || Number.isNaN(n) ? "–" : n.toLocaleString(HH.lang, { maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0 });
  /** `n` with at most `digits` significant digits (small costs stay readable). */
  HH.sig = (n, digits) => (n == null || Number.isNaN(n) ? "–" : n.toLocaleString(HH.lang, { maximumSignificantDigits: digits || 3 }));
  HH.pct = (share, digits) => (share == null ? "–" : HH.fmt(share * 100, digits == null ? 1 : digits) + " %");
  HH.named = (obj) => (obj ? (HH.lang === "en" ? obj.name_en || obj.name_zh : obj.name_zh) : "");
  /** Seconds since the epoch (or an ISO string) as local date and time. */
  HH.time = (value) => {
    if (value == null) return "–";
    const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return d.toLocaleString(HH.lang, { hour12: false });
  };
  HH.escapeHtml = (s) =>
    String(s).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);

  /** A DOM element: `attrs` sets properties (className, title, ...) and `dataset`; children are nodes or text. */
  HH.el = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (v != null) node[k] = v;
    }
    node.append(...children.flat(Infinity).filter((c) => c != null).map((c) => (c instanceof Node ? c : String(c))));
    return node;
  };
  /** A table from column labels and rows of cells (text, a node, a list of them, or {text, className}). */
  HH.table = function (labels, rows, emptyText) {
    const head = HH.el("tr", {}, labels.map((l) => HH.el("th", { className: l.num ? "num" : "" }, l.text || l)));
    const td = (c) => (c && typeof c === "object" && !(c instanceof Node) && !Array.isArray(c)
      ? HH.el("td", { className: c.className || "" }, c.text) : HH.el("td", {}, c));
    const body = rows.map((cells) => HH.el("tr", {}, cells.map(td)));
    if (!rows.length && emptyText) body.push(HH.el("tr", { className: "empty" }, HH.el("td", { colSpan: labels.length }, emptyText)));
    return HH.el("table", { className: "grid plain" }, HH.el("thead", {}, head), HH.el("tbody", {}, body));
  };

  // ---- API ------------------------------------------------------------------------------------------------
  /** An API answer that is not 2xx: `status` and the API's `detail` list of {path, message}. */
  class ApiError extends Error {
    constructor(status, detail) {
      const first = detail[0] ? ": " + detail[0].message : "";
      super(status ? `HTTP ${status}${first}` : first.slice(2));
      this.status = status;
      this.detail = detail;
    }
    get authNeeded() { return this.status === 401 || this.status === 403; }
  }
  HH.ApiError = ApiError;
  function cookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
  }
  /** JSON from the API; throws ApiError (also for a network failure, status 0). Sends the CSRF token when mutating. */
  HH.api = async function (path, options) {
    const opts = options || {};
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    const method = opts.method || "GET";
    if (method !== "GET") {
      const csrf = cookie("huanghe_csrf");
      if (csrf) headers["X-CSRF-Token"] = csrf;
    }
    let body;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let resp;
    try {
      resp = await fetch(path, { method, headers, body, credentials: "same-origin" });
    } catch (err) {
      throw new ApiError(0, [{ path: "", message: HH.t("error.network") }]);
    }
    const data = await resp.json().catch(() => null);
    if (resp.ok) return data;
    let detail = data && data.detail;
    if (!Array.isArray(detail)) detail = [{ path: "", message: typeof detail === "string" ? detail : resp.statusText }];
    throw new ApiError(resp.status, detail);
  };
  /** A box explaining `err`: a log-in prompt with a link to /login on 401/403, else the error itself. */
  HH.errorBox = function (err, whatKey) {
    if (err instanceof ApiError && err.authNeeded) {
      return HH.el("div", { className: "alert auth" },
        HH.t(err.status === 401 ? "auth.login_needed" : "auth.forbidden"), " ",
        HH.el("a", { href: "/login" }, HH.t("auth.login_link")));
    }
    return HH.el("div", { className: "alert" }, HH.t(whatKey || "error.request", { detail: err.message || String(err) }));
  };
  /** Replace the children of `slot` by an error box for `err` (or clear it when `err` is null). */
  HH.showError = function (slot, err, whatKey) {
    slot.replaceChildren(...(err ? [HH.errorBox(err, whatKey)] : []));
  };

  let topologyResolve;
  /** The network (GET /api/v1/topology, read once by app.js), or null when it could not be read. */
  HH.topology = new Promise((resolve) => { topologyResolve = resolve; });
  HH.setTopology = (topo) => topologyResolve(topo);

  // ---- routing --------------------------------------------------------------------------------------------
  function viewOf(hash) {
    const name = (hash || "").replace(/^#/, "");
    return VIEWS.includes(name) ? name : "network";
  }
  function route() {
    HH.view = viewOf(location.hash);
    document.querySelectorAll("[data-view]").forEach((el) => { el.hidden = el.dataset.view !== HH.view; });
    document.querySelectorAll(".nav a[data-nav]").forEach((a) => {
      a.classList.toggle("active", a.dataset.nav === HH.view && (HH.view !== "network" || a.getAttribute("href") === (location.hash || "#overview")));
    });
    viewListeners.forEach((fn) => fn(HH.view));
    const anchor = location.hash && HH.view === "network" ? document.getElementById(location.hash.slice(1)) : null;
    if (anchor) anchor.scrollIntoView();
  }
  /** Call `fn(view)` whenever the shown view changes (and once at start). */
  HH.onView = (fn) => viewListeners.push(fn);
  HH.startRouting = function () {
    window.addEventListener("hashchange", route);
    route();
  };

  window.HH = HH;
})();
