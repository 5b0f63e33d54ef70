/* pages/settlement.js — #settlement[/center[/YYYY-MM]]: a center's settlement statement for a month (issue #17,
   item 4): the usage of its pools priced per pool (GET /api/v1/centers/{center_id}/statement), metered and
   already invoiced amounts, energy and carbon, downloadable as CSV. Operators: their own centers only (the API
   refuses another one); admins and the regulator: any center. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "settlement.nav": "结算",
      "settlement.title": "结算单",
      "settlement.intro": "按资源池计价的月度用量：已计量金额、已开票金额（平台应付运营方）、能耗与碳排放。月份按 UTC 计。",
      "settlement.center": "数据中心",
      "settlement.month": "月份",
      "settlement.show": "查询",
      "settlement.csv": "下载 CSV",
      "settlement.no_centers": "此账号未绑定任何数据中心。",
      "settlement.heading": "{center} · {month}",
      "settlement.operator": "运营方：{operator}",
      "settlement.empty": "该月此中心没有已计量的用量。",
      "settlement.total": "合计",
      "settlement.col.pool": "资源池",
      "settlement.col.price": "单价 (元/节点·时)",
      "settlement.col.jobs": "作业数",
      "settlement.col.node_hours": "节点·时",
      "settlement.col.gpu_hours": "GPU·时",
      "settlement.col.amount": "计量金额",
      "settlement.col.invoiced": "已开票",
      "settlement.col.energy": "能耗 (kWh)",
      "settlement.col.carbon": "碳排放 (kg)",
      "settlement.card.amount": "计量金额",
      "settlement.card.invoiced": "已开票（应结算）",
      "settlement.card.jobs": "作业数",
      "settlement.card.node_hours": "节点·时",
      "settlement.platform": "各运营方结算（{month}，已开票用量）",
      "settlement.platform_empty": "该月没有已开票的用量。",
      "settlement.col.operator": "运营方",
    },
    en: {
      "settlement.nav": "Settlement",
      "settlement.title": "Settlement statement",
      "settlement.intro": "A month's usage priced per pool: metered amount, amount already invoiced (what the platform owes the operator), energy and carbon. Months are UTC.",
      "settlement.center": "Center",
      "settlement.month": "Month",
      "settlement.show": "Show",
      "settlement.csv": "Download CSV",
      "settlement.no_centers": "This account is bound to no center.",
      "settlement.heading": "{center} · {month}",
      "settlement.operator": "Operator: {operator}",
      "settlement.empty": "No metered usage in this center this month.",
      "settlement.total": "Total",
      "settlement.col.pool": "Pool",
      "settlement.col.price": "Price (CNY/node-hour)",
      "settlement.col.jobs": "Jobs",
      "settlement.col.node_hours": "Node-hours",
      "settlement.col.gpu_hours": "GPU-hours",
      "settlement.col.amount": "Metered",
      "settlement.col.invoiced": "Invoiced",
      "settlement.col.energy": "Energy (kWh)",
      "settlement.col.carbon": "Carbon (kg)",
      "settlement.card.amount": "Metered amount",
      "settlement.card.invoiced": "Invoiced (to settle)",
      "settlement.card.jobs": "Jobs",
      "settlement.card.node_hours": "Node-hours",
      "settlement.platform": "Settlement per operator ({month}, invoiced usage)",
      "settlement.platform_empty": "No invoiced usage this month.",
      "settlement.col.operator": "Operator",
    },
  });

  const STATEMENT = "GET /api/v1/centers/{center_id}/statement";
  const PER_OPERATOR = "GET /api/v1/settlements";
  const t = HH.t;
  const el = HH.el;
  let centers = null;

  function thisMonth() {
    return new Date().toISOString().slice(0, 7);  // UTC, as the statement's months
  }
  function myCenters() {
    const me = HH.whoami;
    if (me && me.role === "operator") return centers.filter((c) => (me.centers || []).includes(c.id));
    return centers;
  }
  function card(label, value) {
    return el("div", { className: "card" }, el("div", { className: "card-label" }, label), el("div", { className: "card-value" }, value));
  }
  const num = (text) => ({ text, className: "num" });
  /** The table in a horizontally scrolling box reachable by keyboard (axe: scrollable-region-focusable). */
  function wrap(table) {
    const box = el("div", { className: "table-wrap", tabIndex: 0 }, table);
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", t("settlement.title"));
    return box;
  }

  function render(slot, st) {
    const rows = st.lines.map((x) => [
      [el("b", {}, x.pool_name || x.pool), el("div", { className: "code" }, x.pool)],
      num(HH.money(Number(x.price_cny_per_node_hour))), num(HH.fmt(x.jobs)), num(HH.sig(x.node_hours, 4)),
      num(HH.sig(x.gpu_hours, 4)), num(HH.money(Number(x.amount_cny))), num(HH.money(Number(x.invoiced_cny))),
      num(HH.sig(x.energy_kwh, 4)), num(HH.sig(x.carbon_kg, 4)),
    ]);
    if (rows.length) {
      rows.push([{ text: t("settlement.total"), className: "strong" }, "", num(HH.fmt(st.jobs)), num(HH.sig(st.node_hours, 4)), "",
        num(HH.money(Number(st.amount_cny))), num(HH.money(Number(st.invoiced_cny))), num(HH.sig(st.energy_kwh, 4)),
        num(HH.sig(st.carbon_kg, 4))]);
    }
    const table = HH.table([t("settlement.col.pool"), ...["price", "jobs", "node_hours", "gpu_hours", "amount", "invoiced", "energy", "carbon"]
      .map((k) => ({ text: t(`settlement.col.${k}`), num: true }))], rows, t("settlement.empty"));
    table.id = "settlement-table";
    slot.replaceChildren(
      el("section", { className: "section panel" },
        el("div", { className: "section-head" }, el("h3", {}, t("settlement.heading", { center: st.center_name || st.center, month: st.month }))),
        el("p", { className: "hint-line" }, t("settlement.operator", { operator: st.operator })),
        el("div", { className: "cards" },
          card(t("settlement.card.amount"), HH.money(Number(st.amount_cny))),
          card(t("settlement.card.invoiced"), HH.money(Number(st.invoiced_cny))),
          card(t("settlement.card.jobs"), HH.fmt(st.jobs)),
          card(t("settlement.card.node_hours"), HH.sig(st.node_hours, 4))),
        wrap(table)));
  }

  /** Admins and the regulator: what the platform owes each operator for the month (GET /api/v1/settlements). */
  async function renderPlatform(slot, month) {
    const items = await HH.api(`/api/v1/settlements${HH.query({ month })}`);
    const rows = items.map((x) => [x.operator, num(HH.fmt(x.jobs)), num(HH.fmt(x.node_hours, 2)),
      num(HH.money(Number(x.billed_cny))), num(HH.fmt(x.energy_kwh, 1)), num(HH.fmt(x.carbon_kg, 1))]);
    const table = HH.table([t("settlement.col.operator"), ...["jobs", "node_hours", "invoiced", "energy", "carbon"]
      .map((k) => ({ text: t(`settlement.col.${k}`), num: true }))], rows, t("settlement.platform_empty"));
    table.id = "settlement-operators";
    const box = wrap(table);
    box.setAttribute("aria-label", t("settlement.platform", { month }));
    slot.replaceChildren(el("section", { className: "section panel" },
      el("div", { className: "section-head" }, el("h3", {}, t("settlement.platform", { month }))), box));
  }

  const fresh = HH.latest();  // a later show (another center or month) overtakes one still waiting: it draws nothing
  async function show(params, root) {
    const latest = fresh();
    await HH.ready;
    if (!centers) centers = (await HH.api("/api/v1/centers?limit=1000")).items;
    if (!latest()) return;
    const mine = myCenters();
    const center = params[0] && mine.some((c) => c.id === params[0]) ? params[0] : (mine[0] && mine[0].id);
    const month = /^\d{4}-\d{2}$/.test(params[1] || "") ? params[1] : thisMonth();
    const select = el("select", { id: "settlement-center" }, mine.map((c) => el("option", { value: c.id }, `${HH.named(c)} (${c.id})`)));
    const monthInput = el("input", { type: "month", id: "settlement-month", value: month });
    const go = el("button", { type: "submit", className: "primary" }, t("settlement.show"));
    const csv = el("button", { type: "button", className: "small", id: "settlement-csv" }, t("settlement.csv"));
    const error = el("div", { id: "settlement-error" });
    const body = el("div", { id: "settlement-body" });
    const platform = el("div", { id: "settlement-platform" });
    const form = el("form", { className: "section-head", id: "settlement-form" },
      el("label", { className: "inline", htmlFor: "settlement-center" }, t("settlement.center")), select,
      el("label", { className: "inline", htmlFor: "settlement-month" }, t("settlement.month")), monthInput, go, csv);
    root.replaceChildren(
      el("section", { className: "section" }, el("div", { className: "section-head" }, el("h2", {}, t("settlement.title"))),
        el("p", { className: "hint-line" }, t("settlement.intro")), form),
      error, body, platform);
    if (!center) {
      body.replaceChildren(el("p", { className: "notice" }, t("settlement.no_centers")));
      form.hidden = true;
      return;
    }
    select.value = center;
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      location.hash = `#settlement/${encodeURIComponent(select.value)}/${encodeURIComponent(monthInput.value || thisMonth())}`;
    });
    const path = `/api/v1/centers/${encodeURIComponent(center)}/statement`;
    csv.addEventListener("click", () => {
      HH.download(`${path}${HH.query({ month, format: "csv" })}`, `statement-${center}-${month}.csv`)
        .catch((err) => HH.showError(error, err));
    });
    try {
      render(body, await HH.api(`${path}${HH.query({ month })}`));
      if (HH.can(PER_OPERATOR)) await renderPlatform(platform, month);
    } catch (err) {
      HH.showError(error, err);
    }
  }

  const page = HH.registerPage({ name: "settlement", nav: "settlement.nav", needs: [STATEMENT], calls: ["GET /api/v1/centers", STATEMENT, PER_OPERATOR], show, relang: true });

  // Work-around (framework race, reported): the menu is drawn when HH.ready resolves, which can happen before
  // this script registered the page; then add this page's entry as renderNav would (the next language switch
  // redraws the whole menu in order).
  HH.ready.then(() => {
    const nav = document.querySelector(".nav");
    if (!nav || nav.querySelector('a[data-nav="settlement"]') || !page.needs.every((c) => HH.can(c))) return;
    const link = HH.el("a", { href: "#settlement", dataset: { nav: "settlement", i18n: page.nav } }, HH.t(page.nav));
    nav.insertBefore(link, nav.querySelector('a[href="/docs"]'));
    if (HH.view === "settlement") { link.classList.add("active"); link.setAttribute("aria-current", "page"); }
  });
})();
