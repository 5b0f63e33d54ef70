/* Shared by the console's pages (window.HH): language, formatting, DOM building, API calls, hash routing.
   Language: ?lang=en|zh-CN, else localStorage "huanghe.lang", else zh-CN.
   Views: #jobs → jobs, #observatory → observatory, #<page>[/param...] → a page registered by pages/*.js
   (HH.registerPage), anything else → the network view (overview, map, centers). The menu shows the pages whose
   API calls the caller's role may make (GET /api/v1/auth/capabilities). */
(function () {
  "use strict";

  const I18N = window.HUANGHE_I18N;
  const STORAGE_KEY = "huanghe.lang";
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
    document.querySelectorAll("[data-i18n-aria]").forEach((el) => { el.setAttribute("aria-label", HH.t(el.dataset.i18nAria)); });
  };
  HH.setLang = function (lang) {
    HH.lang = lang;
    localStorage.setItem(STORAGE_KEY, lang);
    const url = new URL(location.href);
    url.searchParams.set("lang", lang);
    history.replaceState(null, "", url);
    HH.applyStaticText();
    const out = redrawInLang();
    Promise.resolve(out).then(() => { langDrawn += 1; document.body.dataset.langDrawn = String(langDrawn); });
  };
  let langDrawn = 0;  // language switches whose redraws are done (body[data-lang-drawn]: a mark for tests)
  /** After a language switch: the listeners' redraws, and the shown page's own (`show` again, when it registered
      with `relang: true`), keeping what the user typed into the shown page and has not sent (HH.keepInputs,
      form_state.js): the one place every page goes through. What was typed is put back once every redraw that
      returned a promise settled (so a listener must return its redraw's promise). */
  function redrawInLang() {
    const page = HH.pages.find((p) => p.name === HH.view);
    const redraw = () => {
      const outs = langListeners.map((fn) => fn());
      if (page && page.relang && routingReady) outs.push(showPage(page));
      const running = outs.filter((o) => o && typeof o.then === "function");
      return running.length ? Promise.allSettled(running) : undefined;
    };
    return page ? HH.keepInputs(page.el, redraw) : redraw();
  }
  /** Call `fn` after every language switch (static texts are already translated then); a redraw that runs on
      after `fn` returns is returned as a promise (see redrawInLang). */
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

  // ---- strings of page modules ------------------------------------------------------------------------------
  /** Add a page's strings: `{"zh-CN": {key: text}, en: {key: text}}` (pages/*.js call this first). */
  HH.addStrings = function (tables) {
    for (const lang of ["zh-CN", "en"]) Object.assign(I18N[lang], (tables && tables[lang]) || {});
  };
  /** Keys asked for that the current language lacks (a test reads this: it must stay empty). */
  HH.missing = [];
  const plainT = HH.t;
  HH.t = function (key, vars) {
    if (!(I18N[HH.lang] && key in I18N[HH.lang]) && !HH.missing.includes(`${HH.lang}:${key}`)) HH.missing.push(`${HH.lang}:${key}`);
    return plainT(key, vars);
  };

  // ---- who is calling, and what may they do ----------------------------------------------------------------
  /** The caller (GET /api/v1/auth/whoami): {name, role, tenant, centers, ...}, or null when not logged in. */
  HH.me = HH.api("/api/v1/auth/whoami").catch(() => null);
  /** Routes the caller may call ("METHOD /api/v1/path/{template}"), from GET /api/v1/auth/capabilities;
      when not logged in, the public ones only (the server decides; this only shapes the menu). */
  HH.caps = HH.api("/api/v1/auth/capabilities").then((c) => new Set(c.routes)).catch(() => new Set(PUBLIC_CALLS));
  const PUBLIC_CALLS = ["GET /api/v1/topology", "GET /api/v1/centers", "GET /api/v1/pools", "GET /api/v1/backends"];
  let capsNow = new Set(PUBLIC_CALLS);
  /** Whether the caller may call `call` ("METHOD /api/v1/route/{template}") — after HH.ready. */
  HH.can = (call) => capsNow.has(call);

  // ---- pages and routing ------------------------------------------------------------------------------------
  /** Registered pages, in menu order. A page: {name, nav (i18n key of its menu entry, none = not in the menu),
      needs: calls it cannot work without (menu entry shown only when all are allowed), calls: every API call it
      makes ("METHOD /api/v1/route/{template}", read by the reachability test), show(params, el) called each
      time it is opened (#name/param1/param2 → params ["param1", "param2"]), el: its <div data-view>, parent: the
      view whose menu entry is lit while it shows (detail pages), unless: calls (same form as needs) that, when
      the caller may make them all, hide the menu entry because another page of theirs does the same thing and
      more (one entry per thing: the admin's Storage page covers the operator's Center storage); the page stays
      open to its address; relang: true = a language switch while it shows draws it anew with `show`, keeping
      what was typed (a page redrawing otherwise returns its redraw from its HH.onLang listener)}. */
  HH.pages = [];
  const STATIC_VIEWS = {
    network: { nav: "nav.overview", href: "#overview", needs: [] },
    jobs: { nav: "nav.jobs", needs: ["GET /api/v1/jobs"] },
    observatory: { nav: "nav.observatory", needs: ["GET /api/v1/observatory/indicators"] },
  };
  /** API calls of the scripts that are not pages (common.js, app.js, jobs.js, observatory.js), by view:
      `HH.registerCalls(view, [call, ...])` ("common" = every view). Read by the reachability
      test (tests/test_console_reachability.py parses these blocks) as a page's `calls` are. */
  HH.calls = {};
  HH.registerCalls = function (view, calls) {
    HH.calls[view] = (HH.calls[view] || []).concat(calls);
  };
  HH.registerCalls("common", [
    "GET /api/v1/auth/whoami",
    "GET /api/v1/auth/capabilities",
    "POST /logout",
  ]);
  /** Register a page (see HH.pages); creates its container in <main> unless one with data-view=name exists. */
  HH.registerPage = function (def) {
    let el = document.querySelector(`[data-view="${def.name}"]`);
    if (!el) {
      el = HH.el("div", { className: "section page", hidden: true, dataset: { view: def.name } });
      el.id = `page-${def.name}`;
      document.querySelector("main").append(el);
    }
    const page = Object.assign({ needs: [], unless: [], calls: [], el }, def);
    HH.pages.push(page);
    if (navDrawn) renderNav();  // a page registered late (after HH.ready): in the menu all the same
    return page;
  };
  function viewOf(hash) {
    const name = (hash || "").replace(/^#/, "").split("/")[0];
    if (name in STATIC_VIEWS || HH.pages.some((p) => p.name === name)) return name;
    return "network";
  }
  function allowed(needs) { return (needs || []).every((c) => capsNow.has(c)); }
  /** A page in the caller's menu: its needs all allowed, and not covered by a fuller page (`unless` all allowed). */
  function inMenu(p) { return Boolean(p.nav) && allowed(p.needs) && !(p.unless.length && allowed(p.unless)); }
  /** The menu: the network, then every page whose needs the caller's role may call (and no fuller page of theirs
      covers: `unless`), then the API docs. */
  function renderNav() {
    const nav = document.querySelector(".nav");
    if (!nav) return;
    const links = [];
    for (const [name, v] of Object.entries(STATIC_VIEWS)) {
      if (allowed(v.needs)) links.push(HH.el("a", { href: v.href || `#${name}`, dataset: { nav: name, i18n: v.nav } }, HH.t(v.nav)));
    }
    if (allowed(STATIC_VIEWS.network.needs)) {
      links.splice(1, 0, HH.el("a", { href: "#map", dataset: { nav: "network", i18n: "nav.map" } }, HH.t("nav.map")),
        HH.el("a", { href: "#centers", dataset: { nav: "network", i18n: "nav.centers" } }, HH.t("nav.centers")));
    }
    for (const p of HH.pages) {
      if (inMenu(p)) links.push(HH.el("a", { href: `#${p.name}`, dataset: { nav: p.name, i18n: p.nav } }, HH.t(p.nav)));
    }
    links.push(HH.el("a", { href: "/docs", dataset: { i18n: "nav.api" } }, HH.t("nav.api")));
    nav.replaceChildren(...links);
    markActive();
  }
  function markActive() {
    // a detail page without a menu entry (a job, a transfer) lights its `parent`'s entry
    const page = HH.pages.find((p) => p.name === HH.view);
    const current = (page && page.parent) || HH.view;
    document.querySelectorAll(".nav a[data-nav]").forEach((a) => {
      const on = a.dataset.nav === current && (current !== "network" || a.getAttribute("href") === (location.hash || "#overview"));
      a.classList.toggle("active", on);
      if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
  }
  /** Who is logged in, and log out; or a link to log in. */
  function renderUser(me) {
    const box = document.getElementById("user-box");
    if (!box) return;
    if (!me) {
      box.replaceChildren(HH.el("a", { href: "/login", className: "login-link" }, HH.t("auth.login_link")));
      return;
    }
    const role = HH.el("span", { className: "role" }, HH.t(`role.${me.role}`));
    const who = HH.el("span", { className: "who", title: me.tenant ? `${me.name} · ${me.tenant}` : me.name }, me.name);
    const parts = [who, role];
    if (me.token_id != null) {
      const out = HH.el("button", { type: "button", className: "logout" }, HH.t("auth.logout"));
      out.addEventListener("click", async () => {
        const csrf = cookie("huanghe_csrf");
        await fetch("/logout", { method: "POST", headers: csrf ? { "X-CSRF-Token": csrf } : {}, credentials: "same-origin" }).catch(() => null);
        location.href = "/login";
      });
      parts.push(out);
    }
    box.replaceChildren(...parts);
  }
  /** The phone-width menu: a button opens and closes it (style.css shows the menu always on wider screens). */
  function setMenuOpen(open) {
    const toggle = document.getElementById("menu-toggle");
    document.body.classList.toggle("menu-open", open);
    if (toggle) toggle.setAttribute("aria-expanded", String(open));
  }
  function route() {
    setMenuOpen(false);
    HH.view = viewOf(location.hash);
    HH.params = (location.hash || "").replace(/^#/, "").split("/").slice(1).map(decodeURIComponent);
    document.querySelectorAll("[data-view]").forEach((el) => { el.hidden = el.dataset.view !== HH.view; });
    markActive();
    viewListeners.forEach((fn) => fn(HH.view));
    const page = HH.pages.find((p) => p.name === HH.view);
    // a page opens once the caller's capabilities are known (its HH.can answers are right then), and once per
    // navigation: a second show() racing the first would redraw a form while someone types in it
    if (page && page.show && routingReady) showPage(page);
    const anchor = location.hash && HH.view === "network" ? document.getElementById(location.hash.slice(1)) : null;
    if (anchor) anchor.scrollIntoView();
  }
  /** `page` drawn by its `show` with the address's params; an error shown at the page's top. */
  function showPage(page) {
    return Promise.resolve(page.show(HH.params || [], page.el)).catch((err) => { page.el.prepend(HH.errorBox(err)); });
  }
  /** Call `fn(view)` whenever the shown view changes (and once at start). */
  HH.onView = (fn) => viewListeners.push(fn);
  /** Resolves after every script of the page ran (all pages registered: index.html loads them before app.js). */
  const scriptsDone = new Promise((resolve) => {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", resolve, { once: true });
    else resolve();
  });
  let navDrawn = false;
  /** Resolves once the caller and their capabilities are known, every page is registered and the menu drawn
      (the answers can come before the last page script ran: the menu waits for the scripts too). */
  HH.ready = Promise.all([HH.me, HH.caps, scriptsDone]).then(([me, caps]) => {
    navDrawn = true;
    capsNow = caps;
    HH.whoami = me;
    renderNav();
    renderUser(me);
    document.body.dataset.role = me ? me.role : "anonymous";
  });
  let routingReady = false;
  HH.startRouting = function () {
    window.addEventListener("hashchange", route);
    const toggle = document.getElementById("menu-toggle");
    if (toggle) toggle.addEventListener("click", () => setMenuOpen(!document.body.classList.contains("menu-open")));
    HH.onLang(() => { renderNav(); HH.whoami !== undefined && renderUser(HH.whoami); });
    HH.ready.then(() => { routingReady = true; route(); });
    route();
  };

  // ---- keyboard access to what scrolls ------------------------------------------------------------------------
  /* A box that scrolls sideways (every `.table-wrap` at a phone's width) must be reachable from the keyboard
     (axe: scrollable-region-focusable): each one any script adds gets tabindex=0, whoever made it. */
  const SCROLLERS = ".table-wrap:not([tabindex]), [data-scroll]:not([tabindex])";
  let scrollPending = false;
  function focusableScrollers() {
    scrollPending = false;
    document.querySelectorAll(SCROLLERS).forEach((box) => { box.tabIndex = 0; });
  }
  new MutationObserver(() => {
    if (!scrollPending) { scrollPending = true; queueMicrotask(focusableScrollers); }
  }).observe(document.documentElement, { childList: true, subtree: true });
  focusableScrollers();

  // ---- helpers for page modules ------------------------------------------------------------------------------
  /** A table's scrolling box (class `cls`): focusable, so that it scrolls from the keyboard too (axe:
      scrollable-region-focusable), a region named by the table's first two column headers. */
  HH.scrollWrap = (cls, table) => {
    const box = HH.el("div", { className: cls, tabIndex: 0 }, table);
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", table.querySelector("th") ? [...table.querySelectorAll("th")].slice(0, 2).map((th) => th.textContent).join(" · ") : cls);
    return box;
  };
  /** Query string from an object, leaving out null/undefined/"" values. */
  HH.query = (params) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v != null && v !== "") q.set(k, v);
    const text = q.toString();
    return text ? `?${text}` : "";
  };
  /** Money in yuan in the locale ("¥1,234.50"). */
  HH.money = (cny) => (cny == null || Number.isNaN(cny) ? "–" : Number(cny).toLocaleString(HH.lang, { style: "currency", currency: "CNY" }));
  /** Paging controls for a Page {items, total, limit, offset}: calls go(offset) on previous/next. */
  HH.pager = function (page, go) {
    const from = page.total ? page.offset + 1 : 0;
    const to = page.offset + page.items.length;
    const prev = HH.el("button", { type: "button", className: "pager-prev", disabled: page.offset <= 0 }, HH.t("pager.prev"));
    const next = HH.el("button", { type: "button", className: "pager-next", disabled: to >= page.total }, HH.t("pager.next"));
    prev.addEventListener("click", () => go(Math.max(0, page.offset - page.limit)));
    next.addEventListener("click", () => go(page.offset + page.limit));
    return HH.el("div", { className: "pager" }, prev,
      HH.el("span", { className: "count" }, HH.t("pager.range", { from: HH.fmt(from), to: HH.fmt(to), total: HH.fmt(page.total) })), next);
  };
  /** Sector keys as the industries' names (`industries`: [{key, name_zh, name_en}]) in a span of class `cls`;
      a key not in the list (older free text) as written, marked by `unlisted` with `hint` as its title. */
  HH.sectorNames = function (keys, industries, cls, unlisted, hint) {
    return HH.el("span", { className: cls }, keys.map((key, i) => {
      const known = industries.find((x) => x.key === key);
      const item = known ? HH.el("span", { dataset: { sector: key } }, HH.named(known))
        : HH.el("span", { className: "sector-unlisted", dataset: { sector: key }, title: hint }, key, " ", HH.el("small", {}, `(${unlisted})`));
      return i ? [HH.lang === "en" ? ", " : "、", item] : item;
    }));
  };
  /** Download the answer of GET `path` as a file named `filename` (PDF, CSV: anything not JSON). */
  HH.download = async function (path, filename) {
    const resp = await fetch(path, { credentials: "same-origin" });
    if (!resp.ok) {
      const data = await resp.json().catch(() => null);
      throw new ApiError(resp.status, Array.isArray(data && data.detail) ? data.detail : [{ path: "", message: resp.statusText }]);
    }
    const url = URL.createObjectURL(await resp.blob());
    const a = HH.el("a", { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };

  window.HH = HH;
})();
